"""Constrói o livro inteiro sem internet (modo de demonstração) e confere o resultado.

É o que um recém-chegado obtém com `make book` numa máquina sem acesso ao GPT-2.
"""

from __future__ import annotations

import json
import re

import yaml

from tests.conftest import REPO_ROOT


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


_SECRET_BLOCK = re.compile(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)(.*?)### END", flags=re.S)


def solution_lines() -> set[str]:
    """Linhas marcantes das soluções e dos testes ocultos dos exercícios.

    Uma linha que também aparece FORA desses trechos no próprio enunciado (código dado ao aluno,
    como `gerador = torch.Generator().manual_seed(semente)`) é pública e não conta como segredo.
    """
    secret, public = set(), set()
    for path in (REPO_ROOT / "exercises" / "source").rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for block in _SECRET_BLOCK.findall(source):
                secret.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 25)
            public.update(line.strip() for line in _SECRET_BLOCK.sub("", source).splitlines())
    return secret - public


def test_every_toc_page_is_rendered(built_book):
    html_dir, _ = built_book
    missing = [f for f in toc_files() if not (html_dir / f"{f}.html").is_file()]
    assert not missing, missing
    assert len(toc_files()) >= 16


def test_no_error_output_and_demo_mode_is_labelled(built_book):
    html_dir, log = built_book
    pages = {p: p.read_text(encoding="utf-8") for p in html_dir.rglob("*.html")}
    assert not [p for p, text in pages.items() if "Traceback (most recent call last)" in text]
    for name in ("02_gpt2_pretreinado", "05_abordagem3_ultimo_bloco"):
        assert "MODO DE DEMONSTRAÇÃO" in pages[html_dir / "notebooks" / f"{name}.html"]
    assert 'lang="pt' in pages[html_dir / "intro.html"]


def test_no_solution_or_hidden_test_in_site(built_book):
    html_dir, _ = built_book
    secrets = solution_lines()
    assert secrets, "nenhuma solução encontrada em exercises/source"
    leaks = []
    for page in html_dir.rglob("*"):
        if page.suffix not in {".html", ".ipynb", ".txt", ".md", ".js"} or not page.is_file():
            continue
        text = page.read_text(encoding="utf-8", errors="ignore")
        # A página do professor explica os marcadores do nbgrader: citá-los lá não é vazamento.
        documents_markers = "professor" in page.parts
        if not documents_markers and ("BEGIN SOLUTION" in text or "HIDDEN TESTS" in text):
            leaks.append((page.name, "marcador"))
        if "exercises" in page.parts:  # páginas e fontes dos enunciados
            leaks += [(page.name, line) for line in secrets if line in text]
    assert not leaks, leaks[:5]
    assert any("exercises" in p.parts for p in html_dir.rglob("*.html"))


def test_colab_buttons_point_to_real_repository_paths(built_book):
    """O botão do Colab monta a URL com o caminho da página: tem de ser um arquivo real."""
    html_dir, _ = built_book
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    owner_repo = config["repository"]["url"].removeprefix("https://github.com/")
    colab = re.compile(rf"https://colab\.research\.google\.com/github/{re.escape(owner_repo)}/blob/main/([^\"'<> ]+)")
    pages = ["notebooks/01_dados", "exercises/release/ex01_divisao/ex01_divisao"]
    for page in pages:
        targets = set(colab.findall((html_dir / f"{page}.html").read_text(encoding="utf-8")))
        assert targets == {f"{page}.ipynb"}, (page, targets)
        assert (REPO_ROOT / f"{page}.ipynb").is_file()
    # Páginas em Markdown executável não ganham botão (o Colab não abre .md).
    assert not colab.search((html_dir / "conceitos" / "recursos.html").read_text(encoding="utf-8"))


def test_site_has_no_install_cells_no_library_noise_and_contained_code(built_book):
    """O site mostra o curso, não a instalação do Colab nem avisos de bibliotecas."""
    html_dir, _ = built_book
    pages = {p: p.read_text(encoding="utf-8") for p in html_dir.rglob("*.html")}
    # A célula de instalação (etiqueta remove-cell) roda, mas não aparece em página nenhuma.
    assert not [p.name for p, text in pages.items() if "%pip install" in text]
    noise = re.compile(r"\b\w+Warning\b|Retrying in \d|Temporary failure in name resolution|thrown while requesting")
    noisy = []
    for page, text in pages.items():
        for block in re.findall(r'<div class="output (?:stderr|stream|text_plain)[^"]*">(.*?)</div>', text, flags=re.S):
            if noise.search(block):
                noisy.append((page.name, noise.search(block).group(0)))
    assert not noisy, noisy[:5]
    # Código e saídas largas rolam ou quebram dentro da caixa (folha de estilo do curso).
    notebook_page = pages[html_dir / "notebooks" / "01_dados.html"]
    assert "_static/celulas.css" in notebook_page
    assert "white-space: pre-wrap" in (html_dir / "_static" / "celulas.css").read_text(encoding="utf-8")


def test_every_page_has_tasks_and_collapsed_self_checks(built_book):
    """Cada página de conceito, a introdução e cada notebook têm "Experimente" e uma
    "Autoavaliação" cujas respostas ficam fechadas (<details> sem `open`) até o clique."""
    from tests.test_pages import _DetailsChecker

    html_dir, _ = built_book
    pages = [f for f in toc_files() if f == "intro" or f.startswith(("conceitos/", "notebooks/"))]
    assert len(pages) >= 16
    for page in pages:
        html = (html_dir / f"{page}.html").read_text(encoding="utf-8")
        article = html[html.index('<article class="bd-article">'):html.index("</article>")]
        checker = _DetailsChecker()
        checker.feed(article)
        assert not checker.problems, (page, checker.problems)
        assert "Autoavaliação" in article and checker.found >= 3, (page, checker.found)
        tasks_needed = 1 if page.startswith("conceitos/") or page == "intro" else 2
        assert len(re.findall(r"<h[23][^>]*>\s*Experimente", article)) >= tasks_needed, page
        assert "Tempo estimado:" in article, page


def test_built_concept_pages_hide_answers_and_link_the_glossary(built_book):
    from tests.test_pages import PAGES, check_built_page

    html_dir, _ = built_book
    for page in PAGES + ["glossario"]:
        check_built_page(html_dir, page)


def test_site_interface_and_bibliography_in_portuguese(built_book):
    """Interface do tema e bibliografia em português (book/_ext/site_ptbr.py, book/_templates),
    o botão "Relatar problema" abre o formulário em português e nenhum script sai repetido."""
    html_dir, _ = built_book
    intro = (html_dir / "intro.html").read_text(encoding="utf-8")
    english = ["Skip to main content", "Back to top", "Search this book", "Toggle primary sidebar",
               "Toggle secondary sidebar", ">Repository<", "Open issue", "Open an issue",
               "System Settings", "Color mode", "Site navigation", "Your issue content here"]
    assert not [text for text in english if text in intro]
    for text in ["Pular para o conteúdo principal", "Voltar ao topo", "Buscar neste livro", "Relatar problema"]:
        assert text in intro, text
    issue = re.search(r'href="(https://github\.com/[^"]+/issues/new\?[^"]+)"', intro).group(1)
    form = REPO_ROOT / ".github" / "ISSUE_TEMPLATE" / "problema-no-site.yml"
    assert f"template={form.name}" in issue and "pagina=intro.html" in issue, issue
    fields = {item.get("id") for item in yaml.safe_load(form.read_text(encoding="utf-8"))["body"]}
    assert "pagina" in fields  # o botão preenche este campo
    assert 'rel="icon" href="_static/favicon.svg"' in intro
    # O sphinx-thebe pedia o mesmo script duas vezes ("THEBE_JS_URL has already been declared").
    repeated = [p.name for p in html_dir.rglob("*.html")
                if p.read_text(encoding="utf-8").count("const THEBE_JS_URL") > 1]
    assert not repeated, repeated
    readings = (html_dir / "conceitos" / "leituras.html").read_text(encoding="utf-8")
    refs = re.sub(r"<[^>]+>", "", readings[readings.index('class="citation'):])
    assert "Howard e Sebastian Ruder" in refs and "Relatório técnico" in refs and "Em Proceedings" in refs
    assert "Kunal Talwar e Li" in refs and "Mishkin e outros" in refs and "edição revisada" in refs
    assert not re.search(r"\b(?:Technical Report|and others|In Proceedings|April)\b|Talwar, and", refs)
    pages = "".join(p.read_text(encoding="utf-8") for p in html_dir.rglob("*.html"))
    assert "Howard e Ruder, 2018" in pages and "Howard and Ruder" not in pages  # citações no texto
