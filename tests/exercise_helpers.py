"""O que os testes dos exercícios (`tests/test_exercise_*.py`) e das ferramentas do professor
(`tests/test_publicar.py`, `tests/test_verificar_entregas.py`, `tests/test_corrigir.py`) compartilham.

- ler, trocar e entregar notebooks (`ler`, `trocar`, `trocar_solucoes`, `entregar`...);
- o caminho rápido, sem nbgrader: `rodar_casos_rapidos` roda dezenas de variantes de um notebook
  (uma regra quebrada em cada, ou outra solução correta) num processo IPython, com os testes
  ocultos da fonte;
- o caminho completo: `rodar_corrigir` chama `exercises/corrigir.py` numa cópia do curso, e
  `corrigir_turma_de_treino` corrige uma turma fictícia dos exercícios 7 e 8.

Os testes que todo arquivo de exercício repete moram uma vez só em `tests/exercise_suite.py` e
`tests/exercise_training_suite.py` (exercícios 7 e 8); as fixtures deles, em `tests/conftest.py`.

Os nomes seguem os das ferramentas do professor (`exercises/*.py`, em português: ver CONTRIBUTING.md).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

REPO = Path(__file__).resolve().parents[1]
EXERCICIOS = REPO / "exercises"
sys.path.insert(0, str(EXERCICIOS))

import publicar  # noqa: E402
import verificar_entregas  # noqa: E402
from entregas_simuladas import metadados_nbgrader as meta_nbgrader  # noqa: E402
from entregas_simuladas import modificar_respostas  # noqa: E402

__all__ = [
    "REPO", "EXERCICIOS", "FONTES", "ATIVIDADES", "LENTO", "ANSI", "publicar", "verificar_entregas", "meta_nbgrader",
    "modificar_respostas", "trocar", "ler", "trocar_solucoes", "acrescentar", "entregar", "salvo_sem_metadados",
    "abrir_gradebook", "notas_csv", "trechos_marcados", "fora_dos_trechos", "copiar_curso_com_release", "adulterar",
    "rodar_corrigir", "perdas_de_pontos_erradas", "corretas_que_perderam_pontos", "rodar_casos_rapidos",
    "respostas_sem_alternativa", "modulo_do_exercicio", "conferir_pontos_e_testes_ocultos",
    "corrigir_turma_de_treino", "conferir_respostas_chumbadas", "conferir_cada_erro_classico",
    "conferir_sem_tempo_esgotado", "ALUNOS_COM_NOTA_MAXIMA",
]

FONTES = publicar.notebooks_fonte(EXERCICIOS)
ATIVIDADES = [fonte.parent.name for fonte in FONTES]
# Os testes que corrigem a turma levam alguns minutos (dezenas de notebooks no nbgrader): ficam
# marcados como `slow` para quem quiser pulá-los localmente (`pytest -m "not slow"`); o CI roda todos.
LENTO = pytest.mark.slow
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# --------------------------------------------------------------------------- casos rápidos (sem nbgrader)

SOLUCOES = {
    _celula.metadata["nbgrader"]["grade_id"]: _celula.source
    for _fonte in FONTES for _celula in nbformat.read(_fonte, as_version=4).cells
    if _celula.get("metadata", {}).get("nbgrader", {}).get("solution") and _celula.cell_type == "code"
}


def trocar(grade_id: str, antes: str, depois: str) -> str:
    """A solução do professor para `grade_id` com um trecho trocado (um erro de propósito)."""
    fonte = SOLUCOES[grade_id]
    assert fonte.count(antes) == 1, f"{grade_id}: {antes!r} aparece {fonte.count(antes)} vezes"
    return fonte.replace(antes, depois)


# --------------------------------------------------------------------------- utilidades

def ler(caminho: Path):
    return nbformat.read(caminho, as_version=4)


def trocar_solucoes(nb, trocas: dict[str, str]):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if meta_nbgrader(celula).get("grade_id") in trocas:
            celula.source = trocas[meta_nbgrader(celula)["grade_id"]].strip("\n")
    return novo


def acrescentar(nb, grade_id: str, codigo: str):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if meta_nbgrader(celula).get("grade_id") == grade_id:
            celula.source += "\n" + codigo
    return novo


def entregar(pasta: Path, aluno: str, atividade: str, nb, nome: str | None = None) -> None:
    destino = pasta / "submitted" / aluno / atividade / (nome or f"{atividade}.ipynb")
    destino.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, destino)


def salvo_sem_metadados(nb, trocas: dict[str, str]):
    """A entrega depois de passar por uma ferramenta que descarta metadados e ids de células:
    respostas preenchidas (`trocas`, por grade_id), uma célula de rascunho a mais, nada de nbgrader."""
    novo = trocar_solucoes(nb, trocas)
    for posicao, celula in enumerate(novo.cells):
        celula.metadata.pop("nbgrader", None)
        celula["id"] = f"sem-id-{posicao}"
    novo.cells.insert(8, nbformat.v4.new_code_cell("print('rascunho do aluno')"))
    return novo


@contextlib.contextmanager
def abrir_gradebook(pasta: Path):
    """O gradebook.db de uma cópia do curso (o nbgrader chama `alembic`, da pasta bin do ambiente)."""
    from nbgrader.api import Gradebook

    with pytest.MonkeyPatch.context() as ajuste:
        ajuste.setenv("PATH", publicar.ambiente_nbgrader()["PATH"])
        with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
            yield gradebook


def notas_csv(pasta: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with open(pasta / "notas.csv", encoding="utf-8") as arquivo:
        return {
            (linha["student_id"], linha["assignment"]): (float(linha["score"]), float(linha["max_score"]))
            for linha in csv.DictReader(arquivo)
        }


def trechos_marcados(texto: str, inicio: str, fim: str) -> list[str]:
    """Linhas entre os marcadores (sem eles)."""
    linhas, dentro = [], False
    for linha in texto.splitlines():
        if inicio in linha:
            dentro = True
        elif fim in linha:
            dentro = False
        elif dentro:
            linhas.append(linha)
    return linhas


def fora_dos_trechos(texto: str) -> list[str]:
    """Linhas fora de qualquer trecho de solução ou de teste oculto (o que o aluno também vê)."""
    linhas, dentro = [], False
    for linha in texto.splitlines():
        if "### BEGIN SOLUTION" in linha or "### BEGIN HIDDEN TESTS" in linha:
            dentro = True
        elif "### END SOLUTION" in linha or "### END HIDDEN TESTS" in linha:
            dentro = False
        elif not dentro:
            linhas.append(linha)
    return linhas


def copiar_curso_com_release(destino: Path) -> Path:
    """Cópia do curso em `destino` com a versão do aluno gerada agora pelo nbgrader."""
    publicar.copiar_curso(EXERCICIOS, destino)
    publicar.gerar_release(destino)
    return destino


def adulterar(nb, grade_id: str, fonte: str):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if meta_nbgrader(celula).get("grade_id") == grade_id:
            celula.source = fonte
    return novo


def rodar_corrigir(pasta: Path, *argumentos: str) -> subprocess.Popen:
    log = open(pasta.parent / "corrigir.log", "a", encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(pasta / "corrigir.py"), *argumentos],
        cwd=pasta, stdout=log, stderr=subprocess.STDOUT, text=True,
    )


# --------------------------------------------------------------------------- respostas alternativas e regras (rápido)
# Dezenas de variantes dos notebooks (uma regra quebrada em cada, ou outra solução correta) rodam
# num só processo IPython, com os testes ocultos da fonte, sem nbgrader: segundos em vez de
# minutos. Uma célula de teste vale os pontos se roda sem erro (a regra do nbgrader; saída em
# stderr não conta, como na correção: ver execucao_protegida.py). O ciclo completo com o nbgrader
# está nos testes da turma, abaixo.

EXECUTOR = r"""
import contextlib, io, json, os, sys, tempfile
from IPython.core.interactiveshell import InteractiveShell

casos = json.load(open(sys.argv[1], encoding="utf-8"))
shell = InteractiveShell.instance()
resultado = {}
raiz = os.getcwd()
for nome, celulas in casos.items():
    shell.reset(new_session=False)
    passou = {}
    with tempfile.TemporaryDirectory() as pasta:
        os.chdir(pasta)
        for fonte, grade_id, teste in celulas:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                execucao = shell.run_cell(fonte, store_history=False)
            if teste:
                passou[grade_id] = bool(execucao.success)
        os.chdir(raiz)
    resultado[nome] = passou
json.dump(resultado, open(sys.argv[2], "w", encoding="utf-8"))
"""

PROCESSOS_RAPIDOS = max(1, min(2, os.cpu_count() or 1))


def pontos_da_fonte(fonte: Path) -> dict[str, float]:
    return {meta_nbgrader(c)["grade_id"]: float(meta_nbgrader(c)["points"]) for c in ler(fonte).cells
            if meta_nbgrader(c).get("grade") and not meta_nbgrader(c).get("solution")}


def rodar_rapido(casos: dict[str, object], tmp_path: Path) -> dict[str, dict[str, bool]]:
    """Roda cada notebook (fonte com respostas trocadas) num processo IPython; {caso: {teste: passou}}."""
    entrada = {
        nome: [(c.source, meta_nbgrader(c).get("grade_id"),
                bool(meta_nbgrader(c).get("grade") and not meta_nbgrader(c).get("solution")))
               for c in nb.cells if c.cell_type == "code"]
        for nome, nb in casos.items()
    }
    (tmp_path / "executor.py").write_text(EXECUTOR, encoding="utf-8")
    ambiente = {**os.environ, "OMP_NUM_THREADS": "1"}
    nomes = sorted(entrada)
    partes = [nomes[i::PROCESSOS_RAPIDOS] for i in range(PROCESSOS_RAPIDOS)]  # um processo por núcleo
    processos = []
    for i, parte in enumerate(partes):
        (tmp_path / f"casos{i}.json").write_text(json.dumps({n: entrada[n] for n in parte}), encoding="utf-8")
        processos.append(subprocess.Popen(
            [sys.executable, str(tmp_path / "executor.py"), str(tmp_path / f"casos{i}.json"),
             str(tmp_path / f"saida{i}.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ambiente,
        ))
    resultado = {}
    for i, processo in enumerate(processos):
        saida, erro = processo.communicate(timeout=900)
        assert processo.returncode == 0, saida[-2000:] + erro[-3000:]
        resultado.update(json.loads((tmp_path / f"saida{i}.json").read_text(encoding="utf-8")))
    return resultado


# Mais soluções corretas, cada uma num idioma que os testes ocultos precisam aceitar (a função do
def montar_casos(atividades, solucoes_corretas: dict[str, dict[str, str]], regras) -> tuple[dict, dict]:
    """Os notebooks a rodar (fonte com respostas trocadas) e, para cada um, os testes que devem falhar:
    a solução e cada conjunto de `solucoes_corretas` (nenhum), cada regra de `regras` (os dela)."""
    casos, esperado = {}, {}
    for atividade in atividades:
        fonte = EXERCICIOS / "source" / atividade / f"{atividade}.ipynb"
        solucao, todos = ler(fonte), set(pontos_da_fonte(fonte))
        casos[f"{atividade}|solucao"], esperado[f"{atividade}|solucao"] = solucao, set()
        for nome, trocas in solucoes_corretas.items():
            if any(meta_nbgrader(c).get("grade_id") in trocas for c in solucao.cells):
                casos[f"{atividade}|{nome}"], esperado[f"{atividade}|{nome}"] = trocar_solucoes(solucao, trocas), set()
        for regra, trocas, falham in regras[atividade]:
            assert falham <= todos, (atividade, regra, falham - todos)
            casos[f"{atividade}|{regra}"], esperado[f"{atividade}|{regra}"] = trocar_solucoes(solucao, trocas), falham
    return casos, esperado


def perdas_de_pontos_erradas(resultado, esperado, atividades, regras) -> list[str]:
    """Cada regra deve perder exatamente os testes dela; todo teste deve ser de alguma regra."""
    erros = []
    for atividade in atividades:
        pontos = pontos_da_fonte(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        cobertos = set().union(*(falham for _, _, falham in regras[atividade]))
        if cobertos != set(pontos):
            erros.append(f"{atividade}: testes sem regra na lista: {sorted(set(pontos) - cobertos)}")
        for regra, _, falham in regras[atividade]:
            perdidos = {teste for teste, ok in resultado[f"{atividade}|{regra}"].items() if not ok}
            if perdidos != falham:
                erros.append(f"{atividade}, regra {regra!r}: perdeu {sorted(perdidos)} "
                             f"({sum(pontos[t] for t in perdidos):g} pontos), deveria perder exatamente "
                             f"{sorted(falham)} ({sum(pontos[t] for t in falham):g} pontos)")
    return erros


def corretas_que_perderam_pontos(resultado, esperado) -> list[str]:
    return [f"{nome}: perdeu pontos em {sorted(t for t, ok in passou.items() if not ok)}"
            for nome, passou in resultado.items() if not esperado[nome] and not all(passou.values())]


def rodar_casos_rapidos(atividade: str, corretas: dict[str, dict[str, str]], regras: list, pasta: Path):
    """Roda, sem nbgrader, a solução, cada conjunto de `corretas` e cada regra de `regras` de `atividade`.

    Devolve `(resultado, esperado)` para `corretas_que_perderam_pontos` e `perdas_de_pontos_erradas`.
    """
    casos, esperado = montar_casos([atividade], corretas, {atividade: regras})
    inicio = time.monotonic()
    resultado = rodar_rapido(casos, pasta)
    print(f"\n[{atividade}] {len(casos)} variantes rodadas em {time.monotonic() - inicio:.0f} s")
    return resultado, esperado


def respostas_sem_alternativa(atividade: str, alternativas: dict[str, str], alternativas_2: dict[str, str],
                              dispensadas: frozenset[str] = frozenset()) -> list[str]:
    """Respostas de `atividade` sem as duas soluções alternativas (ou com as duas iguais).

    `dispensadas`: respostas que só precisam da segunda alternativa.
    """
    fonte = EXERCICIOS / "source" / atividade / f"{atividade}.ipynb"
    respostas = {meta_nbgrader(c)["grade_id"] for c in ler(fonte).cells
                 if meta_nbgrader(c).get("solution") and c.cell_type == "code"}
    problemas = [f"{atividade}: sem alternativa 1 para {g}"
                 for g in sorted(respostas - set(alternativas) - dispensadas)]
    problemas += [f"{atividade}: sem alternativa 2 para {g}" for g in sorted(respostas - set(alternativas_2))]
    problemas += [f"{atividade}: as duas alternativas de {g} são iguais" for g in alternativas_2
                  if alternativas_2[g].strip() == alternativas.get(g, "").strip()]
    return problemas


def modulo_do_exercicio(atividade: str):
    """`tests/test_exercise_<atividade>.py`: as respostas dos alunos fictícios daquele exercício."""
    return importlib.import_module(f"tests.test_exercise_{atividade}")


# --------------------------------------------------------------------------- exercícios 7 e 8 (treino)

# Segundos por célula na correção do teste: folgado de propósito. Aqui não há laço infinito; o limite
# só pega uma célula que trava, não mede velocidade (numa máquina ocupada, importar o torch na
# célula de preparação já passou de 20 s).
TEMPO_CELULA = 120
# Os alunos fictícios que devem ganhar a nota toda na correção da turma.
ALUNOS_COM_NOTA_MAXIMA = ("solucao", "alternativa_a", "alternativa_b")


def resposta_do_teste(grade_id_teste: str) -> str:
    """O grade_id da resposta que um teste confere: `teste-avaliar` -> `avaliar`."""
    return grade_id_teste.removeprefix("teste-")


def conferir_pontos_e_testes_ocultos(pontos_por_atividade: dict[str, dict[str, int]], alunos: dict) -> None:
    """Os pontos de cada teste, uma célula de resposta por teste, cada teste com parte oculta."""
    for atividade, pontos in pontos_por_atividade.items():
        fonte = ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        testes = {meta_nbgrader(c)["grade_id"]: c for c in fonte.cells if meta_nbgrader(c).get("grade")}
        assert {g: meta_nbgrader(c)["points"] for g, c in testes.items()} == pontos, atividade
        respostas = {meta_nbgrader(c)["grade_id"] for c in fonte.cells if meta_nbgrader(c).get("solution")}
        assert respostas == {resposta_do_teste(g) for g in pontos}, "uma célula de resposta por teste"
        for grade_id, celula in testes.items():
            assert "### BEGIN HIDDEN TESTS" in celula.source, grade_id
        assert any(c.get("id") == "como-entregar" and "**Como fazer e entregar**" in c.source for c in fonte.cells)
        assert sum(pontos.values()) == 10
    # Cada aluno fictício só troca células de resposta que existem.
    todas = {resposta_do_teste(g) for pontos in pontos_por_atividade.values() for g in pontos}
    for nome, trocas in alunos.items():
        assert set(trocas) <= todas, nome


def corrigir_turma_de_treino(atividades, pontos_por_atividade: dict, alunos: dict, raiz: Path) -> dict:
    """Um curso temporário só com `atividades`, a turma fictícia entregue e corrigida por `corrigir.py`.

    Alunos: `solucao`, `em_branco` e cada um de `alunos` (nome -> respostas trocadas, por grade_id).
    Devolve `{"pasta", "notas", "log", "tempos"}`; `notas[aluno, atividade]` é `{grade_id: pontos}`.
    """
    pasta = raiz / "exercises"
    publicar.copiar_curso(EXERCICIOS, pasta)
    for outra in (pasta / "source").iterdir():
        if outra.name not in atividades:
            shutil.rmtree(outra)
    publicar.gerar_release(pasta)
    for atividade in atividades:
        solucao = ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        entregar(pasta, "solucao", atividade, solucao)
        entregar(pasta, "em_branco", atividade, ler(pasta / "release" / atividade / f"{atividade}.ipynb"))
        for aluno, trocas in alunos.items():
            if any(meta_nbgrader(c).get("grade_id") in trocas for c in solucao.cells):
                entregar(pasta, aluno, atividade, trocar_solucoes(solucao, trocas))
    inicio = time.monotonic()
    codigo = rodar_corrigir(pasta, "--tempo-celula", str(TEMPO_CELULA)).wait(timeout=1200)
    tempos = {"correcao_s": round(time.monotonic() - inicio, 1)}
    log = (raiz / "corrigir.log").read_text(encoding="utf-8")
    # Tempo de cada notebook: "[corretor] aluno/atividade/notebook executado em 3.2 s" (execucao_protegida.py)
    # ou "[corrigir] 3/15 notebooks · aluno/atividade: 3.2 s" (progresso do corrigir.py).
    for aluno, notebook, segundos in re.findall(r"\[corretor\] ([^/\s]+)/[^/\s]+/(\S+) executado em ([\d.]+) s", log):
        tempos[f"{aluno}/{notebook}"] = float(segundos)
    progresso = r"\[corrigir\] \d+/\d+ notebooks · ([\w-]+)/([\w-]+): ([\d.]+) s"
    for aluno, atividade, segundos in re.findall(progresso, log):
        tempos.setdefault(f"{aluno}/{atividade}", float(segundos))
    print(f"\n[turma de treino] código {codigo}; tempos (s): {json.dumps(tempos, indent=1)}")
    notas: dict[tuple[str, str], dict[str, float]] = {}
    with abrir_gradebook(pasta) as gradebook:
        for atividade in atividades:
            for aluno in ("solucao", "em_branco", *alunos):
                if not (pasta / "submitted" / aluno / atividade).is_dir():
                    continue
                notas[aluno, atividade] = {
                    grade_id: gradebook.find_grade(grade_id, atividade, atividade, aluno).score
                    for grade_id in pontos_por_atividade[atividade]
                }
    return {"pasta": pasta, "notas": notas, "log": log, "tempos": tempos}


def notebook_corrigido(turma, aluno: str, atividade: str):
    """O notebook de `aluno` depois do autograde (com o traceback completo de cada teste)."""
    return ler(turma["pasta"] / "autograded" / aluno / atividade / f"{atividade}.ipynb")


def conferir_respostas_chumbadas(turma: dict, atividade: str) -> None:
    """`fixo` tira zero em cada teste, e cada falha está no trecho OCULTO do teste (passa nos visíveis)."""
    notas = turma["notas"]["fixo", atividade]
    assert all(nota == 0 for nota in notas.values()), f"{atividade}: {notas}"
    for celula in notebook_corrigido(turma, "fixo", atividade).cells:
        if not meta_nbgrader(celula).get("grade"):
            continue
        erros = [s for s in celula.get("outputs", []) if s.get("output_type") == "error"]
        assert erros, meta_nbgrader(celula)["grade_id"]
        traceback = ANSI.sub("", "\n".join(erros[0]["traceback"]))
        linha_do_erro = int(re.search(r"Cell In\[\d+\], line (\d+)", traceback).group(1))
        inicio_oculto = next(
            i for i, linha in enumerate(celula.source.splitlines(), 1) if "### BEGIN HIDDEN TESTS" in linha
        )
        assert linha_do_erro > inicio_oculto, (
            f"{atividade}/{meta_nbgrader(celula)['grade_id']}: a resposta chumbada falhou num teste VISÍVEL:\n"
            f"{traceback[-1500:]}"
        )


def conferir_cada_erro_classico(turma: dict, atividade: str, pontos_da_atividade: dict[str, int], erros: dict) -> None:
    """Cada erro clássico perde os pontos do teste da sua célula, e só eles."""
    for aluno, trocas in erros.items():
        notas = turma["notas"].get((aluno, atividade))
        if notas is None:
            continue
        esperado = {
            grade_id: 0 if resposta_do_teste(grade_id) in trocas else pontos
            for grade_id, pontos in pontos_da_atividade.items()
        }
        assert notas == esperado, f"{aluno}/{atividade}: {notas}, esperado {esperado}"


def conferir_sem_tempo_esgotado(turma: dict, atividade: str) -> None:
    """Nenhuma célula das soluções corretas passou do tempo nem derrubou o kernel."""
    for aluno in ALUNOS_COM_NOTA_MAXIMA:
        for celula in notebook_corrigido(turma, aluno, atividade).cells:
            for saida in celula.get("outputs", []):
                assert saida.get("ename") not in ("CellTimeoutError", "DeadKernelError"), (aluno, atividade)
