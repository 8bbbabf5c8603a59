"""Corrige a turma inteira com um comando: conferência, autograde, devolutivas e planilha de notas.

Passos (todos a partir desta pasta, exercises/):
1. `verificar_entregas.py`: repara o que dá para reparar (metadados do nbgrader perdidos ou
   alterados, notebook renomeado; o original fica guardado) e aponta o resto: notebooks
   ausentes ou ilegíveis (esses NÃO vão para a correção, e o resumo diz por quê), células
   apagadas, duplicadas ou com o tipo trocado, e células travadas editadas pelo aluno;
2. `autograde` + `generate_feedback` do nbgrader, entrega por entrega, em `--processos`
   processos de correção ao mesmo tempo (padrão: o número de núcleos; ver
   trabalhador_correcao.py). Cada processo pega a próxima entrega da fila e trabalha numa cópia
   do gradebook; as notas de cada entrega voltam para o `gradebook.db` da turma por um único
   escritor. O progresso (aluno, notebook, tempo e células que passaram do tempo até agora)
   aparece enquanto corre. Um aluno com erro, laço infinito ou saída gigante não para a correção
   dos outros (ver execucao_protegida.py e nbgrader_config.py);
3. `nbgrader export --to notas.csv`: a planilha de notas;
4. um resumo por aluno e atividade: nota, reparos, problemas da conferência, células editadas,
   células que passaram do tempo, kernels reiniciados e entregas não corrigidas (com o motivo).

Uso, com o ambiente do curso ativo:
    python corrigir.py                          # todas as atividades, todos os alunos
    python corrigir.py --atividade ex01_divisao # uma atividade
    python corrigir.py --aluno maria            # um aluno
    python corrigir.py --processos 1            # um aluno por vez
    python corrigir.py --apenas-feedback        # depois da correção manual no formgrader
    python corrigir.py --mostrar-testes-ocultos # devolutivas com o código dos testes ocultos
    python corrigir.py --tempo-celula 30        # o mesmo limite para toda célula (em vez dos medidos)
    python corrigir.py --medir-tempos           # mede as soluções e grava tempos_solucoes.json

Sai com código 0 se tudo foi corrigido sem problemas, 1 caso contrário (veja o resumo).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

PASTA = Path(__file__).resolve().parent
sys.path.insert(0, str(PASTA))

from publicar import ambiente_nbgrader, rodar_nbgrader  # noqa: E402
from verificar_entregas import IMPEDE_CORRECAO, Entrega, atividades_da_fonte, reparar, tabela, verificar  # noqa: E402

ARQUIVO_NOTAS = "notas.csv"
ARQUIVO_TEMPOS = "tempos_solucoes.json"
PASTA_TRABALHO = ".correcao"  # cópias de trabalho de cada aluno (apagadas no fim)
ERROS_DE_EXECUCAO = {
    "CellTimeoutError": "célula(s) passaram do tempo",
    "DeadKernelError": "kernel morreu e foi reiniciado",
}

# Avisos do nbgrader/jupyter que não ajudam o professor, e as linhas INFO que valem mostrar.
RUIDO = ("SAWarning", "for notebook in", "return [x for x", "without encryption", "Skipping unknown notebook")
INFO_UTIL = ("[corretor]",)
_LINHA_EXECUTADO = re.compile(
    r"\[corretor\] (?P<aluno>[^/\s]+)/(?P<atividade>[^/\s]+)/(?P<notebook>\S+) executado em (?P<s>[\d.]+) s; "
    r"(?P<estouros>\d+) célula"
)


@dataclass
class Nota:
    aluno: str
    atividade: str
    nota: float | None = None
    maximo: float | None = None
    correcao_manual_pendente: bool = False
    observacoes: list[str] = field(default_factory=list)


def _passo(titulo: str) -> None:
    print(f"\n=== {titulo} ===", flush=True)


def _linhas_relevantes(saida: str, prefixo: str = "") -> list[str]:
    return [
        prefixo + linha for linha in saida.splitlines()
        if linha.strip() and not any(ruido in linha for ruido in RUIDO)
        and (("| INFO]" not in linha and "[INFO]" not in linha) or any(marca in linha for marca in INFO_UTIL))
        and "| DEBUG]" not in linha and "[DEBUG]" not in linha
    ]


def _nbgrader(argumentos: list[str], pasta: Path) -> bool:
    """Roda o nbgrader mostrando a saída relevante; devolve True se terminou sem erro."""
    resultado = rodar_nbgrader(argumentos, pasta)
    linhas = _linhas_relevantes((resultado.stdout + resultado.stderr).strip())
    if linhas:
        print("\n".join(linhas), flush=True)
    if resultado.returncode != 0:
        print(f"[corrigir] nbgrader {argumentos[0]} terminou com código {resultado.returncode} "
              "(alguma entrega falhou; veja acima). Seguindo com as demais.", flush=True)
    return resultado.returncode == 0


def _garantir_gradebook(pasta: Path, atividades: list[str]) -> bool:
    """O autograde usa os testes guardados no gradebook.db por `generate_assignment`.

    Numa máquina nova (o gradebook.db não vai para o repositório) as atividades ainda não estão
    lá: gera cada uma que faltar numa pasta temporária, sem tocar em release/.
    """
    from nbgrader.api import Gradebook, MissingEntry

    faltando = []
    with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
        for atividade in atividades:
            try:
                gradebook.find_assignment(atividade)
            except MissingEntry:
                faltando.append(atividade)
    ok = True
    for atividade in faltando:
        print(f"[corrigir] {atividade} ainda não está no gradebook.db: registrando as fontes.", flush=True)
        temporaria = ".release-corrigir"
        ok &= _nbgrader(["generate_assignment", atividade, "--force",
                         f"--CourseDirectory.release_directory={temporaria}"], pasta)
        shutil.rmtree(pasta / temporaria, ignore_errors=True)
    return ok


# --------------------------------------------------------------------------- tempos das soluções

def medir_tempos(pasta: Path = PASTA) -> dict:
    """Executa cada notebook de `source/` (as soluções) e grava quanto cada célula do nbgrader levou."""
    from datetime import datetime

    from nbclient import NotebookClient

    def segundos(celula) -> float:
        execucao = celula.get("metadata", {}).get("execution", {})
        inicio, fim = execucao.get("iopub.execute_input"), execucao.get("shell.execute_reply")
        if not (inicio and fim):
            return 0.0
        ler = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
        return max(0.0, (ler(fim) - ler(inicio)).total_seconds())

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    resultado = {}
    for atividade, fontes in atividades_da_fonte(pasta).items():
        for fonte in fontes:
            nb = nbformat.read(fonte, as_version=4)
            try:
                with tempfile.TemporaryDirectory() as temporaria:
                    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                                   resources={"metadata": {"path": temporaria}}).execute()
            except Exception as erro:  # noqa: BLE001 (uma fonte quebrada não impede medir as outras)
                print(f"[corrigir] {atividade}/{fonte.stem}: a solução falhou ({type(erro).__name__}); "
                      "não medida", flush=True)
                continue
            tempos = {
                celula.metadata["nbgrader"]["grade_id"]: round(segundos(celula), 3)
                for celula in nb.cells
                if celula.cell_type == "code" and celula.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            }
            resultado[f"{atividade}/{fonte.stem}"] = tempos
            print(f"[corrigir] {atividade}/{fonte.stem}: {sum(tempos.values()):.1f} s nas células do nbgrader "
                  f"(a mais lenta: {max(tempos.values(), default=0):.1f} s)", flush=True)
    dados = {
        "descricao": "segundos de cada célula do nbgrader nas soluções (python corrigir.py --medir-tempos); "
                     "o limite de cada célula na correção é margem_tempo x isto, com piso (nbgrader_config.py)",
        "maquina": f"{os.cpu_count()} núcleos",
        "notebooks": resultado,
    }
    (pasta / ARQUIVO_TEMPOS).write_text(json.dumps(dados, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return dados


# --------------------------------------------------------------------------- correção em paralelo

class Progresso:
    """Conta notebooks corrigidos e células que passaram do tempo, e mostra cada avanço."""

    def __init__(self, total_notebooks: int, total_alunos: int):
        self.total, self.total_alunos = total_notebooks, total_alunos
        self.feitos = self.alunos_feitos = self.estouros = 0
        self.inicio = time.monotonic()
        self.trava = threading.Lock()

    def mostrar(self, texto: str) -> None:
        with self.trava:
            print(texto, flush=True)

    def notebook(self, achado: re.Match) -> None:
        with self.trava:
            self.feitos += 1
            self.estouros += int(achado["estouros"])
            extra = f", {achado['estouros']} passaram do tempo" if int(achado["estouros"]) else ""
            print(f"[corrigir] {self.feitos}/{self.total} notebooks · {achado['aluno']}/{achado['atividade']}: "
                  f"{float(achado['s']):.1f} s{extra} · células que passaram do tempo até agora: {self.estouros}",
                  flush=True)

    def aluno(self, aluno: str, segundos: float, ok: bool) -> None:
        with self.trava:
            self.alunos_feitos += 1
            situacao = "corrigido" if ok else "corrigido com falhas do nbgrader (veja acima)"
            print(f"[corrigir] aluno {self.alunos_feitos}/{self.total_alunos}: {aluno} {situacao} em {segundos:.0f} s "
                  f"(turma: {time.monotonic() - self.inicio:.0f} s)", flush=True)


def _juntar_gradebook(principal: Path, parcial: Path, aluno: str, atividades: list[str]) -> None:
    """Copia as notas de `aluno` do gradebook de trabalho para o da turma (um único escritor)."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    # O nbgrader cria a entrega de um jeito que o SQLAlchemy comenta (SAWarning "not in session"),
    # para toda entrega: é ruído, não um problema da entrega.
    warnings.filterwarnings("ignore", message=".*not in session.*")

    with Gradebook(f"sqlite:///{parcial}") as origem, Gradebook(f"sqlite:///{principal}") as destino:
        destino.update_or_create_student(aluno)
        for atividade in atividades:
            try:
                enviada = origem.find_submission(atividade, aluno)
            except MissingEntry:
                continue
            copia = destino.update_or_create_submission(atividade, aluno, timestamp=enviada.timestamp)
            copia.extension = enviada.extension
            for notebook in enviada.notebooks:
                alvo = destino.find_submission_notebook(notebook.name, atividade, aluno)
                alvo.flagged = notebook.flagged
                alvo.late_submission_penalty = notebook.late_submission_penalty
                for nota in notebook.grades:
                    outra = destino.find_grade(nota.name, notebook.name, atividade, aluno)
                    for campo in ("auto_score", "manual_score", "extra_credit", "needs_manual_grade"):
                        setattr(outra, campo, getattr(nota, campo))
                for comentario in notebook.comments:
                    outro = destino.find_comment(comentario.name, notebook.name, atividade, aluno)
                    outro.auto_comment, outro.manual_comment = comentario.auto_comment, comentario.manual_comment
            destino.db.commit()


class _Trabalhador:
    """Um `trabalhador_correcao.py` vivo, com a sua cópia do curso e do gradebook."""

    def __init__(self, pasta: Path, numero: int, extra: dict):
        self.pasta, self.numero, self.extra = pasta, numero, extra
        self.trabalho = pasta / PASTA_TRABALHO / f"trabalhador{numero}"
        shutil.rmtree(self.trabalho, ignore_errors=True)
        self.trabalho.mkdir(parents=True)
        (self.trabalho / "source").symlink_to(pasta / "source", target_is_directory=True)
        (self.trabalho / "submitted").symlink_to(pasta / "submitted", target_is_directory=True)
        shutil.copy2(pasta / "gradebook.db", self.trabalho / "gradebook.db")
        self.processo = None

    def _iniciar(self) -> None:
        erros = open(self.trabalho / "stderr.log", "a", encoding="utf-8")  # avisos dos kernels, não do professor
        self.processo = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve().parent / "trabalhador_correcao.py"), str(self.pasta),
             str(self.trabalho), json.dumps(self.extra)],
            cwd=self.pasta, env=ambiente_nbgrader(), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=erros,
        )
        self.processo.stdout.readline()  # {"pronto": true}

    def corrigir(self, aluno: str, atividade: str) -> dict:
        if self.processo is None or self.processo.poll() is not None:
            self._iniciar()
        self.processo.stdin.write(f"{aluno}\t{atividade}\n")
        self.processo.stdin.flush()
        linha = self.processo.stdout.readline()
        if not linha:  # o processo morreu: a entrega fica sem correção, o próximo recomeça
            self.processo = None
            return {"aluno": aluno, "atividade": atividade, "ok": False,
                    "log": "[ERROR] o processo de correção morreu (veja .correcao/*/stderr.log)"}
        return json.loads(linha)

    def encerrar(self) -> None:
        if self.processo is not None and self.processo.poll() is None:
            self.processo.stdin.close()
            self.processo.wait(timeout=60)


def corrigir_turma(pasta: Path, entregas: list[tuple[str, str]], extra: dict, processos: int) -> bool:
    """Autograde e devolutiva de cada entrega, `processos` entregas ao mesmo tempo.

    Cada processo de trabalho pega a próxima entrega da fila (um aluno que entra em laço em
    todas as atividades não segura um processo só). Depois de cada entrega, as notas e os
    arquivos dela vêm para a turma, sob uma trava: um único escritor no gradebook.db.
    """
    por_aluno: dict[str, int] = {}
    for aluno, _ in entregas:
        por_aluno[aluno] = por_aluno.get(aluno, 0) + 1
    progresso = Progresso(len(entregas), len(por_aluno))
    processos = max(1, min(processos, len(entregas)))
    print(f"[corrigir] {len(entregas)} notebook(s) de {len(por_aluno)} aluno(s), {processos} por vez.", flush=True)
    fila: queue.Queue = queue.Queue()
    for entrega in entregas:
        fila.put(entrega)
    trava = threading.Lock()
    falhas: list[str] = []
    faltam, inicio_aluno = dict(por_aluno), {}

    def servir(trabalhador: _Trabalhador) -> None:
        while True:
            try:
                aluno, atividade = fila.get_nowait()
            except queue.Empty:
                break
            with trava:
                inicio_aluno.setdefault(aluno, time.monotonic())
            resposta = trabalhador.corrigir(aluno, atividade)
            achado = _LINHA_EXECUTADO.search(resposta["log"])
            if achado:
                progresso.notebook(achado)
            for relevante in _linhas_relevantes(resposta["log"], prefixo=f"  [{aluno}] "):
                if not _LINHA_EXECUTADO.search(relevante):
                    progresso.mostrar(relevante)
            with trava:
                _juntar_gradebook(pasta / "gradebook.db", trabalhador.trabalho / "gradebook.db", aluno, [atividade])
                for tipo in ("autograded", "feedback"):
                    origem, destino = trabalhador.trabalho / tipo / aluno / atividade, pasta / tipo / aluno / atividade
                    shutil.rmtree(destino, ignore_errors=True)
                    if origem.is_dir():
                        destino.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(str(origem), str(destino))
                if not resposta["ok"]:
                    falhas.append(f"{aluno}/{atividade}")
                faltam[aluno] -= 1
                terminou = faltam[aluno] == 0
            if terminou:
                progresso.aluno(aluno, time.monotonic() - inicio_aluno[aluno], f"{aluno}/" not in " ".join(falhas))

    trabalhadores = [_Trabalhador(pasta, numero, extra) for numero in range(processos)]
    try:
        with ThreadPoolExecutor(max_workers=processos) as executor:
            for tarefa in [executor.submit(servir, t) for t in trabalhadores]:
                tarefa.result()
    finally:
        for trabalhador in trabalhadores:
            trabalhador.encerrar()
        shutil.rmtree(pasta / PASTA_TRABALHO, ignore_errors=True)
    print(f"[corrigir] turma corrigida em {time.monotonic() - progresso.inicio:.0f} s; "
          f"{progresso.estouros} célula(s) passaram do tempo.", flush=True)
    if falhas:
        print(f"[corrigir] o nbgrader falhou em: {', '.join(falhas)} (veja acima)", flush=True)
    return not falhas


# --------------------------------------------------------------------------- resumo

def _erros_de_execucao(notebook: Path) -> list[str]:
    """Timeouts e kernels reiniciados registrados nas saídas de um notebook corrigido."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 (um arquivo estragado não pode parar o resumo)
        return ["notebook corrigido ilegível"]
    contagem: dict[str, int] = {}
    for celula in nb.cells:
        for saida in celula.get("outputs", []):
            if saida.get("output_type") == "error" and saida.get("ename") in ERROS_DE_EXECUCAO:
                contagem[saida["ename"]] = contagem.get(saida["ename"], 0) + 1
    return [f"{notebook.name}: {n} {ERROS_DE_EXECUCAO[nome]}" for nome, n in sorted(contagem.items())]


def _impede(entrega: Entrega) -> str | None:
    return next((p for p in entrega.problemas if p.startswith(IMPEDE_CORRECAO)), None)


def notas(pasta: Path, entregas: list[Entrega], reparos: dict[tuple[str, str], list[str]] | None = None) -> list[Nota]:
    """Nota de cada (aluno, atividade) conferido, direto do gradebook, com as observações."""
    from nbgrader.api import Gradebook, MissingEntry

    problemas: dict[tuple[str, str], list[str]] = {}
    for entrega in entregas:
        lista = problemas.setdefault((entrega.aluno, entrega.atividade), list((reparos or {}).get(
            (entrega.aluno, entrega.atividade), [])))
        motivo = _impede(entrega)
        if motivo and (entrega.aluno, entrega.atividade) in _com_pasta(pasta, [entrega]):
            lista.append(f"{entrega.notebook}: NÃO CORRIGIDO: {motivo}")
        else:
            lista.extend(f"{entrega.notebook}: {p}" for p in entrega.problemas)
    resultado = []
    with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
        for (aluno, atividade), lista in problemas.items():
            nota = Nota(aluno, atividade, observacoes=list(lista))
            corrigida = pasta / "autograded" / aluno / atividade
            if (pasta / "submitted" / aluno / atividade).is_dir():
                if not corrigida.is_dir() and not any("NÃO CORRIGIDO" in o for o in lista):
                    nota.observacoes.append("o nbgrader NÃO conseguiu corrigir esta entrega (veja o log acima)")
                for notebook in sorted(corrigida.glob("*.ipynb")):
                    nota.observacoes += _erros_de_execucao(notebook)
            try:
                submissao = gradebook.find_submission(atividade, aluno)
            except MissingEntry:
                pass
            else:
                if corrigida.is_dir():
                    nota.nota, nota.maximo = submissao.score, submissao.max_score
                    nota.correcao_manual_pendente = bool(submissao.needs_manual_grade)
            resultado.append(nota)
    return resultado


def _com_pasta(pasta: Path, entregas: list[Entrega]) -> set[tuple[str, str]]:
    return {(e.aluno, e.atividade) for e in entregas if (pasta / "submitted" / e.aluno / e.atividade).is_dir()}


def tabela_de_notas(lista: list[Nota]) -> str:
    linhas = [("Aluno", "Atividade", "Nota", "Observações")]
    for nota in lista:
        valor = "-" if nota.nota is None else f"{nota.nota:g}/{nota.maximo:g}"
        if nota.correcao_manual_pendente:
            valor += " (falta correção manual)"
        observacoes = nota.observacoes or ["ok"]
        linhas.append((nota.aluno, nota.atividade, valor, observacoes[0]))
        linhas += [("", "", "", obs) for obs in observacoes[1:]]
    larguras = [max(len(linha[i]) for linha in linhas) for i in range(3)]
    texto = ["  ".join(linha[i].ljust(larguras[i]) for i in range(3)) + "  " + linha[3] for linha in linhas]
    texto.insert(1, "  ".join("-" * n for n in larguras) + "  " + "-" * 11)
    return "\n".join(texto)


# --------------------------------------------------------------------------- o comando

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Confere, corrige e exporta as notas da turma.")
    parser.add_argument("--atividade", default="*", help="id da atividade (glob; padrão: todas)")
    parser.add_argument("--aluno", default="*", help="id do aluno (glob; padrão: todos)")
    parser.add_argument("--pasta", type=Path, default=PASTA, help="pasta do curso (padrão: a deste script)")
    parser.add_argument("--tempo-celula", type=int,
                        help="segundos para TODA célula (em vez dos limites medidos em tempos_solucoes.json)")
    parser.add_argument("--processos", type=int, default=os.cpu_count() or 1,
                        help="alunos corrigidos ao mesmo tempo (padrão: o número de núcleos)")
    parser.add_argument("--sem-reparo", action="store_true",
                        help="não repara metadados nem nomes antes de corrigir (só aponta)")
    parser.add_argument("--apenas-feedback", action="store_true",
                        help="não roda o autograde: só devolutivas e notas (depois da correção manual)")
    parser.add_argument("--mostrar-testes-ocultos", action="store_true",
                        help="devolutivas com o código dos testes ocultos e os tracebacks completos")
    parser.add_argument("--medir-tempos", action="store_true",
                        help=f"só mede as soluções de source/ e grava {ARQUIVO_TEMPOS}")
    args = parser.parse_args(argv)
    pasta = args.pasta.resolve()
    # O gradebook do nbgrader chama o programa `alembic`, que está na pasta bin deste Python:
    # assim o script funciona mesmo sem o ambiente ativado.
    os.environ["PATH"] = ambiente_nbgrader()["PATH"]
    if args.medir_tempos:
        medir_tempos(pasta)
        print(f"Tempos gravados em {pasta / ARQUIVO_TEMPOS}.")
        return 0

    atividades = [a for a in atividades_da_fonte(pasta) if fnmatch.fnmatch(a, args.atividade)]
    if not atividades:
        print(f"Nenhuma atividade em {pasta / 'source'} corresponde a {args.atividade!r}.")
        return 1

    _passo("1. Conferência das entregas")
    reparos: dict[tuple[str, str], list[str]] = {}
    if not args.sem_reparo:
        acoes = reparar(pasta, args.atividade, args.aluno)
        agrupados: dict[tuple[str, str], list[str]] = {}
        for acao in acoes:
            aluno, atividade = acao.split("/")[:2]
            agrupados.setdefault((aluno, atividade.split(":")[0]), []).append(acao.split(": ", 1)[-1].strip())
        for chave, feitos in agrupados.items():
            celulas = [f.split(":")[0] for f in feitos if ": metadados" in f]
            outros = [f for f in feitos if ": metadados" not in f]
            if celulas:
                outros.append(f"metadados do nbgrader recolocados ou corrigidos em {len(celulas)} célula(s) "
                              f"({', '.join(celulas)})")
            reparos[chave] = [f"REPARADO: {texto}" for texto in outros]
        print("\n".join(["Reparos (o original fica ao lado, com o sufixo .antes-do-reparo):"]
                        + [f"  - {acao}" for acao in acoes] + [""]) if acoes else "Nada a reparar.\n")
    entregas = verificar(pasta, args.atividade, args.aluno)
    print(tabela(entregas, so_problemas=True))
    if not entregas:
        return 1
    sem_correcao = {(e.aluno, e.atividade): _impede(e) for e in entregas if _impede(e)}
    for (aluno, atividade), motivo in sorted(sem_correcao.items()):
        if (pasta / "submitted" / aluno / atividade).is_dir():
            print(f"[corrigir] NÃO CORRIGIDO: {aluno}/{atividade}: {motivo}")

    tudo_certo = all(entrega.ok for entrega in entregas)
    extra, opcoes = [], {}  # as mesmas opções na linha de comando do nbgrader e para os processos de correção
    if args.tempo_celula is not None:
        extra += [f"--Execute.timeout={args.tempo_celula}", "--ExecucaoProtegida.arquivo_tempos="]
        opcoes.update(Execute={"timeout": args.tempo_celula}, ExecucaoProtegida={"arquivo_tempos": ""})
    if args.mostrar_testes_ocultos:
        extra.append("--OcultarTestesOcultos.enabled=False")
        opcoes["OcultarTestesOcultos"] = {"enabled": False}
    if not args.apenas_feedback:
        _passo("2. Correção automática e devolutivas (nbgrader autograde + generate_feedback, por entrega)")
        tudo_certo &= _garantir_gradebook(pasta, atividades)
        if not (pasta / ARQUIVO_TEMPOS).is_file() and args.tempo_celula is None:
            print(f"[corrigir] sem {ARQUIVO_TEMPOS}: toda célula fica com Execute.timeout "
                  "(rode `python corrigir.py --medir-tempos`).")
        fila = sorted({(e.aluno, e.atividade) for e in entregas
                       if (e.aluno, e.atividade) not in sem_correcao
                       and (pasta / "submitted" / e.aluno / e.atividade).is_dir()})
        if fila:
            tudo_certo &= corrigir_turma(pasta, fila, opcoes, args.processos)
    else:
        _passo("2. Devolutivas (nbgrader generate_feedback)")
        filtro_aluno = [] if args.aluno == "*" else ["--student", args.aluno]
        tudo_certo &= _nbgrader(["generate_feedback", args.atividade, "--force", *filtro_aluno, *extra], pasta)

    _passo("3. Planilha de notas (nbgrader export)")
    tudo_certo &= _nbgrader(["export", "--to", ARQUIVO_NOTAS], pasta)
    print(f"Notas em {pasta / ARQUIVO_NOTAS}; devolutivas em {pasta / 'feedback'}.")

    _passo("4. Resumo")
    lista = notas(pasta, entregas, reparos)
    print(tabela_de_notas(lista))
    pendentes = sum(nota.correcao_manual_pendente for nota in lista)
    if pendentes:
        print(f"\n{pendentes} entrega(s) com resposta de correção manual: corrija no formgrader e depois rode "
              "`python corrigir.py --apenas-feedback`.")
    adulteradas = [(n.aluno, n.atividade, o) for n in lista for o in n.observacoes if "ADULTERAÇÃO" in o]
    if adulteradas:
        print(f"\n{len(adulteradas)} célula(s) travada(s) editada(s) por alunos (a correção usou as originais):")
        print("\n".join(f"  - {aluno}/{atividade}/{obs}" for aluno, atividade, obs in adulteradas))
    tudo_certo &= all(not nota.observacoes for nota in lista)
    print("\nTudo corrigido sem problemas." if tudo_certo else "\nHá problemas: veja as observações acima.")
    return 0 if tudo_certo else 1


if __name__ == "__main__":
    sys.exit(main())
