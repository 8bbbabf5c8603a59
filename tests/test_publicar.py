"""exercises/publicar.py: os enunciados em dia, nada de solução vazando, as células do Colab e a
página de exercícios do livro.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.exercise_helpers import (
    ATIVIDADES,
    EXERCICIOS,
    FONTES,
    REPO,
    copiar_curso_com_release,
    fora_dos_trechos,
    ler,
    meta_nbgrader,
    publicar,
    trechos_marcados,
)


@pytest.fixture(scope="module")
def curso(tmp_path_factory):
    """Cópia do curso com a versão do aluno gerada agora pelo nbgrader."""
    return copiar_curso_com_release(tmp_path_factory.mktemp("curso") / "exercises")


def test_ha_seis_atividades_com_testes_ocultos_e_uma_resposta_manual():
    assert len(ATIVIDADES) >= 6
    testes_automaticos, manuais = 0, 0
    for fonte in FONTES:
        nb = ler(fonte)
        assert nb.metadata["kernelspec"]["name"] == "python3", fonte
        grade_ids = [meta_nbgrader(c)["grade_id"] for c in nb.cells if meta_nbgrader(c)]
        assert len(grade_ids) == len(set(grade_ids)), f"grade_id repetido em {fonte.name}"
        ids = [c.get("id") for c in nb.cells]
        assert len(ids) == len(set(ids)), f"id de célula repetido em {fonte.name}"
        assert nb.cells[0].get("id") == publicar.ID_INSTALACAO and nb.cells[0].cell_type == "code"
        for celula in nb.cells:
            meta = meta_nbgrader(celula)
            if meta.get("grade") and not meta.get("solution"):
                testes_automaticos += 1
                assert meta.get("locked"), f"teste não travado: {meta['grade_id']}"
                assert "### BEGIN HIDDEN TESTS" in celula.source, f"teste sem parte oculta: {meta['grade_id']}"
            if meta.get("grade") and meta.get("solution"):
                manuais += 1
                assert celula.cell_type == "markdown"
            if meta.get("solution") and celula.cell_type == "code":
                assert "### BEGIN SOLUTION" in celula.source and "### END SOLUTION" in celula.source
    assert testes_automaticos >= 12
    assert manuais >= 1


def test_release_publicado_esta_em_dia(curso):
    gerados = sorted(p.relative_to(curso / "release") for p in (curso / "release").rglob("*") if p.is_file())
    publicados = sorted(
        p.relative_to(EXERCICIOS / "release")
        for p in (EXERCICIOS / "release").rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    assert publicados == gerados, "rode: python exercises/publicar.py"
    for relativo in gerados:
        diferencas = publicar.comparar_notebooks(curso / "release" / relativo, EXERCICIOS / "release" / relativo)
        assert diferencas == [], f"release/{relativo} desatualizado (rode python exercises/publicar.py): {diferencas}"


def test_release_nao_tem_solucoes_nem_testes_ocultos():
    for fonte in FONTES:
        release = EXERCICIOS / "release" / fonte.parent.name / fonte.name
        texto_bruto = release.read_text(encoding="utf-8")
        for marcador in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marcador not in texto_bruto, f"{release.name} contém {marcador!r}"
        texto_release = "\n".join(c.source for c in ler(release).cells)
        fonte_texto = "\n".join(c.source for c in ler(fonte).cells)
        secretas = trechos_marcados(fonte_texto, "### BEGIN SOLUTION", "### END SOLUTION")
        secretas += trechos_marcados(fonte_texto, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        publicas = {linha.strip() for linha in fora_dos_trechos(fonte_texto)}
        distintivas = {linha.strip() for linha in secretas
                       if linha.strip() not in publicas and len(linha.strip()) >= 12}
        assert distintivas, fonte.name
        vazadas = [linha for linha in distintivas if linha in texto_release]
        assert not vazadas, f"{release.name} deixa vazar: {vazadas[:3]}"
        assert "# SEU CÓDIGO AQUI" in texto_release or "ESCREVA SUA RESPOSTA AQUI" in texto_release


def test_celulas_do_colab_vem_de_config_yml():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    dono, repo = url.removeprefix("https://github.com/").split("/")[:2]
    ramo = config["repository"].get("branch", "main")
    assert publicar.sincronizar_fontes(so_verificar=True) == []
    # Uma só célula de instalação (tools/sync_colab.py): a dos exercícios é a mesma dos notebooks da aula.
    instalacao_da_aula = ler(REPO / "notebooks" / "01_dados.ipynb").cells[1].source
    for fonte in FONTES:
        relativo = f"exercises/release/{fonte.parent.name}/{fonte.name}"
        nb = ler(REPO / relativo)
        instalacao, selo = nb.cells[0], nb.cells[1]
        assert instalacao.cell_type == "code"
        assert instalacao.source == instalacao_da_aula
        assert '"google.colab" in sys.modules' in instalacao.source
        assert f"%pip install -q git+{url}" in instalacao.source
        assert publicar.tempo_estimado(fonte) > 0  # o tempo de resolver está no enunciado (e na tabela do livro)
        assert f"https://colab.research.google.com/github/{dono}/{repo}/blob/{ramo}/{relativo}" in selo.source


def test_pagina_de_exercicios_link_e_sumario():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    dono, repo = url.removeprefix("https://github.com/").split("/")[:2]
    ramo = config["repository"].get("branch", "main")
    assert publicar.sincronizar_pagina(so_verificar=True) == []
    pagina = (REPO / "book" / "exercicios.md").read_text(encoding="utf-8")
    # book/exercises/release espelha o caminho real no repositório: os botões de lançamento
    # do livro (Colab) montam a URL a partir do caminho da página.
    link = REPO / "book" / "exercises" / "release"
    assert link.is_symlink() and Path(link.readlink()).as_posix() == "../../exercises/release"
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    capitulos = [c for parte in toc["parts"] for c in parte["chapters"] if c["file"] == "exercicios"]
    assert len(capitulos) == 1
    secoes = [s["file"] for s in capitulos[0].get("sections", [])]
    assert secoes == [f"exercises/release/{f.parent.name}/{f.stem}" for f in FONTES]
    for secao, fonte in zip(secoes, FONTES):
        assert (REPO / "book" / f"{secao}.ipynb").is_file()
        # O livro não executa a versão do aluno (as respostas estão em branco): cada notebook
        # desliga a execução nos metadados, além de execute.exclude_patterns do _config.yml.
        assert ler(REPO / "book" / f"{secao}.ipynb").metadata["mystnb"]["execution_mode"] == "off"
        colab = f"https://colab.research.google.com/github/{dono}/{repo}/blob/{ramo}/exercises/release/{fonte.parent.name}/{fonte.name}"
        assert colab in pagina, f"falta o link do Colab de {fonte.name} em book/exercicios.md"
