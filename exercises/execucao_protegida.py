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
4. **Tempo de cada célula medido, não chutado.** `tempos_solucoes.json` (gerado por
   `python corrigir.py --medir-tempos`) guarda quanto cada célula das soluções levou; o limite
   de uma célula é `margem_tempo` vezes isso, com um piso de `piso_tempo` segundos. Células sem
   medição (as que o aluno criou, atividades novas) ficam com `Execute.timeout`. Depois que
   uma célula estoura o tempo, as seguintes do mesmo notebook têm no máximo o piso.
5. **Aviso e barra de progresso não zeram a nota.** O nbgrader dá zero a uma célula de teste
   com qualquer saída em *stderr*; aqui o que chega em stderr é guardado como stdout (o texto
   continua visível). Erros de verdade (exceções, asserts que falham) continuam valendo zero.

Para a devolutiva (`nbgrader generate_feedback`), `OcultarTestesOcultos` tira dos testes o
trecho oculto e, nas células de teste, troca o traceback (que mostraria as linhas do teste) pela
mensagem do erro. `SobrescreverCelulas` é o `OverwriteCells` do nbgrader sem o aviso de
"checksum" que aparece em toda célula de teste com parte oculta, de todo aluno: quem editou uma
célula travada é apontado, com o nome da célula, por `verificar_entregas.py`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float, Integer, List, Unicode

__all__ = [
    "ExecucaoProtegida", "OcultarTestesOcultos", "SobrescreverCelulas", "preprocessadores_da_correcao",
    "preprocessadores_da_limpeza", "preprocessadores_da_devolutiva",
    "limites_por_celula", "sem_testes_ocultos", "ERROS_DE_EXECUCAO",
]

INICIO_OCULTOS, FIM_OCULTOS = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
AVISO_OCULTOS = "# [testes ocultos: rodaram na correção, mas o código deles não é mostrado]"
ERROS_DE_EXECUCAO = ("CellTimeoutError", "DeadKernelError")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

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


def limites_por_celula(arquivo: str | Path, margem: float, piso: int) -> dict[str, dict[str, int]]:
    """`{"atividade/notebook": {grade_id: segundos}}` a partir dos tempos medidos das soluções."""
    caminho = Path(arquivo)
    if not caminho.is_file():
        return {}
    medidos = json.loads(caminho.read_text(encoding="utf-8")).get("notebooks", {})
    return {
        notebook: {celula: max(piso, math.ceil(margem * segundos)) for celula, segundos in celulas.items()}
        for notebook, celulas in medidos.items()
    }


def sem_testes_ocultos(fonte: str) -> str:
    """O código de uma célula de teste sem o trecho oculto (um aviso no lugar dele)."""
    linhas, dentro = [], False
    for linha in fonte.splitlines():
        if INICIO_OCULTOS in linha:
            dentro = True
            linhas.append(AVISO_OCULTOS)
        elif FIM_OCULTOS in linha:
            dentro = False
        elif not dentro:
            linhas.append(linha)
    return "\n".join(linhas)


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

    arquivo_tempos = Unicode(
        "", help="JSON com os tempos das células das soluções (corrigir.py --medir-tempos)."
    ).tag(config=True)

    margem_tempo = Float(10.0, help="Limite de uma célula medida = margem_tempo x o tempo da solução.").tag(config=True)

    piso_tempo = Integer(10, help="Limite mínimo (segundos) de uma célula medida.").tag(config=True)

    stderr_como_stdout = Bool(
        True, help="Guarda a saída em stderr como stdout (o nbgrader daria zero a um teste que só avisou algo)."
    ).tag(config=True)

    # ------------------------------------------------------------------ prazo total

    def preprocess(self, nb, resources=None, km=None):
        self._prazo = monotonic() + self.tempo_total_notebook if self.tempo_total_notebook > 0 else None
        self._usado: dict[int, int] = {}
        self._tarefa_saida = None
        info = (resources or {}).get("nbgrader", {})
        chave = f"{info.get('assignment')}/{info.get('notebook')}"
        limites = {}
        if self.arquivo_tempos:
            limites = limites_por_celula(self.arquivo_tempos, self.margem_tempo, self.piso_tempo)
        self._limites = limites.get(chave, {})
        self._estourou = False
        inicio = monotonic()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            nome = "/".join(str(info.get(chave, "?")) for chave in ("student", "assignment", "notebook"))
            estouros = sum(
                saida.get("output_type") == "error" and saida.get("ename") in ERROS_DE_EXECUCAO
                for celula in nb.cells for saida in celula.get("outputs", [])
            )
            self.log.info("[corretor] %s executado em %.1f s; %d célula(s) passaram do tempo ou reiniciaram o kernel",
                          nome, monotonic() - inicio, estouros)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        grade_id = (cell or {}).get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in getattr(self, "_limites", {}):
            timeout = self._limites[grade_id]
        if getattr(self, "_estourou", False) and timeout is not None:
            # Depois de um estouro no notebook (laço infinito?), as células seguintes têm só o piso.
            timeout = min(timeout, self.piso_tempo)
        prazo = getattr(self, "_prazo", None)
        if prazo is None or cell is None:
            return timeout
        restante = max(self.tempo_minimo_celula, int(prazo - monotonic()))
        return restante if timeout is None else min(timeout, restante)

    # ------------------------------------------------------------------ saída limitada

    def output(self, outs, msg, display_id, cell_index):
        limite = self.max_caracteres_saida
        conteudo = msg.get("content", {})
        if self.stderr_como_stdout and msg.get("msg_type") == "stream" and conteudo.get("name") == "stderr":
            conteudo["name"] = "stdout"
        if limite < 0:
            return super().output(outs, msg, display_id, cell_index)
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
                    output_type="stream", name="stdout", text=AVISO_SAIDA_TRUNCADA.format(limite=limite)
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
            executada = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if any(saida.get("ename") in ERROS_DE_EXECUCAO for saida in (executada or cell).get("outputs", [])):
                self._estourou = True
            return executada
        except (CellTimeoutError, DeadKernelError) as erro:
            self._estourou = True
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


class SobrescreverCelulas(OverwriteCells):
    """`OverwriteCells` sem o aviso de checksum, que dispara em toda célula de teste com parte oculta.

    O comportamento é o mesmo do nbgrader (a célula travada volta à versão do professor); só o
    aviso sai do log. Quem editou uma célula travada aparece em `verificar_entregas.py`.
    """

    def report_change(self, name, attr, old, new):
        if attr == "checksum":
            self.log.debug("Célula %s: conteúdo original restaurado (checksum).", name)
            return
        super().report_change(name, attr, old, new)


class OcultarTestesOcultos(NbGraderPreprocessor):
    """Na devolutiva: células de teste sem o trecho oculto e erros sem o código do teste.

    O aluno vê qual teste falhou e a mensagem (`AssertionError: ...`), não o código dos testes
    ocultos (que traz contas de referência próximas da solução). Com `enabled = False` (ou
    `corrigir.py --mostrar-testes-ocultos`) a devolutiva mostra tudo, como no nbgrader puro.
    """

    enabled = Bool(True, help="Tira os testes ocultos da devolutiva.").tag(config=True)
    # O generate_feedback passa esta opção a todos os pré-processadores (o GetGrades a usa).
    display_data_priority = List(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if not (nbgrader.get("grade") and not nbgrader.get("solution")):
            return cell, resources
        if INICIO_OCULTOS not in cell.source:
            return cell, resources
        cell.source = sem_testes_ocultos(cell.source)
        for saida in cell.get("outputs", []):
            if saida.get("output_type") == "error":
                evalue = _ANSI.sub("", str(saida.get("evalue", "")))
                saida["traceback"] = [
                    f"{saida.get('ename', 'Erro')}: {evalue}" if evalue else str(saida.get("ename", "Erro")),
                    "[corretor] Um teste desta célula falhou (a mensagem acima diz qual). O código dos testes "
                    "ocultos não é mostrado.",
                ]
        return cell, resources


def preprocessadores_da_correcao() -> list:
    """A lista padrão de pré-processadores do `nbgrader autograde`, com `ExecucaoProtegida` no lugar de `Execute`."""
    padrao = Autograde.class_traits()["autograde_preprocessors"].default()
    return [ExecucaoProtegida if classe is Execute else classe for classe in padrao]


def preprocessadores_da_limpeza() -> list:
    """Os `sanitize_preprocessors` do autograde, com `SobrescreverCelulas` no lugar de `OverwriteCells`."""
    padrao = Autograde.class_traits()["sanitize_preprocessors"].default()
    return [SobrescreverCelulas if classe is OverwriteCells else classe for classe in padrao]


def preprocessadores_da_devolutiva() -> list:
    """Os pré-processadores do `generate_feedback`, mais `OcultarTestesOcultos` (antes de virar HTML)."""
    return [*GenerateFeedback.class_traits()["preprocessors"].default(), OcultarTestesOcultos]
