"""Páginas de conceitos, introdução e glossário: conferências no código-fonte (sem Sphinx).

- cada página tem "Tempo estimado", "Experimente" (2 a 4 tarefas) e "Autoavaliação" (3 a 5
  perguntas, respostas em <details><summary>Resposta</summary>, nunca abertas);
- o glossário traz os termos pedidos, e cada termo é ligado com {term} na sua primeira
  ocorrência no livro (ordem do sumário);
- nenhum número que depende do modelo aparece na prosa sem dizer que é do GPT-2 small real;
- fatos corrigidos (dataset de 2011, atenção causal, 548 MB, TIKTOKEN_CACHE_DIR...).

Um teste final confere o HTML de um livro já construído (`make book`), se houver.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

BOOK = REPO_ROOT / "book"
GLOSSARY = BOOK / "glossario.md"


def concept_pages() -> list[str]:
    """Introdução + páginas de conceitos, na ordem do sumário (sem extensão, relativas a book/)."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"] if c["file"].startswith("conceitos/")]
    return files


PAGES = concept_pages()


def read(page: str) -> str:
    return (BOOK / f"{page}.md").read_text(encoding="utf-8")


def test_pages_list_is_complete():
    on_disk = {f"conceitos/{p.stem}" for p in (BOOK / "conceitos").glob("*.md")}
    assert on_disk <= set(PAGES), on_disk - set(PAGES)
    assert PAGES[0] == "intro" and len(PAGES) >= 9
    toc = (REPO_ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: glossario" in toc


# ---------------------------------------------------------------------------
# Estrutura: seções de nível 2 e seus conteúdos
# ---------------------------------------------------------------------------

FENCE = re.compile(r"^(`{3,}|~{3,})")


def without_fences(text: str) -> list[str]:
    """Linhas do texto com o conteúdo dos blocos cercados trocado por linhas vazias."""
    lines, out, fence = text.splitlines(), [], None
    for line in lines:
        m = FENCE.match(line.strip())
        if fence is None and m:
            fence = m.group(1)
            out.append("")
        elif fence is not None:
            if line.strip() == fence:
                fence = None
            out.append("")
        else:
            out.append(line)
    return out


def sections(text: str) -> dict[str, list[str]]:
    """`## título` -> linhas da seção (até o próximo `## `), ignorando blocos de código."""
    result, current = {}, None
    for line in without_fences(text):
        if line.startswith("## "):
            current = line[3:].strip()
            result[current] = []
        elif current is not None:
            result[current].append(line)
    return result


def top_level_items(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"^\d+\. \S", line)]


@pytest.mark.parametrize("page", PAGES)
def test_estimated_time_near_the_top(page):
    lines = [line for line in without_fences(read(page)) if line.strip()]
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    assert any(line.startswith("**Tempo estimado:**") for line in lines[title + 1:title + 4]), page
    assert sum(line.startswith("**Tempo estimado:**") for line in lines) == 1, page


@pytest.mark.parametrize("page", PAGES)
def test_experimente_has_two_to_four_tasks_with_time(page):
    secs = sections(read(page))
    assert "Experimente" in secs, page
    items = top_level_items(secs["Experimente"])
    assert 2 <= len(items) <= 4, (page, len(items))
    # cada tarefa diz quanto tempo leva (entre parênteses: "(menos de 10 s numa CPU)", "(20 min)"...)
    body = "\n".join(secs["Experimente"])
    chunks = re.split(r"^\d+\. ", body, flags=re.M)[1:]
    intro = "\n".join(secs["Experimente"][: secs["Experimente"].index(items[0])])
    for chunk in chunks:
        assert re.search(r"\d+\s*(?:s|min)\b", chunk + intro), (page, chunk[:80])


@pytest.mark.parametrize("page", PAGES)
def test_autoavaliacao_is_last_with_hidden_answers(page):
    text = read(page)
    secs = sections(text)
    assert "Autoavaliação" in secs, page
    # a última seção de nível 2, exceto na página de leituras, onde a bibliografia vem depois
    names = list(secs)
    allowed_after = {"Referências bibliográficas"}
    assert all(name in allowed_after for name in names[names.index("Autoavaliação") + 1:]), names
    lines = secs["Autoavaliação"]
    questions = top_level_items(lines)
    assert 3 <= len(questions) <= 5, (page, len(questions))
    body = "\n".join(lines)
    answers = re.findall(r"<details><summary>Resposta</summary>\n\n(.+?)\n\n\s*</details>", body, flags=re.S)
    assert len(answers) == len(questions), (page, len(answers), len(questions))
    assert all(answer.strip() for answer in answers)


ALL_MD = PAGES + ["glossario"]


@pytest.mark.parametrize("page", ALL_MD)
def test_every_details_has_summary_and_is_closed(page):
    text = read(page)
    opened = re.findall(r"<details\b[^>]*>", text)
    assert len(opened) == text.count("</details>"), page
    assert all(tag == "<details>" for tag in opened), (page, opened)  # nunca <details open>
    for m in re.finditer(r"<details>", text):
        assert text[m.end():].startswith("<summary>"), (page, text[m.start():m.start() + 60])


class _DetailsChecker(HTMLParser):
    """Conta <details> e confere que cada um tem <summary> e um parágrafo de resposta."""

    def __init__(self):
        super().__init__()
        self.stack, self.found, self.problems = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            if any(name == "open" for name, _ in attrs):
                self.problems.append("details open")
            self.stack.append({"summary": False, "p": False})
            self.found += 1
        elif self.stack and tag == "summary":
            self.stack[-1]["summary"] = True
        elif self.stack and tag == "p":
            self.stack[-1]["p"] = True

    def handle_endtag(self, tag):
        if tag == "details" and self.stack:
            state = self.stack.pop()
            if not (state["summary"] and state["p"]):
                self.problems.append(f"details sem summary ou sem resposta: {state}")


@pytest.mark.parametrize("page", PAGES)
def test_answers_render_inside_closed_details(page):
    """O Markdown (CommonMark, como no MyST e no Jupyter) põe cada resposta DENTRO do <details>."""
    markdown_it = pytest.importorskip("markdown_it")  # vem com o myst-parser (extra "book")
    source = "\n".join(without_fences(read(page)))
    html = markdown_it.MarkdownIt("commonmark").render(source)
    checker = _DetailsChecker()
    checker.feed(html)
    assert checker.found >= 3 and not checker.problems, (page, checker.problems)


# ---------------------------------------------------------------------------
# Glossário e papéis {term}
# ---------------------------------------------------------------------------


def glossary_entries() -> list[list[str]]:
    """Verbetes do bloco ```{glossary}: cada um é a lista dos seus nomes."""
    text = GLOSSARY.read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, flags=re.S | re.M).group(1)
    entries, names = [], []
    for line in block.splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        if line[0].isspace():
            if names:
                entries.append(names)
                names = []
        else:
            names.append(line.strip())
    return entries


def norm(name: str) -> str:
    return " ".join(name.lower().split())


REQUIRED_TERMS = {  # nome no glossário -> formas que contam como "uso" na prosa
    "token": r"\btokens?\b",
    "embedding": r"\bembeddings?\b",
    "logit": r"\blogits?\b",
    "softmax": r"\bsoftmax\b",
    "entropia cruzada": r"\bentropia cruzada\b",
    "cross-entropy": None,
    "LayerNorm": r"\bLayerNorms?\b",
    "atenção causal": r"\batenção causal\b|\bmáscara (?:de atenção )?causal\b",
    "padding": r"\bpadding\b",
    "época": r"\bépocas?\b",
    "epoch": None,
    "lote": r"\blotes?\b",
    "batch": None,
    "taxa de aprendizado": r"\btaxas? de aprendizado\b",
    "learning rate": None,
    "weight decay": r"\bweight decay\b",
    "AdamW": r"\bAdamW\b",
    "congelar": r"\bcongel\w*",
    "cabeça de classificação": r"\bcabeças? de classificação\b",
    "fine-tuning": r"\bfine-tuning\b",
    "pré-treino": r"\bpré-trein\w*",
    "vazamento de dados": r"\bvazamento de dados\b",
    "LoRA": r"\bLoRA\b",
    "quantização": r"\bquantiza\w*",
    "tokenizador": r"\btokenizador\w*",
    "BPE": r"\bBPE\b",
    "bloco transformer": r"\bblocos? \*?transformer\b",
    "sobreajuste": r"\bsobreajuste\b",
    "conjunto de validação": r"\bvalidação\b",
    "acurácia": r"\bacurácias?\b",
    "precisão": None,  # "precisão" também é a dos números (bits): só o verbete e o link são conferidos
    "revocação": r"\brevocação\b",
    "F1": r"\bF1\b",
    "LLM": r"\bLLMs?\b",
    # outros verbetes usados nas páginas
    "transformer": r"\btransformers?\b",
    "matriz de confusão": r"\bmatriz(?:es)? de confusão\b",
    "model card": r"\bmodel cards?\b",
    "modelo de fundação": r"\bmodelos? de fundação\b",
    "aprendizado por transferência": r"\baprendizado por transferência\b",
    "hiperparâmetro": r"\bhiperparâmetros?\b",
    "deriva": r"\bderiva\b",
    "falso positivo": r"\bfalsos? positivos?\b",
    "PEFT": r"\bPEFT\b",
    "argmax": r"\bargmax\b",
    "parâmetro": r"\bparâmetros?\b",
    "ajuste por instrução": r"\b(?:fine-tuning\*? por instrução|instruction fine-tuning)\b",
    "conjunto de teste": r"\bconjuntos? de teste\b",
}


def test_glossary_has_required_terms():
    names = {norm(n) for entry in glossary_entries() for n in entry}
    missing = [t for t in REQUIRED_TERMS if norm(t) not in names]
    assert not missing, missing
    assert len(glossary_entries()) >= 30


ROLE_OR_CODE = re.compile(r"\{(?P<role>[\w:.-]+)\}`(?P<body>[^`]*)`|`[^`\n]*`")


def term_target(body: str) -> str:
    m = re.search(r"<([^<>]+)>\s*$", body)
    return norm(m.group(1) if m else body)


def prose(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Texto só com a prosa (posições preservadas) e os trechos {term} (início, fim, alvo)."""
    text = re.sub(r"\A---\n.*?\n---\n", lambda m: " " * len(m.group(0)), text, flags=re.S)
    out, fence_kind = [], None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        m = FENCE.match(stripped)
        if fence_kind is None and m:
            # diretivas com texto (admonition, figure, glossary) continuam sendo prosa
            prose = re.match(r"^`{3,}\{(admonition|figure|note|tip|warning|glossary)\}", stripped)
            fence_kind = "prose" if prose else "code"
            fence_kind = (fence_kind, m.group(1))
            out.append(" " * (len(line) - 1) + "\n")
            continue
        if fence_kind is not None and stripped == fence_kind[1]:
            fence_kind = None
            out.append(" " * (len(line) - 1) + "\n")
            continue
        hide = (
            (fence_kind is not None and fence_kind[0] == "code")
            or stripped.startswith("#")
            or re.match(r"^:[\w-]+:", stripped)
        )
        out.append(" " * (len(line) - 1) + "\n" if hide else line)
    text = "".join(out)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$|<https?://[^>]+>|\]\([^)]*\)",
                  lambda m: " " * len(m.group(0)), text, flags=re.S)
    spans = []

    def blank(m):
        if m.group("role") == "term":
            spans.append((m.start(), m.end(), term_target(m.group("body"))))
            return m.group(0)
        return " " * len(m.group(0))

    text = ROLE_OR_CODE.sub(blank, text)
    return text, spans


def entry_names(term: str) -> set[str]:
    for entry in glossary_entries():
        if norm(term) in {norm(n) for n in entry}:
            return {norm(n) for n in entry}
    raise AssertionError(f"{term} não está no glossário")


def test_each_required_term_is_linked_somewhere():
    targets = set()
    for page in PAGES:
        targets |= {t for _, _, t in prose(read(page))[1]}
    for term in REQUIRED_TERMS:
        assert entry_names(term) & targets, f"nenhum {{term}} aponta para {term!r}"


def test_every_term_role_points_to_the_glossary():
    names = {norm(n) for entry in glossary_entries() for n in entry}
    for page in ALL_MD:
        for _, _, target in prose(read(page))[1]:
            assert target in names, (page, target)


@pytest.mark.parametrize("term", [t for t, pattern in REQUIRED_TERMS.items() if pattern])
def test_first_use_in_the_book_is_linked(term):
    pattern, names = re.compile(REQUIRED_TERMS[term], flags=re.I), entry_names(term)
    for page in PAGES:
        text, spans = prose(read(page))
        m = pattern.search(text)
        if m is None:
            continue
        inside = [t for start, end, t in spans if start <= m.start() < end]
        line = text.count("\n", 0, m.start()) + 1
        assert inside and inside[0] in names, f"primeiro uso de {term!r} sem {{term}}: {page}.md, linha {line}"
        return
    pytest.fail(f"{term!r} não aparece nas páginas")


# ---------------------------------------------------------------------------
# Prosa verdadeira nos dois modos e fatos corrigidos
# ---------------------------------------------------------------------------

MODEL_NUMBERS = [r"\b768\b", r"1\.538\b", r"7\.090\.946", r"7\.087\.872", r"\b7 milhões",
                 r"\b11 blocos", r"1/12", r"124,4 milhões", r"124\.439\.808", r"163\.037\.184"]
LABELS = ("GPT-2 small real", "DistilBERT")


def blocks(text: str) -> list[str]:
    return [b for b in re.split(r"\n\s*\n", text) if b.strip()]


@pytest.mark.parametrize("page", ALL_MD)
def test_model_dependent_numbers_are_labelled(page):
    bs = blocks(prose(read(page))[0])
    for i, block in enumerate(bs):
        for pattern in MODEL_NUMBERS:
            if re.search(pattern, block):
                context = block + (bs[i - 1] if i else "")
                assert any(label in context for label in LABELS), (page, pattern, block[:200])
    assert "quase todo o tempo" not in read(page)
    # o comportamento do GPT-2 sem ajuste (zero-shot) só vale para os pesos reais
    for block in bs:
        if re.search(r"repet\w+ a (?:própria )?pergunta|textos? coerentes?", block):
            assert re.search(r"\breal\b|\breais\b", block), (page, block[:200])


@pytest.mark.parametrize("page", ALL_MD)
def test_corrected_facts(page):
    text = read(page)
    assert "2012" not in text
    assert not re.search(r"início dos anos 2010|há mais de uma década", text)
    for block in blocks(text):
        if re.search(r"SMS Spam Collection|coleção", block):
            for year in re.findall(r"publicad[ao]s? em (\d{4})", block):
                assert year == "2011", block[:200]
    # atenção causal: o token vê a si mesmo e os anteriores
    assert not re.search(r"\b(?:só|apenas|somente)\b[^.\n]{0,40}\banteriores\b", text), page
    # a aula não diz em que máquina treinou
    assert not re.search(r"60[,.]93[^.\n]{0,60}\bCPU\b", text)
    # "notebook" é o do Jupyter; a máquina é laptop/computador
    assert not re.search(r"\bnum notebook (?:comum|pessoal|com chip)|\bnotebook comum\b", text)
    assert "500 MB" not in text


def test_dataset_year_and_attribution():
    bib = (BOOK / "referencias.bib").read_text(encoding="utf-8")
    entry = re.search(r"@inproceedings\{almeida2011sms,.*?\n\}", bib, flags=re.S).group(0)
    assert "year      = {2011}" in entry
    ft = read("conceitos/fine-tuning")
    # balanceamento e divisão vêm de Raschka, não de Almeida et al.
    block = next(b for b in blocks(ft) if "70 %" in b)
    assert "raschka2024build" in block and "2011" in block
    pipeline = next(b for b in blocks(read("conceitos/pipeline")) if "balanceamos" in b.lower())
    assert "raschka2024build" in pipeline and "almeida2011sms" not in pipeline
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    credits = readme[readme.index("## Créditos"):]
    assert "LLMs-from-scratch" in credits and "MIT" in credits and "próprios" in credits


def test_gpt2_small_file_size_is_computed():
    text = read("conceitos/recursos")
    assert "548 MB" in text
    assert "mascaras_mb" in text  # a conta está numa célula de código


def test_intro_explains_offline_tokenizer_like_the_package():
    intro = read("intro")
    assert "TIKTOKEN_CACHE_DIR" in intro and "vocab.bpe" in intro and "encoder.json" in intro
    package = (REPO_ROOT / "llmdefinitions" / "tokenizer.py").read_text(encoding="utf-8")
    assert "TIKTOKEN_CACHE_DIR" in package


@pytest.mark.parametrize("page", ["conceitos/recursos", "conceitos/etica"])
def test_executable_pages(page):
    text = read(page)
    front = yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", text, flags=re.S).group(1))
    assert front["kernelspec"]["name"] == "python3" and front["kernelspec"]["language"] == "python"
    assert "```{code-cell} ipython3" in text


def test_ethics_counts_come_from_a_cell():
    text = read("conceitos/etica")
    cell = re.search(r"```\{code-cell\} ipython3\n(.*?)```", text, flags=re.S).group(1)
    assert "course_data_file" in cell and "load_sms_spam" in cell and "lor|lah|leh" in cell
    prose_text = prose(text)[0]
    assert not re.search(r"\b(?:243|481|166|405)\b", prose_text)  # números dos dados só na saída


def test_intro_video_is_an_offline_thumbnail_link():
    text = read("conceitos/fine-tuning")
    m = re.search(r"```\{figure\} (\S+)\n(.*?)```", text[text.index("2QRlvKSzyVw") - 600:], flags=re.S)
    assert m and ":target: https://www.youtube.com/watch?v=2QRlvKSzyVw" in m.group(2)
    assert (BOOK / "conceitos" / m.group(1)).resolve().is_file()
    assert "<iframe" not in text and not re.search(r"!\[[^\]]*\]\(https?:", text)


# ---------------------------------------------------------------------------
# HTML de um livro já construído (opcional): BOOK_HTML_DIR ou _build/html
# ---------------------------------------------------------------------------


def built_html_dir() -> Path | None:
    for candidate in (os.environ.get("BOOK_HTML_DIR"), REPO_ROOT / "_build" / "html"):
        if candidate and (Path(candidate) / "intro.html").is_file():
            return Path(candidate)
    return None


@pytest.mark.skipif(built_html_dir() is None, reason="livro não construído (rode make book ou defina BOOK_HTML_DIR)")
@pytest.mark.parametrize("page", PAGES + ["glossario"])
def test_built_pages_hide_answers_and_link_glossary(page):
    html_dir = built_html_dir()
    if not (html_dir / f"{page}.html").is_file():
        pytest.skip(f"{page}.html não foi construído")
    check_built_page(html_dir, page)


def check_built_page(html_dir: Path, page: str) -> None:
    """Respostas fechadas e links do glossário válidos numa página do livro construído
    (usada também por tests/test_book.py, sobre o livro que o CI constrói)."""
    html = (html_dir / f"{page}.html").read_text(encoding="utf-8")
    article = html[html.index('<article class="bd-article">'):html.index("</article>")]  # sem a barra lateral
    checker = _DetailsChecker()
    checker.feed(article)
    assert not checker.problems, (page, checker.problems)
    if 'id="autoavaliacao"' in html:
        assert checker.found >= 3
    glossary = (html_dir / "glossario.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<dt id="(term-[^"]+)"', glossary))
    links = re.findall(r'href="(?:\.\./)?glossario\.html#(term-[^"]+)"', html)
    assert set(links) <= anchors, set(links) - anchors


# ---------------------------------------------------------------------------
# Livro de demonstração: as frases dos notebooks 1 e 2 e da página de ética seguem os números
# da própria página (o livro é construído com o modelo aleatório; os dados podem ser os reais
# ou a amostra do curso). Reaproveita o livro da sessão (fixture built_book) ou
# LLMDEFINITIONS_BUILT_HTML.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_html_dir(built_html) -> Path:
    return built_html


def _demo_page(html_dir: Path, relative: str):
    from tests.test_demo_pages import Page  # leitura do HTML (prosa x saídas), num só lugar

    return Page(html_dir / relative)


def _pt_number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def test_demo_nb01_sentences_follow_the_data(demo_html_dir):
    page = _demo_page(demo_html_dir, "notebooks/01_dados.html")
    out = page.output_text
    merged = int(re.search(r"Linhas fundidas numa só: (\d+)", out).group(1))
    assert ("Nenhuma linha fundida" in out) == (merged == 0)
    if merged:
        assert re.search(r"junta \d+ linhas do arquivo", out)
    copies = int(re.search(r"Cópias exatas \(mesmo texto e rótulo\): (\d+)", out).group(1))
    assert ("Nenhuma mensagem se repete" in out) == (copies == 0)
    assert ("deduplicar não muda nada aqui" in out) == (copies == 0)
    shared = int(re.search(r"Mensagens distintas presentes no treino e no teste: (\d+)", out).group(1))
    assert ("Nenhum vazamento nesta divisão" in out) == (shared == 0)
    dropped, ham = re.search(r"Mensagens ham descartadas: ([\d.]+) de ([\d.]+)", out).groups()
    counts = out.split("Mensagens ham descartadas")[0].split("Fração de spam")[-1]
    kept = re.search(r"Label\s+ham\s+(\d+)\s+spam\s+(\d+)", counts)
    assert kept and _pt_number(ham) - _pt_number(dropped) == int(kept.group(1))
    # a prosa não afirma, sem condição, o que depende dos dados
    assert "descartamos milhares" not in page.prose
    for words in ("somem duas mensagens", "várias vezes, idênticas", "mais de 4 mil"):
        for sentence in page.sentences_with(words):
            assert "real" in sentence, sentence


def test_demo_nb02_sentences_follow_the_run(demo_html_dir):
    page = _demo_page(demo_html_dir, "notebooks/02_gpt2_pretreinado.html")
    out = page.output_text
    yes_spam, n_spam, yes_ham, n_ham = map(int, re.search(
        r"Respondeu 'yes' em (\d+) de (\d+) spams e em (\d+) de (\d+) mensagens legítimas", out).groups())
    accuracy, n = re.search(r"Acurácia zero-shot: ([\d.,]+)% em (\d+) mensagens", out).groups()
    assert n_spam + n_ham == int(n) and n_spam <= 20 and n_ham <= 20
    assert abs(_pt_number(accuracy) - 100 * (yes_spam + n_ham - yes_ham) / int(n)) < 0.05
    assert "40 mensagens da validação (20 de cada classe)" not in page.prose
    # a frase "iguais" sai das três continuações impressas logo acima
    block = out[:out.index("As três continuações são iguais")].rsplit("Resultado agora", 1)[-1]
    lines = [line for line in block.splitlines() if line.startswith("'Every effort moves you")][-3:]
    equal = re.search(r"As três continuações são iguais: (True|False)", out).group(1) == "True"
    assert len(lines) == 3 and equal == (len(set(lines)) == 1)
    # o prompt da aula aparece ao lado do do livro, com a saída publicada na aula
    assert "Saída publicada na aula (GPT-2 small real)" in out


def test_demo_ethics_sentences_follow_the_table(demo_html_dir):
    page = _demo_page(demo_html_dir, "conceitos/etica.html")
    out = page.output_text
    rows = re.findall(r"- ([^:\n]+): (?:nenhuma mensagem|([\d.]+) mensagens, (\d+)% delas são (spam|legítimas))", out)
    assert len(rows) == 2, rows
    total = re.search(r"([\d.]+) mensagens: ([\d.]+) legítimas e ([\d.]+) spams", out).groups()
    assert _pt_number(total[0]) == _pt_number(total[1]) + _pt_number(total[2])
    if not page.demo:  # com o conjunto real, cada padrão fica quase todo numa classe
        assert all(count and int(pct) >= 95 for _, count, pct, _ in rows), rows


def test_demo_resources_chart_is_drawn(demo_html_dir):
    """O gráfico de memória (célula sem entrada) vira imagem mesmo com MPLBACKEND=Agg."""
    html = (demo_html_dir / "conceitos" / "recursos.html").read_text(encoding="utf-8")
    cell = html[html.index("tag_remove-input"):]
    cell = cell[:cell.index("</div>\n<p>")]
    assert "<img" in cell, cell[:300]
