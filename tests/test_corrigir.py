"""exercises/corrigir.py (com nbgrader_config.py e execucao_protegida.py): uma correção justa e que
não engana.

O ciclo do professor numa cópia temporária do curso, `generate_assignment` -> entregas de alunos
fictícios -> `corrigir.py` (reparo, conferência, autograde em paralelo, devolutivas, exportação) ->
correção manual simulada -> `corrigir.py --apenas-feedback`. Alunos: `solucao` (as fontes),
`em_branco` (a versão do aluno), `visivel` (as respostas `ERRADAS` de cada exercício, que passam nos
testes visíveis), `ruidoso` (as `ALTERNATIVAS` de cada exercício, que avisam, mostram tqdm, escrevem
em stderr e imprimem muito), `sem_metadados` e `reparado` (salvos sem os metadados do nbgrader),
`adulterador` (um teste e uma célula de dados editados; uma resposta marcada como teste),
`renomeado` ("Cópia de ..."), `quebrado` (arquivo que não é notebook), `travado` (laço infinito
imprimindo) e `teimoso` (30 MB de saída e interrupção ignorada). Os exercícios 7 e 8 têm a sua
própria turma (`tests/test_exercise_ex07_passo_de_treino.py`, `tests/test_exercise_ex08_validacao.py`).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.exercise_helpers import (
    ANSI,
    ATIVIDADES,
    EXERCICIOS,
    FONTES,
    LENTO,
    REPO,
    abrir_gradebook,
    acrescentar,
    adulterar,
    copiar_curso_com_release,
    entregar,
    fora_dos_trechos,
    ler,
    meta_nbgrader,
    modificar_respostas,
    modulo_do_exercicio,
    notas_csv,
    publicar,
    rodar_corrigir,
    salvo_sem_metadados,
    trechos_marcados,
    trocar_solucoes,
    verificar_entregas,
)

# Os exercícios com respostas ERRADAS e ALTERNATIVAS (1 a 6) entram na turma como `visivel` e `ruidoso`.
ATIVIDADES_COM_CASOS = [a for a in ATIVIDADES if hasattr(modulo_do_exercicio(a), "ERRADAS")]
ERRADAS = {g: c for a in ATIVIDADES_COM_CASOS for g, c in modulo_do_exercicio(a).ERRADAS.items()}
ALTERNATIVAS = {g: c for a in ATIVIDADES_COM_CASOS for g, c in modulo_do_exercicio(a).ALTERNATIVAS.items()}

LACO_QUE_IMPRIME = (
    "\nimport time\nprint('x' * 5_000_000)\nwhile True:\n    print('laço infinito ' * 50)\n    time.sleep(0.01)\n"
)
LACO_TEIMOSO = (
    "\nimport time\nprint('y' * 30_000_000)\nwhile True:\n    try:\n        time.sleep(0.05)\n"
    "    except KeyboardInterrupt:\n        pass  # ignora a interrupção: só reiniciando o kernel\n"
)


@pytest.fixture(scope="module")
def curso(tmp_path_factory):
    """Cópia do curso com a versão do aluno gerada agora pelo nbgrader."""
    return copiar_curso_com_release(tmp_path_factory.mktemp("curso") / "exercises")


def test_config_do_nbgrader(monkeypatch):
    from traitlets.config import Config

    # O config mexe em os.environ e sys.path: nada disso pode vazar para os outros testes.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(EXERCICIOS / "nbgrader_config.py")}
    codigo = (EXERCICIOS / "nbgrader_config.py").read_text(encoding="utf-8")
    exec(compile(codigo, "nbgrader_config.py", "exec"), namespace)
    assert config.CourseDirectory.root == str(EXERCICIOS)
    assert "SEU CÓDIGO AQUI" in config.ClearSolutions.code_stub["python"]
    assert config.ClearSolutions.text_stub == "ESCREVA SUA RESPOSTA AQUI"
    assert config.Execute.timeout == 60 and config.Execute.interrupt_on_timeout
    assert config.LimitOutput.max_lines > 0 and config.LimitOutput.max_traceback > 0
    nomes = [classe.__name__ for classe in config.Autograde.autograde_preprocessors]
    assert "ExecucaoProtegida" in nomes and "Execute" not in nomes
    nomes = [classe.__name__ for classe in config.Autograde.sanitize_preprocessors]
    assert "SobrescreverCelulas" in nomes and "OverwriteCells" not in nomes
    assert "OcultarTestesOcultos" in [classe.__name__ for classe in config.GenerateFeedback.preprocessors]
    assert config.ExecucaoProtegida.stderr_como_stdout
    assert Path(config.ExecucaoProtegida.arquivo_tempos) == EXERCICIOS / "tempos_solucoes.json"


def test_limite_de_cada_celula_vem_dos_tempos_medidos_com_margem():
    import execucao_protegida

    medidos = json.loads((EXERCICIOS / "tempos_solucoes.json").read_text(encoding="utf-8"))["notebooks"]
    limites = execucao_protegida.limites_por_celula(EXERCICIOS / "tempos_solucoes.json", margem=10.0, piso=10)
    for fonte in FONTES:
        chave = f"{fonte.parent.name}/{fonte.stem}"
        if fonte.parent.name not in ATIVIDADES_COM_CASOS:
            continue
        celulas = {meta_nbgrader(c)["grade_id"] for c in ler(fonte).cells if meta_nbgrader(c) and c.cell_type == "code"}
        assert set(medidos[chave]) == celulas, f"{chave}: rode python corrigir.py --medir-tempos"
        for celula, segundos in medidos[chave].items():
            assert limites[chave][celula] >= max(10, 10 * segundos)
    # O stderr vira stdout (o nbgrader zeraria o teste) e o aviso de saída truncada não vai para stderr.
    texto = (EXERCICIOS / "execucao_protegida.py").read_text(encoding="utf-8")
    assert 'name="stderr", text=AVISO_SAIDA_TRUNCADA' not in texto


def test_zip_collect_como_no_guia_do_professor(curso, tmp_path):
    """O comando de `nbgrader zip_collect` de book/professor/correcao.md funciona como descrito."""
    import zipfile

    guia = (REPO / "book" / "professor" / "correcao.md").read_text(encoding="utf-8")
    regexp = re.search(r"--FileNameCollectorPlugin\.named_regexp='([^']+)'", guia).group(1)
    pasta = tmp_path / "exercises"
    shutil.copytree(curso, pasta)
    release = (curso / "release" / "ex01_divisao" / "ex01_divisao.ipynb").read_bytes()
    arquivo = pasta / "downloaded" / "ex01_divisao" / "archive" / "ex01-envios.zip"
    arquivo.parent.mkdir(parents=True)
    with zipfile.ZipFile(arquivo, "w") as envios:  # o formato do "baixar todas as entregas" do Moodle
        envios.writestr("Maria Silva_123456_assignsubmission_file_/ex01_divisao.ipynb", release)
        envios.writestr("João Souza_654321_assignsubmission_file_/Cópia de ex01_divisao.ipynb", release)
    resultado = publicar.rodar_nbgrader(
        ["zip_collect", "ex01_divisao", "--force", f"--FileNameCollectorPlugin.named_regexp={regexp}"], pasta
    )
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr
    assert (pasta / "submitted" / "123456" / "ex01_divisao" / "ex01_divisao.ipynb").read_bytes() == release
    entregas = {e.aluno: e for e in verificar_entregas.verificar(pasta, atividade="ex01_divisao")}
    assert entregas["123456"].ok
    assert "renomeie para 'ex01_divisao.ipynb'" in entregas["654321"].problemas[0]


# --------------------------------------------------------------------------- a correção da turma

# Uma resposta correta que, ao ser chamada, mostra um aviso (UserWarning), uma barra do tqdm,
# uma linha em stderr e um print longo (que o corretor trunca): nada disso pode custar pontos.
RUIDO = '''
import functools as _functools, sys as _sys, warnings as _warnings
from tqdm import tqdm as _tqdm

def _com_ruido(funcao):
    @_functools.wraps(funcao)
    def embrulhada(*args, **kwargs):
        _warnings.warn("aviso de depuração do aluno", UserWarning)
        for _ in _tqdm(range(3), desc="depurando"):
            pass
        print("mensagem em stderr", file=_sys.stderr)
        print("depuração " * 3_000)  # 30 mil caracteres: passa do limite de saída da célula
        return funcao(*args, **kwargs)
    return embrulhada
'''


def _com_ruido(nb):
    def ruidosas(fonte: str, nomes: list[str]) -> str:
        return fonte + "\n" + RUIDO + "".join(f"\n{nome} = _com_ruido({nome})" for nome in nomes)

    return modificar_respostas(nb, ruidosas)


class Turma:
    def __init__(self, pasta: Path, codigos: dict[str, int], log: str, tempos: dict[str, float]):
        self.pasta, self.codigos, self.log, self.tempos = pasta, codigos, log, tempos

    def notas(self, aluno: str) -> dict[str, tuple[float, float]]:
        return {atividade: nota for (quem, atividade), nota in notas_csv(self.pasta).items() if quem == aluno}

    def corrigido(self, aluno: str, atividade: str) -> Path:
        return self.pasta / "autograded" / aluno / atividade / f"{atividade}.ipynb"


@pytest.fixture(scope="module")
def turma(curso, tmp_path_factory):
    pasta = tmp_path_factory.mktemp("turma") / "exercises"
    shutil.copytree(curso, pasta)  # com release/, o gradebook.db do generate_assignment e tempos_solucoes.json

    for fonte in FONTES:
        atividade = fonte.parent.name
        solucao = ler(fonte)
        entregar(pasta, "solucao", atividade, solucao)
        entregar(pasta, "em_branco", atividade, ler(curso / "release" / atividade / fonte.name))
        if atividade in ATIVIDADES_COM_CASOS:
            entregar(pasta, "visivel", atividade, trocar_solucoes(solucao, ERRADAS))
            # Outras soluções corretas, que além disso avisam, mostram barras de progresso e imprimem muito.
            entregar(pasta, "ruidoso", atividade, _com_ruido(trocar_solucoes(solucao, ALTERNATIVAS)))
    ex01 = ler(EXERCICIOS / "source" / "ex01_divisao" / "ex01_divisao.ipynb")
    sem_metadados = copy.deepcopy(ex01)
    for celula in sem_metadados.cells:
        celula.metadata.pop("nbgrader", None)
    entregar(pasta, "sem_metadados", "ex01_divisao", sem_metadados)
    respostas = {meta_nbgrader(c)["grade_id"]: c.source for c in ex01.cells if meta_nbgrader(c).get("solution")}
    release_ex01 = ler(curso / "release" / "ex01_divisao" / "ex01_divisao.ipynb")
    entregar(pasta, "reparado", "ex01_divisao", salvo_sem_metadados(release_ex01, respostas))
    # Adulterações: um teste visível trocado e a célula de dados editada (ex01); uma resposta
    # marcada como teste com pontos (ex02), que derrubaria o nbgrader sem o reparo.
    adulterado = adulterar(ex01, "teste-contar-compartilhadas", "# apaguei os testes\npass")
    dados = next(c for c in adulterado.cells if meta_nbgrader(c).get("grade_id") == "dados")
    dados.source += "\ndf_sms = df_sms.head(10)"
    entregar(pasta, "adulterador", "ex01_divisao", adulterado)
    ex02 = ler(EXERCICIOS / "source" / "ex02_tokenizacao" / "ex02_tokenizacao.ipynb")
    for celula in ex02.cells:
        if meta_nbgrader(celula).get("grade_id") == "codificar-lote":
            celula.metadata.nbgrader.update(grade=True, points=3)
    entregar(pasta, "adulterador", "ex02_tokenizacao", ex02)
    ex06 = ler(EXERCICIOS / "source" / "ex06_memoria" / "ex06_memoria.ipynb")
    entregar(pasta, "renomeado", "ex06_memoria", ex06, nome="Cópia de ex06_memoria.ipynb")
    (pasta / "submitted" / "quebrado" / "ex06_memoria").mkdir(parents=True)
    (pasta / "submitted" / "quebrado" / "ex06_memoria" / "ex06_memoria.ipynb").write_text("{ isto não é json")
    entregar(pasta, "travado", "ex06_memoria", acrescentar(ex06, "estimar-memoria", LACO_QUE_IMPRIME))
    entregar(pasta, "teimoso", "ex06_memoria", acrescentar(ex06, "estimar-memoria", LACO_TEIMOSO))

    inicio = time.monotonic()
    codigos = {"turma": rodar_corrigir(pasta, "--processos", "2").wait(timeout=1500)}
    tempos = {"correcao_s": time.monotonic() - inicio}

    # Correção manual da resposta de texto (o que o professor faz no formgrader), depois devolutivas e notas.
    with abrir_gradebook(pasta) as gradebook:
        nota = gradebook.find_grade("resposta-etica", "ex06_memoria", "ex06_memoria", "solucao")
        nota.manual_score = nota.max_score
        nota.needs_manual_grade = False
        gradebook.db.commit()
    inicio = time.monotonic()
    codigos["feedback"] = rodar_corrigir(
        pasta, "--apenas-feedback", "--atividade", "ex06_memoria", "--aluno", "solucao"
    ).wait(timeout=600)
    tempos["apenas_feedback_s"] = time.monotonic() - inicio
    log = (pasta.parent / "corrigir.log").read_text(encoding="utf-8")
    for aluno, notebook, segundos in re.findall(r"\[corretor\] ([^/\s]+)/[^/\s]+/(\S+) executado em ([\d.]+) s", log):
        tempos[f"{aluno}/{notebook}"] = float(segundos)
    print(f"\n[test_corrigir] tempos (s): {json.dumps(tempos, indent=1)}")
    return Turma(pasta, codigos, log, tempos)


@LENTO
def test_solucao_de_referencia_ganha_nota_maxima(turma):
    notas = turma.notas("solucao")
    assert sorted(notas) == sorted(ATIVIDADES)
    for atividade, (nota, maximo) in notas.items():
        assert maximo > 0 and nota == maximo, f"{atividade}: {nota}/{maximo}\n{turma.log[-3000:]}"


@LENTO
def test_solucoes_alternativas_e_com_avisos_ganham_nota_maxima(turma):
    for aluno in ("ruidoso",):
        notas = turma.notas(aluno)
        assert set(ATIVIDADES_COM_CASOS) <= set(notas)
        for atividade in ATIVIDADES_COM_CASOS:
            nota, maximo = notas[atividade]
            if atividade == "ex06_memoria":  # a resposta de texto espera a correção manual
                maximo -= 2
            assert nota == maximo, f"{aluno}/{atividade}: {nota}/{maximo}"
    # O ruído chegou às células de teste (como stdout, não como stderr) e foi truncado.
    corrigido = ler(turma.corrigido("ruidoso", "ex02_tokenizacao"))
    saidas = [s for c in corrigido.cells if meta_nbgrader(c).get("grade") for s in c.get("outputs", [])]
    texto = "".join(s.get("text", "") for s in saidas)
    assert "aviso de depuração do aluno" in texto and "mensagem em stderr" in texto and "saída truncada" in texto
    assert not any(s.get("name") == "stderr" for s in saidas)


@LENTO
def test_release_sem_resposta_tira_zero(turma):
    notas = turma.notas("em_branco")
    assert sorted(notas) == sorted(ATIVIDADES)
    assert all(nota == 0 for nota, _ in notas.values()), notas
    with abrir_gradebook(turma.pasta) as gradebook:
        assert not gradebook.find_submission("ex06_memoria", "em_branco").needs_manual_grade


@LENTO
def test_testes_ocultos_pegam_quem_so_passa_nos_visiveis(turma):
    notas = turma.notas("visivel")
    assert set(ATIVIDADES_COM_CASOS) <= set(notas)
    for atividade in ATIVIDADES_COM_CASOS:
        nota, maximo = notas[atividade]
        assert nota < maximo, f"{atividade}: a solução errada ganhou {nota}/{maximo}"
        falhas = 0
        # O autograded (não a devolutiva) tem o traceback completo: a falha deve estar no trecho oculto.
        for celula in ler(turma.corrigido("visivel", atividade)).cells:
            if not (meta_nbgrader(celula).get("grade") and celula.cell_type == "code"):
                continue
            for saida in celula.get("outputs", []):
                if saida.get("output_type") != "error":
                    continue
                falhas += 1
                traceback = ANSI.sub("", "\n".join(saida["traceback"]))
                linha_do_erro = int(re.search(r"Cell In\[\d+\], line (\d+)", traceback).group(1))
                linhas = celula.source.splitlines()
                inicio_oculto = next(i for i, linha in enumerate(linhas, 1) if "### BEGIN HIDDEN TESTS" in linha)
                assert linha_do_erro > inicio_oculto, (
                    f"{atividade}/{meta_nbgrader(celula)['grade_id']}: a solução errada falhou num teste VISÍVEL "
                    f"(linha {linha_do_erro}):\n{traceback[-1500:]}"
                )
        assert falhas >= 1, atividade


@LENTO
def test_metadados_removidos_ou_alterados_sao_reparados_e_corrigidos(turma):
    assert re.search(r"sem_metadados/ex01_divisao/ex01_divisao\.ipynb: \S+: metadados recolocados", turma.log)
    assert re.search(r"adulterador/ex02_tokenizacao/ex02_tokenizacao\.ipynb: codificar-lote: metadados alterados "
                     r"\(grade, points\) voltaram", turma.log)
    assert turma.notas("sem_metadados")["ex01_divisao"] == (5.0, 5.0)
    assert turma.notas("reparado")["ex01_divisao"] == (5.0, 5.0)
    assert turma.notas("adulterador")["ex02_tokenizacao"] == (5.0, 5.0)
    original = turma.pasta / "submitted" / "sem_metadados" / "ex01_divisao" / "ex01_divisao.ipynb.antes-do-reparo"
    assert original.is_file() and not any(meta_nbgrader(c) for c in ler(original).cells)
    assert "'Cópia de ex06_memoria.ipynb' copiado para 'ex06_memoria.ipynb'" in turma.log
    assert turma.notas("renomeado")["ex06_memoria"] == (4.0, 6.0)  # + 2 da correção manual
    # O que não dá para reparar: não vai para o nbgrader, e o resumo diz por quê.
    assert re.search(r"quebrado\s+ex06_memoria\s+-\s+ex06_memoria\.ipynb: NÃO CORRIGIDO: não é um notebook válido",
                     turma.log)
    assert "=== 4. Resumo ===" in turma.log, "corrigir.py não pode parar no meio"
    for aluno in ("solucao", "em_branco", "ruidoso", "visivel", "sem_metadados", "reparado"):
        entregues = [e for e in verificar_entregas.verificar(turma.pasta, aluno=aluno)
                     if (turma.pasta / "submitted" / aluno / e.atividade).is_dir()]
        assert entregues and all(e.ok for e in entregues), (
            f"alarme falso em {aluno}: {[e.problemas for e in entregues]}")
    assert turma.codigos["turma"] == 1, "com reparos e problemas, corrigir.py deve sair com código 1"


@LENTO
def test_adulteracao_apontada_por_aluno_e_celula_sem_avisos_para_todos(turma):
    adulteracoes = sorted(re.findall(r"- (\w+)/(\w+)/\S+: ADULTERAÇÃO: célula de [\w ]+ '([\w-]+)'", turma.log))
    assert adulteracoes == [("adulterador", "ex01_divisao", "dados"),
                            ("adulterador", "ex01_divisao", "teste-contar-compartilhadas")], adulteracoes
    assert turma.notas("adulterador")["ex01_divisao"] == (5.0, 5.0), "a edição não muda a nota"
    assert "Checksum" not in turma.log and "has changed" not in turma.log
    # Nenhum aviso do nbgrader que apareça para todo aluno: cada WARNING do log é de um só aluno.
    avisos = [linha for linha in turma.log.splitlines() if "WARNING" in linha]
    prefixos = [re.match(r"\s*\[(\w+)\]", linha) for linha in avisos]
    alunos_com_aviso = {prefixo.group(1) for prefixo in prefixos if prefixo}
    assert not ({"solucao", "em_branco", "ruidoso"} & alunos_com_aviso), avisos[:5]


@LENTO
def test_laco_infinito_e_saida_enorme_nao_param_a_turma(turma):
    travado = turma.corrigido("travado", "ex06_memoria")
    teimoso = turma.corrigido("teimoso", "ex06_memoria")
    for caminho in (travado, teimoso):
        assert caminho.is_file(), f"{caminho} não foi corrigido"
        assert caminho.stat().st_size < 200_000, "a saída enorme deveria ter sido truncada"
    erros = lambda caminho: [  # noqa: E731
        saida for celula in ler(caminho).cells for saida in celula.get("outputs", [])
        if saida.get("output_type") == "error"
    ]
    assert any(e["ename"] == "CellTimeoutError" for e in erros(travado))
    assert any("reiniciado" in e.get("evalue", "") for e in erros(teimoso))
    # O laço do `travado` vem depois das definições: a interrupção não tira a nota dele.
    assert turma.notas("travado")["ex06_memoria"][0] == 4.0
    assert turma.notas("teimoso")["ex06_memoria"][0] == 0.0  # o kernel reiniciado perdeu as funções
    assert "passaram do tempo" in turma.log
    # E o resto da turma foi corrigido, com devolutivas.
    for aluno in ("solucao", "em_branco", "visivel", "ruidoso"):
        for atividade in (ATIVIDADES if aluno in ("solucao", "em_branco") else ATIVIDADES_COM_CASOS):
            assert turma.corrigido(aluno, atividade).is_file(), (aluno, atividade)
            devolutiva = turma.pasta / "feedback" / aluno / atividade / f"{atividade}.html"
            assert devolutiva.is_file(), devolutiva


@LENTO
def test_progresso_por_aluno_e_notebook_com_contagem_de_tempo_esgotado(turma):
    progresso = re.findall(r"\[corrigir\] (\d+)/(\d+) notebooks · (\w+)/(\w+): [\d.]+ s.*?"
                           r"células que passaram do tempo até agora: (\d+)", turma.log)
    total = int(progresso[0][1])
    assert sorted(int(p[0]) for p in progresso) == list(range(1, total + 1)), "uma linha por notebook"
    contagens = [int(p[4]) for p in progresso]
    assert contagens == sorted(contagens) and contagens[-1] >= 1, "contagem de células que passaram do tempo"
    assert re.search(r"\[corrigir\] aluno \d+/\d+: solucao corrigido em \d+ s", turma.log)
    assert re.search(r"\[corrigir\] turma corrigida em \d+ s", turma.log)


def _texto_html(caminho: Path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", caminho.read_text(encoding="utf-8")))


def _segredos(atividade: str) -> set[str]:
    """Linhas distintivas das soluções e dos testes ocultos de uma atividade (o que o aluno não vê)."""
    texto = "\n".join(c.source for c in ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb").cells)
    secretas = trechos_marcados(texto, "### BEGIN SOLUTION", "### END SOLUTION")
    secretas += trechos_marcados(texto, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    publicas = {linha.strip() for linha in fora_dos_trechos(texto)}
    return {linha.strip() for linha in secretas if linha.strip() not in publicas and len(linha.strip()) >= 12}


@LENTO
def test_devolutivas_nao_mostram_testes_ocultos_nem_solucoes(turma, tmp_path):
    devolutivas = sorted((turma.pasta / "feedback").rglob("*.html"))
    assert len(devolutivas) >= 3 * len(ATIVIDADES)
    outros = [p for p in (turma.pasta / "feedback").rglob("*") if p.is_file() and p.suffix != ".html"]
    assert not outros, f"só devolutivas em HTML vão para o aluno: {outros[:3]}"
    for devolutiva in devolutivas:
        aluno, atividade = devolutiva.parts[-3], devolutiva.parts[-2]
        entregue = turma.pasta / "submitted" / aluno / atividade / f"{atividade}.ipynb"
        proprias = {linha.strip() for c in ler(entregue).cells for linha in c.source.splitlines()}
        texto = _texto_html(devolutiva)
        marcadores = {m for m in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION")
                      if not any(m in linha for linha in proprias)}  # quem entregou a fonte escreveu os marcadores
        proibidas = (_segredos(atividade) - proprias) | marcadores
        vazadas = [linha for linha in proibidas if linha in texto]
        assert not vazadas, f"{aluno}/{atividade}: a devolutiva mostra {vazadas[:3]}"
    # Mas diz qual teste falhou e a mensagem.
    texto = _texto_html(turma.pasta / "feedback" / "visivel" / "ex01_divisao" / "ex01_divisao.html")
    assert "mensagens distintas em comum" in texto and "testes ocultos" in texto
    # Opção do professor: mostrar os testes ocultos (numa cópia, para não mexer nas outras devolutivas).
    copia = tmp_path / "exercises"
    shutil.copytree(turma.pasta, copia)
    subprocess.run([sys.executable, str(copia / "corrigir.py"), "--apenas-feedback", "--mostrar-testes-ocultos",
                    "--aluno", "visivel", "--atividade", "ex01_divisao"], cwd=copia, capture_output=True, timeout=600)
    texto = _texto_html(copia / "feedback" / "visivel" / "ex01_divisao" / "ex01_divisao.html")
    assert "assert contar_compartilhadas(c, d) == 2" in texto


@LENTO
def test_apenas_feedback_depois_da_correcao_manual(turma):
    assert turma.codigos["feedback"] == 0, turma.log[-3000:]
    assert turma.notas("solucao")["ex06_memoria"] == (6.0, 6.0)
    assert "Tudo corrigido sem problemas." in turma.log
