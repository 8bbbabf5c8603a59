"""exercises/verificar_entregas.py: a conferência aponta cada tipo de problema de uma entrega e o
reparo recoloca os metadados do nbgrader perdidos ou alterados.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys

from tests.exercise_helpers import (
    EXERCICIOS,
    FONTES,
    adulterar,
    entregar,
    ler,
    meta_nbgrader,
    salvo_sem_metadados,
    verificar_entregas,
)


def test_conferencia_aponta_cada_tipo_de_problema(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    atividade = "ex06_memoria"
    fonte = ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
    release = ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")

    entregar(pasta, "certo", atividade, release)
    baguncado = copy.deepcopy(release)
    baguncado.metadata["kernelspec"]["name"] = "ir"
    baguncado.cells = [c for c in baguncado.cells if meta_nbgrader(c).get("grade_id") != "teste-memoria-abordagem3"]
    for celula in baguncado.cells:
        if meta_nbgrader(celula).get("grade_id") == "memoria-abordagem3":
            celula.cell_type = "markdown"
            celula.pop("outputs", None)
            celula.pop("execution_count", None)
    duplicada = next(c for c in baguncado.cells if meta_nbgrader(c).get("grade_id") == "estimar-memoria")
    copia = copy.deepcopy(duplicada)
    copia["id"] = "copia-colada"
    baguncado.cells.append(copia)
    entregar(pasta, "baguncado", atividade, baguncado)
    parcial = copy.deepcopy(fonte)
    for celula in parcial.cells:
        if meta_nbgrader(celula).get("grade_id") == "resposta-etica":
            celula.metadata.pop("nbgrader")
    entregar(pasta, "parcial", atividade, parcial)
    entregar(pasta, "renomeado", atividade, release, nome=f"Cópia de {atividade}.ipynb")
    (pasta / "submitted" / "quebrado" / atividade).mkdir(parents=True)
    (pasta / "submitted" / "quebrado" / atividade / f"{atividade}.ipynb").write_text("{ isto não é json")

    entregas = verificar_entregas.verificar(pasta, atividade="ex06*")
    problemas = {e.aluno: " | ".join(e.problemas) for e in entregas}
    assert problemas["certo"] == ""
    assert "kernel 'ir'" in problemas["baguncado"]
    assert "teste 'teste-memoria-abordagem3' não encontrada" in problemas["baguncado"]
    assert "'memoria-abordagem3' mudou de código para texto" in problemas["baguncado"]
    assert "'estimar-memoria' aparece 2 vezes" in problemas["baguncado"]
    assert "'resposta-etica' perdeu os metadados" in problemas["parcial"]
    assert "renomeie" in problemas["renomeado"] and "Cópia de" in problemas["renomeado"]
    assert "não é um notebook válido" in problemas["quebrado"]
    relatorio = verificar_entregas.tabela(entregas)
    assert relatorio.splitlines()[0].split() == ["Aluno", "Atividade", "Notebook", "Situação"]
    assert "5 notebooks esperados de 5 aluno(s); 4 com problema(s)." in relatorio
    codigo = subprocess.run(
        [sys.executable, str(EXERCICIOS / "verificar_entregas.py"), "--pasta", str(pasta), "--aluno", "certo",
         "--atividade", atividade],
        capture_output=True, text=True,
    ).returncode
    assert codigo == 0
    codigo = subprocess.run(
        [sys.executable, str(EXERCICIOS / "verificar_entregas.py"), "--pasta", str(pasta), "--atividade", atividade],
        capture_output=True, text=True,
    ).returncode
    assert codigo == 1


def test_reparo_recoloca_os_metadados_perdidos(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    shutil.copytree(EXERCICIOS / "release", pasta / "release")
    respostas = {}
    for fonte in FONTES:
        for celula in ler(fonte).cells:
            if meta_nbgrader(celula).get("solution"):
                respostas[meta_nbgrader(celula)["grade_id"]] = celula.source
    for atividade in ("ex01_divisao", "ex06_memoria"):
        release = ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
        entregar(pasta, "sem_ids", atividade, salvo_sem_metadados(release, respostas))
        so_metadados = copy.deepcopy(release)
        for celula in so_metadados.cells:
            celula.metadata.pop("nbgrader", None)
        entregar(pasta, "com_ids", atividade, so_metadados)
    antes = verificar_entregas.verificar(pasta, atividade="ex0[16]*")
    assert all(any("metadados" in p for p in e.problemas) for e in antes)

    acoes = verificar_entregas.reparar(pasta)
    assert any("mesmo id de célula" in a for a in acoes) and any("mesmo conteúdo" in a for a in acoes)
    assert any("posição" in a for a in acoes)
    assert all(e.ok for e in verificar_entregas.verificar(pasta, atividade="ex0[16]*"))
    assert verificar_entregas.reparar(pasta) == [], "reparar de novo não muda nada"
    for atividade in ("ex01_divisao", "ex06_memoria"):
        reparado = ler(pasta / "submitted" / "sem_ids" / atividade / f"{atividade}.ipynb")
        referencia = ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
        por_id = {meta_nbgrader(c)["grade_id"]: c for c in reparado.cells if meta_nbgrader(c)}
        for celula in referencia.cells:
            if meta_nbgrader(celula):
                recebida = por_id[meta_nbgrader(celula)["grade_id"]]
                assert meta_nbgrader(recebida) == meta_nbgrader(celula)
                if meta_nbgrader(celula).get("solution") and celula.cell_type == "code":
                    assert recebida.source == respostas[meta_nbgrader(celula)["grade_id"]], "metadados na célula errada"
        original = pasta / "submitted" / "sem_ids" / atividade / f"{atividade}.ipynb.antes-do-reparo"
        assert original.is_file() and not any(meta_nbgrader(c) for c in ler(original).cells)


def test_conferencia_aponta_adulteracao_e_metadados_alterados_celula_por_celula(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    shutil.copytree(EXERCICIOS / "release", pasta / "release")
    atividade = "ex06_memoria"
    release = ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
    entregar(pasta, "certo", atividade, release)
    espacos = copy.deepcopy(release)  # outro editor: espaços no fim das linhas e \r\n não são adulteração
    for celula in espacos.cells:
        if meta_nbgrader(celula).get("locked"):
            celula.source = celula.source.replace("\n", "  \r\n") + "\n"
    entregar(pasta, "outro_editor", atividade, espacos)
    adulterado = adulterar(release, "teste-estimar-memoria", "# testes apagados\npass")
    for celula in adulterado.cells:
        if meta_nbgrader(celula).get("grade_id") == "estimar-memoria":
            celula.metadata.nbgrader.update(grade=True, points=3)
    entregar(pasta, "adulterador", atividade, adulterado)

    problemas = {e.aluno: e.problemas for e in verificar_entregas.verificar(pasta, atividade=atividade)}
    assert problemas["certo"] == [] and problemas["outro_editor"] == []
    assert len(problemas["adulterador"]) == 2, problemas["adulterador"]
    assert any("ADULTERAÇÃO: célula de teste 'teste-estimar-memoria'" in p for p in problemas["adulterador"])
    assert any("'estimar-memoria': metadados do nbgrader alterados (grade=True (era False), points=3 (era None))" in p
               or "'estimar-memoria': metadados do nbgrader alterados (grade=True (era False)" in p
               for p in problemas["adulterador"])
    acoes = verificar_entregas.reparar(pasta, atividade=atividade)
    assert acoes == [f"adulterador/{atividade}/{atividade}.ipynb: estimar-memoria: metadados alterados (grade, points) "
                     "voltaram aos da versão do aluno"], acoes
