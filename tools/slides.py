"""Slides do professor (reveal.js) gerados das páginas de conceitos do livro.

Uso:  python tools/slides.py [--saida PASTA]      (o `make slides` grava em _build/slides/)

Uma seção horizontal por página `book/conceitos/*.md`, na ordem do `_toc.yml`, e um slide
vertical por título `##` ou `###`. No slide ficam as figuras, as tabelas, as fórmulas, os
quadros, as saídas das células de código e a frase-chave de cada parágrafo; o texto completo
da página vai para as notas do apresentador (tecla S). Nada é copiado à mão: o deck sai do
mesmo Markdown que o site. As fórmulas viram MathML (latex2mathml) e o reveal.js vem do pacote
sphinx-revealjs (PyPI), copiado para a pasta do deck: a apresentação funciona sem internet.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

REPO_ROOT = Path(__file__).resolve().parents[1]
BOOK = REPO_ROOT / "book"
DEFAULT_OUTPUT = REPO_ROOT / "_build" / "slides"
# Quantas "linhas" (estimadas) cabem num slide de 1280 x 720 antes de abrir uma continuação.
SLIDE_BUDGET = 13.0
# Uma frase-chave mais longa que isto é cortada numa vírgula ou num dois-pontos.
KEY_SENTENCE_CHARS = 150
# Os arquivos do reveal.js que o deck usa (relativos a _static/revealjs do sphinx-revealjs).
REVEAL_FILES = ("dist/reset.css", "dist/reveal.css", "dist/reveal.js", "dist/theme/white.css",
                "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE")


@dataclass
class Unit:
    """Um pedaço de slide: o HTML mostrado, o texto das notas e a altura estimada (em linhas)."""

    html: str = ""
    notes: str = ""
    height: float = 0.0


@dataclass
class Slide:
    """Um slide vertical: título, conteúdo e notas do apresentador."""

    title: str
    level: int
    body: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    height: float = 0.0


# --- Leitura do sumário, da bibliografia e do Markdown ---------------------------------------

def concept_pages(toc: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """As páginas `conceitos/...` do sumário, na ordem em que o site as mostra."""
    found: list[str] = []

    def walk(entry):
        if isinstance(entry, dict):
            name = entry.get("file", "")
            if name.startswith("conceitos/"):
                found.append(name)
            for value in entry.values():
                walk(value)
        elif isinstance(entry, list):
            for item in entry:
                walk(item)

    walk(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return found


def read_citations(bib: Path = BOOK / "referencias.bib") -> dict[str, tuple[str, str]]:
    """Chave -> (autores, ano), para escrever as citações como "Raschka (2024)"."""
    from pybtex.database import parse_file

    citations = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author", [])
        names = [" ".join(p.last_names) for p in people] or [entry.fields.get("organization", key)]
        authors = names[0] + (" et al." if len(names) > 2 else f" e {names[1]}" if len(names) == 2 else "")
        citations[key] = (re.sub(r"[{}]", "", authors), entry.fields.get("year", "s.d."))
    return citations


def render_role(citations):
    """A regra de saída dos papéis MyST ({term}, {doc}, {cite:p}...): texto simples no slide."""
    def rule(self, tokens, idx, options, env):
        name, content = tokens[idx].meta["name"], tokens[idx].content
        label = re.sub(r"\s*<[^>]*>$", "", content)  # "texto <alvo>" -> "texto"
        if name.startswith("cite"):
            refs = [citations.get(key.strip(), (key.strip(), "")) for key in content.split(",")]
            if name == "cite:t":
                return html.escape("; ".join(f"{who} ({year})" for who, year in refs))
            return html.escape("(" + "; ".join(f"{who}, {year}" for who, year in refs) + ")")
        if name == "doc":
            return f"<em>{html.escape(page_title(label) if label == content else label)}</em>"
        if name == "numref":
            return "figura"
        return html.escape(label)
    return rule


def page_title(target: str) -> str:
    """O título (# ...) da página ou do notebook que um {doc} cita, relativo a book/conceitos."""
    base = BOOK / "conceitos" / target
    path = next((base.with_suffix(ext) for ext in (".md", ".ipynb") if base.with_suffix(ext).is_file()), None)
    if path is None:
        return Path(target).name
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":  # o título está numa célula de Markdown
        import json

        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
    first = next((line for line in text.splitlines() if line.startswith("# ")), target)
    return first.lstrip("# ").replace("*", "")


def make_parser(citations) -> MarkdownIt:
    """O leitor de Markdown do deck: CommonMark + tabelas + $math$ + papéis MyST."""
    md = MarkdownIt("commonmark").enable("table")
    md.use(front_matter_plugin).use(dollarmath_plugin).use(myst_role_plugin)
    md.add_render_rule("myst_role", render_role(citations))
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: latex_to_mathml(tokens[idx].content))
    md.add_render_rule("math_block", lambda self, tokens, idx, options, env: (
        '<div class="formula">' + latex_to_mathml(tokens[idx].content.strip(), display="block") + "</div>\n"))
    return md


# --- Do Markdown aos pedaços de slide ---------------------------------------------------------

def key_sentence(text: str) -> str:
    """A primeira frase de um parágrafo (Markdown), cortada numa pausa se for longa demais."""
    text = " ".join(text.split())
    bold = re.match(r"\*\*((?:[^*]|\*(?!\*))+?[.!?])\*\*", text)
    if bold:  # "**Menos dados rotulados.** ..." -> o título em negrito basta
        return f"**{bold.group(1)}**"
    ends = [m.end() for m in re.finditer(r"[.!?:](?=\s+[A-ZÀ-Ý*\"(])", text) if balanced(text[:m.end()])]
    sentence = text[:ends[0]] if ends else text
    if len(sentence) <= KEY_SENTENCE_CHARS:
        return sentence
    cuts = [m.start() for m in re.finditer(r"[,;:]? ", sentence[:KEY_SENTENCE_CHARS])
            if m.start() > 40 and balanced(sentence[:m.start()])]
    pauses = [cut for cut in cuts if sentence[cut] in ",;:"]  # de preferência numa pausa; senão, entre palavras
    return sentence[:(pauses or cuts or [len(sentence)])[-1]] + " (…)"


def balanced(markdown: str) -> bool:
    """Verdadeiro se o trecho não deixa negrito, código, fórmula ou papel MyST abertos."""
    return markdown.count("**") % 2 == 0 and markdown.count("`") % 2 == 0 and markdown.count("$") % 2 == 0


def plain_length(rendered: str) -> int:
    """Quantos caracteres de texto um trecho de HTML mostra (para estimar a altura)."""
    return len(re.sub(r"<[^>]+>", "", rendered))


def render(md: MarkdownIt, node: SyntaxTreeNode) -> str:
    """O HTML de um nó, com as respostas (<details>) abertas para as notas do apresentador."""
    out = md.renderer.render(node.to_tokens(), md.options, {})
    out = re.sub(r"<details>\s*<summary>(.*?)</summary>", r"<p><strong>\1:</strong></p>", out)
    return out.replace("</details>", "")


def paragraph_unit(md: MarkdownIt, node: SyntaxTreeNode) -> Unit:
    """Um parágrafo: a frase-chave no slide, o parágrafo inteiro nas notas."""
    key = md.renderInline(key_sentence(node.children[0].content))
    return Unit(f'<ul class="frases"><li>{key}</li></ul>', render(md, node), 1 + plain_length(key) / 70)


def list_units(md: MarkdownIt, node: SyntaxTreeNode) -> list[Unit]:
    """Uma lista: a frase-chave de cada item no slide (respostas e código só nas notas)."""
    tag, start = ("ol", int(node.attrs.get("start", 1))) if node.type == "ordered_list" else ("ul", 1)
    units = []
    for number, item in enumerate(node.children, start):
        first = next((c for c in item.children if c.type == "paragraph"), None)
        key = md.renderInline(key_sentence(first.children[0].content)) if first else ""
        attrs = f' start="{number}"' if tag == "ol" else ""
        units.append(Unit(f'<{tag} class="frases"{attrs}><li>{key}</li></{tag}>', render(md, item),
                          1 + plain_length(key) / 70))
    return units


def table_unit(md: MarkdownIt, node: SyntaxTreeNode) -> Unit:
    """Uma tabela inteira no slide (letra menor quando é larga ou tem texto longo)."""
    table = render(md, node)
    rows = table.count("<tr")
    dense = plain_length(table) > 600
    if dense:
        table = table.replace("<table>", '<table class="densa">', 1)
    return Unit(table, "", 1 + rows * (1.3 if dense else 1.0))


def fence_parts(node: SyntaxTreeNode) -> tuple[str, str, dict, str]:
    """Uma diretiva MyST em bloco de código: (nome, argumento, opções `:chave: valor`, corpo)."""
    match = re.match(r"\{([\w-]+)\}\s*(.*)", node.info.strip())
    name, argument = (match.group(1), match.group(2)) if match else ("", node.info.strip())
    options, lines = {}, node.content.splitlines()
    while lines and re.match(r":[\w-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        options[key] = value.strip()
    return name, argument, options, "\n".join(lines).strip()


class Deck:
    """Um deck em construção: a pasta de saída (figuras copiadas) e o leitor de Markdown."""

    def __init__(self, output: Path, md: MarkdownIt):
        self.output, self.md = output, md

    def figure_unit(self, page: Path, argument: str, options: dict, caption: str) -> Unit:
        """Uma figura do livro: copiada para figuras/, com a frase-chave da legenda."""
        source = (page.parent / argument).resolve()
        if not source.is_file():
            raise SystemExit(f"erro: a figura {argument} citada em {page.name} não existe")
        target = self.output / "figuras" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        alt = html.escape(options.get("alt", ""), quote=True)
        image = f'<img src="figuras/{source.name}" alt="{alt}">'
        if options.get("target"):
            image = f'<a href="{html.escape(options["target"], quote=True)}">{image}</a>'
        legend = self.md.renderInline(key_sentence(caption.split("\n\n")[0]))
        return Unit(f"<figure>{image}<figcaption>{legend}</figcaption></figure>",
                    self.md.render(caption), 9)

    def admonition_unit(self, page: Path, title: str, body: str) -> Unit:
        """Um quadro ("Em resumo", "No curso"...): o título e as frases-chave do conteúdo."""
        inner = [unit for node in SyntaxTreeNode(self.md.parse(body)).children
                 for unit in self.block_units(page, node, iter(()))]
        content = "".join(unit.html for unit in inner)
        notes = "".join(unit.notes for unit in inner)
        return Unit(f'<div class="quadro"><p class="quadro-titulo">{self.md.renderInline(title)}</p>{content}</div>',
                    f"<p><strong>{self.md.renderInline(title)}</strong></p>{notes}",
                    1 + sum(unit.height for unit in inner))

    def code_cell_unit(self, options: dict, code: str, outputs: list[dict], name: str) -> Unit:
        """Uma célula de código da página: as saídas no slide, o código nas notas."""
        shown = [self.output_html(output, f"{name}-{index}") for index, output in enumerate(outputs)]
        shown = [piece for piece in shown if piece]
        notes = "" if "remove-input" in options.get("tags", "") else f"<pre><code>{html.escape(code)}</code></pre>"
        height = sum(9 if "<img" in piece else piece.count("<tr") if "<tr" in piece else 1 + piece.count("\n") * 0.6
                     for piece in shown)
        return Unit("".join(shown), notes, height)

    def output_html(self, output: dict, name: str) -> str:
        """Uma saída de célula em HTML: imagem (gravada em saidas/), tabela do pandas ou texto."""
        if output.get("output_type") == "stream":
            text = output.get("text", "") if output.get("name") == "stdout" else ""
            return f'<pre class="saida">{html.escape(text.rstrip())}</pre>\n' if text.strip() else ""
        data = output.get("data", {})
        if "image/png" in data:
            import base64

            target = self.output / "saidas" / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(data["image/png"]))
            return f'<img class="saida" src="saidas/{name}.png" alt="gráfico gerado pela página">'
        if "text/html" in data:
            return f'<div class="saida">{data["text/html"]}</div>\n'
        if "text/plain" in data:
            return f'<pre class="saida">{html.escape(data["text/plain"])}</pre>\n'
        return ""

    def block_units(self, page: Path, node: SyntaxTreeNode, outputs) -> list[Unit]:
        """Os pedaços de slide de um bloco do Markdown (parágrafo, lista, tabela, diretiva...)."""
        if node.type == "paragraph":
            return [paragraph_unit(self.md, node)]
        if node.type in ("bullet_list", "ordered_list"):
            return list_units(self.md, node)
        if node.type == "table":
            return [table_unit(self.md, node)]
        if node.type == "math_block":
            return [Unit(render(self.md, node), "", 2.5)]
        if node.type == "html_block":  # <details>, comentários...: só nas notas
            return [Unit("", render(self.md, node), 0)]
        if node.type != "fence":
            return []
        name, argument, options, body = fence_parts(node)
        if name == "figure":
            return [self.figure_unit(page, argument, options, body)]
        if name == "admonition":
            return [self.admonition_unit(page, argument, body)]
        if name == "code-cell":
            return [self.code_cell_unit(options, body, next(outputs), f"{page.stem}-{node.map[0]}")]
        if name == "bibliography":
            return [Unit("<p>A lista completa de referências está na página do site.</p>", "", 1)]
        code = html.escape(node.content.rstrip())
        return [Unit(f"<pre><code>{code}</code></pre>", "", 1 + code.count("\n") * 0.6)]

    def page_slides(self, page: Path) -> list[Slide]:
        """Os slides verticais de uma página: um por título, com continuações quando não cabe."""
        root = SyntaxTreeNode(self.md.parse(page.read_text(encoding="utf-8")))
        outputs = iter(run_code_cells(page, root))
        slides: list[Slide] = []
        for node in root.children:
            if node.type == "heading" and node.tag in ("h1", "h2", "h3"):
                title = self.md.renderInline(node.children[0].content)
                slides.append(Slide(title, int(node.tag[1])))
                continue
            for unit in self.block_units(page, node, outputs):
                add_unit(slides, unit)
        return slides


def add_unit(slides: list[Slide], unit: Unit) -> None:
    """Põe um pedaço no último slide, ou abre uma continuação se ele não couber."""
    current = slides[-1]
    if unit.html and current.body and current.height + unit.height > SLIDE_BUDGET:
        current = Slide(current.title, max(current.level, 2))
        current.title = re.sub(r"( \(cont\.\))?$", " (cont.)", slides[-1].title, count=1)
        slides.append(current)
    if unit.html:
        current.body.append(unit.html)
        current.height += unit.height
    if unit.notes:
        current.notes.append(unit.notes)


# --- Células de código: executadas como no livro ----------------------------------------------

def run_code_cells(page: Path, root: SyntaxTreeNode) -> list[list[dict]]:
    """Executa as células {code-cell} da página num kernel python3 (na pasta da página)."""
    sources = [fence_parts(node)[3] for node in root.children
               if node.type == "fence" and node.info.strip().startswith("{code-cell}")]
    if not sources:
        return []
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in sources])
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(page.parent)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise SystemExit(f"erro: uma célula de {page.name} falhou ao executar:\n{error}") from None
    return [cell.outputs for cell in notebook.cells]


# --- O deck: HTML, CSS e os arquivos do reveal.js ---------------------------------------------

STYLE = """
.reveal { font-size: 30px; }
.reveal .slides { text-align: left; }
.reveal h1, .reveal h2, .reveal h3 { text-align: center; text-transform: none; }
.reveal h1 { font-size: 1.7em; } .reveal h2 { font-size: 1.25em; } .reveal h3 { font-size: 1.1em; }
.reveal ul.frases, .reveal ol.frases { display: block; margin: 0 0 0.35em 1.2em; }
.reveal figure { margin: 0.3em auto; text-align: center; }
.reveal figure img, .reveal img.saida { max-height: 430px; max-width: 100%; margin: 0 auto; background: #fff; }
.reveal img.saida { display: block; }
.reveal figcaption { font-size: 0.55em; color: #555; }
.reveal table { font-size: 0.7em; margin: 0.4em auto; border-collapse: collapse; }
.reveal table.densa { font-size: 0.55em; }
.reveal table th, .reveal table td { border-bottom: 1px solid #bbb; padding: 0.2em 0.5em; }
.reveal .saida table { font-size: 0.7em; }
.reveal code { font-size: 0.9em; }
.reveal pre { width: auto; font-size: 0.55em; box-shadow: none; }
.reveal pre.saida { background: #f4f4f4; padding: 0.4em 0.8em; white-space: pre-wrap; font-size: 0.6em; }
.reveal .formula { text-align: center; font-size: 1.15em; margin: 0.5em 0; }
.reveal math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre", math; }
.reveal .quadro { border-left: 6px solid #2a76dd; background: #eef4fb; padding: 0.3em 0.8em; font-size: 0.75em;
                  margin: 0.4em 0; }
.reveal .quadro-titulo { font-weight: bold; margin: 0 0 0.3em; }
.reveal .speaker-notes:before { content: "Notas do apresentador"; }
"""

TEMPLATE = """<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="favicon.svg">
<link rel="stylesheet" href="revealjs/dist/reset.css">
<link rel="stylesheet" href="revealjs/dist/reveal.css">
<link rel="stylesheet" href="revealjs/dist/theme/white.css">
<style>{style}</style>
</head>
<body>
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="revealjs/dist/reveal.js"></script>
<script src="revealjs/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({{ hash: true, width: 1280, height: 720, margin: 0.04, slideNumber: "c/t",
                    plugins: [RevealNotes] }});
</script>
</body>
</html>
"""


def slide_html(slide: Slide) -> str:
    """Um slide vertical do reveal.js, com as notas do apresentador em <aside class="notes">."""
    tag = "h1" if slide.level == 1 else "h2" if slide.level == 2 else "h3"
    notes = "\n".join(slide.notes) or "<p>(sem notas)</p>"
    return (f"<section>\n<{tag}>{slide.title}</{tag}>\n" + "\n".join(slide.body)
            + f'\n<aside class="notes">\n{notes}\n</aside>\n</section>')


def copy_reveal(output: Path) -> None:
    """Copia do sphinx-revealjs (instalado do PyPI) só os arquivos do reveal.js que o deck usa."""
    try:
        import sphinx_revealjs
    except ImportError:
        raise SystemExit('erro: falta o pacote sphinx-revealjs (traz o reveal.js): pip install -e ".[book]"') from None
    source = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    for name in REVEAL_FILES:
        target = output / "revealjs" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source / name, target)


def build_deck(output: Path = DEFAULT_OUTPUT) -> Path:
    """Gera o deck inteiro em `output` (index.html + reveal.js + figuras) e devolve o index.html."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    deck = Deck(output, make_parser(read_citations()))
    sections = []
    for name in concept_pages():
        slides = deck.page_slides(BOOK / f"{name}.md")
        sections.append(f'<section data-pagina="{name}">\n' + "\n".join(map(slide_html, slides)) + "\n</section>")
    copy_reveal(output)
    shutil.copyfile(BOOK / "_static" / "favicon.svg", output / "favicon.svg")  # o ícone do site
    index = output / "index.html"
    title = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    index.write_text(TEMPLATE.format(title=html.escape(title), style=STYLE, sections="\n".join(sections)),
                     encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gera os slides do professor (reveal.js) das páginas de conceitos.")
    parser.add_argument("--saida", type=Path, default=DEFAULT_OUTPUT, help="pasta do deck (padrão: _build/slides)")
    args = parser.parse_args(argv)
    index = build_deck(args.saida.resolve())
    print(f"Slides prontos: {index} (abra no navegador; S abre as notas do apresentador)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
