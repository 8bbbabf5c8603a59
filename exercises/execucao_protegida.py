"""Execução dos notebooks dos alunos com limites, para `nbgrader autograde` nunca travar a turma.

O `nbgrader_config.py` desta pasta troca o pré-processador `Execute` do nbgrader por
`ExecucaoProtegida`, que acrescenta três proteções ao que o nbgrader já faz:

1. **Saída limitada já na chegada.** O nbgrader só corta a saída (`LimitOutput`, por número
   de linhas) depois que o notebook inteiro rodou; até lá, um `print` num laço infinito ou um
   `print` de 50 MB numa linha só ficam inteiros na memória e no notebook corrigido. Aqui cada
   célula guarda no máximo `max_caracteres_saida` caracteres; o resto é descartado assim que
   chega, com um aviso no lugar.
2. **Kernel que não obedece à interrupção é reiniciado.** Quando uma célula passa do tempo
   (`Execute.timeout`), o nbgrader interrompe o kernel e segue. Mas se o código do aluno
   captura `KeyboardInterrupt` (ou está preso numa chamada que não volta), o kernel continua
   ocupado, o nbgrader desiste do aluno inteiro e apaga a correção dele. Aqui o kernel é
   reiniciado, a célula recebe um erro explicando o que houve e a correção continua (as
   variáveis definidas antes se perdem, então as células seguintes tendem a falhar). O mesmo
   vale para um kernel que morre (falta de memória, `os._exit`).
3. **Prazo total por notebook.** Um laço infinito chamado em várias células custaria
   `timeout` segundos em cada uma. Passado `tempo_total_notebook`, cada célula restante tem só
   `tempo_minimo_celula` segundos.
"""

from __future__ import annotations

import asyncio
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets import Integer

__all__ = ["ExecucaoProtegida", "preprocessadores_da_correcao"]

AVISO_SAIDA_TRUNCADA = (
    "\n[corretor] ... saída truncada: esta célula passou de {limite} caracteres de saída; "
    "o restante foi descartado ...\n"
)


def _tamanho_da_saida(conteudo: dict) -> int:
    """Quantos caracteres uma mensagem de saída do kernel ocupa (texto, dados ou erro)."""
    if "text" in conteudo:  # stream
        return len(conteudo["text"])
    if "data" in conteudo:  # execute_result, display_data
        return sum(len(str(valor)) for valor in conteudo["data"].values())
    if "traceback" in conteudo:  # error
        return len(str(conteudo.get("evalue", ""))) + sum(len(linha) for linha in conteudo["traceback"])
    return 0


def _encurtar(texto: str, limite: int) -> str:
    if len(texto) <= limite:
        return texto
    return texto[:limite] + f" ... [corretor: {len(texto) - limite} caracteres omitidos]"


class ExecucaoProtegida(Execute):
    """O `Execute` do nbgrader com saída limitada, reinício de kernel travado e prazo total."""

    max_caracteres_saida = Integer(
        20_000,
        help="Máximo de caracteres de saída guardados por célula (-1: sem limite).",
    ).tag(config=True)

    tempo_total_notebook = Integer(
        600,
        help=(
            "Segundos de execução por notebook; esgotado o prazo, cada célula restante tem só "
            "`tempo_minimo_celula` segundos (-1: sem prazo total)."
        ),
    ).tag(config=True)

    tempo_minimo_celula = Integer(
        5, help="Tempo de cada célula depois que o prazo total do notebook se esgota."
    ).tag(config=True)

    tempo_reinicio_kernel = Integer(
        60, help="Segundos para esperar o kernel reiniciado ficar pronto."
    ).tag(config=True)

    # ------------------------------------------------------------------ prazo total

    def preprocess(self, nb, resources=None, km=None):
        self._prazo = monotonic() + self.tempo_total_notebook if self.tempo_total_notebook > 0 else None
        self._usado: dict[int, int] = {}
        self._tarefa_saida = None
        inicio = monotonic()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            info = (resources or {}).get("nbgrader", {})
            nome = "/".join(str(info.get(chave, "?")) for chave in ("student", "assignment", "notebook"))
            self.log.info("[corretor] %s executado em %.1f s", nome, monotonic() - inicio)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        prazo = getattr(self, "_prazo", None)
        if prazo is None or cell is None:
            return timeout
        restante = max(self.tempo_minimo_celula, int(prazo - monotonic()))
        return restante if timeout is None else min(timeout, restante)

    # ------------------------------------------------------------------ saída limitada

    def output(self, outs, msg, display_id, cell_index):
        limite = self.max_caracteres_saida
        if limite < 0:
            return super().output(outs, msg, display_id, cell_index)
        conteudo = msg.get("content", {})
        usado = self._usado.get(cell_index, 0)
        tamanho = _tamanho_da_saida(conteudo)
        self._usado[cell_index] = usado + tamanho
        if msg.get("msg_type") == "error":
            # Erros sempre ficam (são a explicação da nota), mas encurtados.
            conteudo["evalue"] = _encurtar(str(conteudo.get("evalue", "")), limite)
            conteudo["traceback"] = [_encurtar(linha, limite) for linha in conteudo.get("traceback", [])]
            return super().output(outs, msg, display_id, cell_index)
        if usado + tamanho <= limite:
            return super().output(outs, msg, display_id, cell_index)
        aviso_ja_dado = usado > limite
        if msg.get("msg_type") == "stream" and not aviso_ja_dado:
            conteudo["text"] = conteudo["text"][: max(0, limite - usado)]
            super().output(outs, msg, display_id, cell_index)
        if not aviso_ja_dado:
            outs.append(
                NotebookNode(
                    output_type="stream", name="stderr", text=AVISO_SAIDA_TRUNCADA.format(limite=limite)
                )
            )
        return None

    # ------------------------------------------------------------------ kernel travado ou morto

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        # Guarda a tarefa que lê as saídas desta célula, para cancelá-la se o kernel travar.
        self._tarefa_saida = asyncio.current_task()
        return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self._usado[cell_index] = 0
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (CellTimeoutError, DeadKernelError) as erro:
            motivo = (
                "o kernel morreu (falta de memória? os._exit?)"
                if isinstance(erro, DeadKernelError)
                else "a célula passou do tempo e o kernel não obedeceu à interrupção"
            )
            self.log.error("Célula %s: %s; reiniciando o kernel.", cell_index, motivo)
            if self._tarefa_saida is not None:
                self._tarefa_saida.cancel()
                self._tarefa_saida = None
            await ensure_async(self.km.restart_kernel(now=True))
            await ensure_async(self.kc.wait_for_ready(timeout=self.tempo_reinicio_kernel))
            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=type(erro).__name__,
                    evalue=f"{motivo}; o kernel foi reiniciado",
                    traceback=[
                        f"{type(erro).__name__}: {motivo}.",
                        "[corretor] O kernel foi reiniciado e a correção continuou; as variáveis "
                        "definidas antes desta célula se perderam.",
                    ],
                )
            )
            self.nb["cells"][cell_index] = cell
            return cell

    execute_cell = run_sync(async_execute_cell)


def preprocessadores_da_correcao() -> list:
    """A lista padrão de pré-processadores do `nbgrader autograde`, com `ExecucaoProtegida` no lugar de `Execute`."""
    padrao = Autograde.class_traits()["autograde_preprocessors"].default()
    return [ExecucaoProtegida if classe is Execute else classe for classe in padrao]
