"""Os slides do professor (tools/slides.py, `make slides`).

O deck é gerado sem internet numa pasta temporária e conferido: uma seção por página de
conceitos (na ordem do sumário), scripts, estilos e imagens locais, notas do apresentador,
fórmulas em MathML, nada de soluções nem de testes escondidos. No Chromium do sistema (nunca
baixado), cada slide cabe na tela e a visão de impressão (?print-pdf) tem uma página por slide.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import CAPTURAS_RAIZ, REPO_ROOT, SPAM_ZIP, TIKTOKEN_CACHE

SCRIPT = REPO_ROOT / "tools" / "slides.py"
CHROMIUM = Path("/usr/bin/chromium")
# Marcas do nbgrader (e afins) que nunca podem chegar a um material mostrado em aula.
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "### BEGIN", "nbgrader")


def load_slides_module():
    if "slides" not in sys.modules:  # as dataclasses do módulo pedem que ele esteja em sys.modules
        spec = importlib.util.spec_from_file_location("slides", SCRIPT)
        sys.modules["slides"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["slides"])
    return sys.modules["slides"]


class DeckParser(HTMLParser):
    """Lê o index.html: páginas (data-pagina), slides, notas e os src/href de scripts, estilos e imagens."""

    def __init__(self):
        super().__init__()
        self.pages: list[str] = []
        self.slides_per_page: dict[str, int] = {}
        self.notes = 0
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-pagina" in attrs:
            self.pages.append(attrs["data-pagina"])
            self.slides_per_page[attrs["data-pagina"]] = 0
        elif tag == "section" and self.pages:
            self.slides_per_page[self.pages[-1]] += 1
        if tag == "aside" and "notes" in attrs.get("class", ""):
            self.notes += 1
        if tag in ("script", "img") and attrs.get("src"):
            self.links.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.links.append((tag, attrs["href"]))


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> Path:
    if not SPAM_ZIP.is_file():
        pytest.skip("espelho do dataset ausente (a página de ética lê a SMS Spam Collection)")
    out = tmp_path_factory.mktemp("slides") / "deck"
    env = {**os.environ, "LLMDEFINITIONS_SPAM_ZIP": str(SPAM_ZIP), "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE),
           "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "LLMDEFINITIONS_MODELS_DIR": str(out.parent / "sem-pesos")}
    result = subprocess.run([sys.executable, str(SCRIPT), "--saida", str(out)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def parsed(deck) -> DeckParser:
    parser = DeckParser()
    parser.feed((deck / "index.html").read_text(encoding="utf-8"))
    return parser


def toc_concept_pages() -> list[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = re.findall(r"'file': '(conceitos/[^']+)'", str(toc))
    assert files, "o sumário não tem páginas de conceitos"
    return files


def test_one_section_per_concept_page_in_toc_order(parsed):
    assert parsed.pages == toc_concept_pages()
    assert all(count >= 2 for count in parsed.slides_per_page.values()), parsed.slides_per_page


def test_every_slide_has_speaker_notes(parsed):
    assert parsed.notes == sum(parsed.slides_per_page.values())


def test_notes_and_titles_come_from_the_pages(deck):
    """Uma única fonte: cada título ## e cada figura das páginas está no deck."""
    index = (deck / "index.html").read_text(encoding="utf-8")
    slides = load_slides_module()
    for name in toc_concept_pages():
        text = (REPO_ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
        for heading in re.findall(r"^## (.+)$", text, flags=re.M):
            rendered = slides.make_parser({}).renderInline(heading)
            assert f">{rendered}</h2>" in index, (name, heading)
        for figure in re.findall(r"^```\{figure\} (\S+)", text, flags=re.M):
            assert f'src="figuras/{Path(figure).name}"' in index, (name, figure)
    # a prosa vai para as notas: uma frase do meio de uma página, inteira
    assert "Howard e Ruder, ao propor o método ULMFiT" in index


def test_scripts_styles_and_images_are_local_and_present(deck, parsed):
    assert {tag for tag, _ in parsed.links} >= {"script", "link", "img"}
    for tag, target in parsed.links:
        assert not re.match(r"^([a-z]+:|//)", target), f"{tag} externo: {target}"
        assert (deck / target).is_file(), f"{tag} ausente: {target}"
    for css in deck.rglob("*.css"):
        for url in re.findall(r"url\(([^)]*)\)|@import\s+['\"]([^'\"]+)", css.read_text(encoding="utf-8")):
            target = (url[0] or url[1]).strip("'\" ")
            assert not re.match(r"^([a-z]+:|//)", target) or target.startswith("data:"), f"{css.name}: {target}"


def test_formulas_are_mathml_and_no_solution_leaks(deck):
    index = (deck / "index.html").read_text(encoding="utf-8")
    assert index.count("<math") >= 10 and "$$" not in index
    for path in deck.rglob("*"):
        if path.suffix in (".html", ".js", ".css", ".svg"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found = [marker for marker in FORBIDDEN if marker in text]
            assert not found, f"{path.relative_to(deck)} contém {found}"


def test_key_sentence_cuts_at_a_pause_without_breaking_markup():
    key_sentence = load_slides_module().key_sentence
    assert key_sentence("**Menos dados rotulados.** Como o modelo já sabe...") == "**Menos dados rotulados.**"
    long = "Um texto com **negrito, e vírgula** " + "palavra " * 30 + "fim. Outra frase."
    cut = key_sentence(long)
    assert cut.endswith(" (…)") and cut.count("**") == 2 and len(cut) <= 160


def test_deck_in_the_browser(deck, parsed):
    """Chromium do sistema: o deck abre sem erros e sem rede, cada slide cabe em 1280 x 720 e a
    visão de impressão tem uma página por slide. As capturas ficam em _build/capturas/slides."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium do sistema ausente ({CHROMIUM})")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = CAPTURAS_RAIZ / "slides"
    shots.mkdir(parents=True, exist_ok=True)
    total = sum(parsed.slides_per_page.values())
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("request", lambda req: None if req.url.startswith(("file:", "data:")) else problems.append(req.url))
        page.goto((deck / "index.html").as_uri() + "?transition=none")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        heights = page.evaluate("""() => [...document.querySelectorAll('.slides > section > section')].map((s) => {
            const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); return s.scrollHeight; })""")
        page.evaluate("() => Reveal.slide(1, 2)")
        page.screenshot(path=str(shots / "slide.png"))
        page.goto((deck / "index.html").as_uri() + "?print-pdf")
        page.wait_for_function(f"() => document.querySelectorAll('.pdf-page').length === {total}")
        page.screenshot(path=str(shots / "impressao.png"), full_page=False)
        browser.close()
    assert not problems, problems
    assert len(heights) == total and max(heights) <= 720, max(heights)
