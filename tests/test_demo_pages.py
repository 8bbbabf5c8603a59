"""O livro de demonstração diz a verdade sobre o que mostra.

O site é construído sem o GPT-2 (modelo pequeno de pesos aleatórios). Em toda página:
nenhum "nan" numa saída, nenhum `RuntimeWarning`, nenhum caminho da máquina que construiu o
livro; e as frases que dependem dos números (notebooks 5 a 7) concordam com os números da
própria página.

Para iterar sem reconstruir o livro, aponte `LLMDEFINITIONS_BUILT_HTML` para a pasta `html`
de um livro já construído (ex.: `/tmp/livro/_build/html`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

bs4 = pytest.importorskip("bs4")

NAN = re.compile(r"(?<![\w.])nan(?![\w])", re.IGNORECASE)
SOURCE_HEADER = re.compile(r"\s*#?\s*\S+ — llmdefinitions/[\w/]+\.py, linhas \d+")  # saída de show_source
MACHINE_PATHS = ("/tmp/", "/root/", "/home/", "/work/", "/Users/", "site-packages", ".venv", "C:\\")


@pytest.fixture(scope="module")
def html_dir(built_html) -> Path:
    return built_html


class Page:
    """O texto de uma página do livro, separado em prosa e saídas das células."""

    def __init__(self, path: Path):
        soup = bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("article") or soup
        self.outputs = []
        for area in article.select("div.cell_output"):
            for output in area.find_all(recursive=False):
                text = output.get_text("\n")
                if SOURCE_HEADER.match(text):
                    continue  # show_source: código do pacote, não um resultado
                self.outputs.append(text)
        for cell in article.select("div.cell"):
            cell.decompose()
        self.prose = re.sub(r"\s+", " ", article.get_text(" "))
        self.output_text = "\n".join(self.outputs)
        self.demo = "DEMONSTRAÇÃO" in self.output_text

    def sentences_with(self, words: str) -> list[str]:
        return [s for s in re.split(r"(?<=[.!?:])\s+", self.prose) if words in s]

    def line(self, pattern: str) -> re.Match:
        match = re.search(pattern, self.output_text)
        assert match, f"saída não encontrada: {pattern!r}"
        return match


def _pages(html_dir: Path) -> list[Path]:
    return [p for p in sorted(html_dir.rglob("*.html"))
            if not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts)
            and p.name not in {"genindex.html", "search.html"}]


def _page(html_dir: Path, name: str) -> Page:
    return Page(html_dir / "notebooks" / f"{name}.html")


def _number(text: str) -> float:
    """`'1.234,5'` -> 1234.5 (números escritos pelo curso em português)."""
    return float(text.replace(".", "").replace(",", "."))


def _embedding_dim(page: Page) -> int:
    match = re.search(r"Modelo de demonstração: \d+ blocos, (\d+) dimensões", page.output_text)
    return int(match.group(1)) if page.demo and match else 768


def _n_blocks(page: Page) -> int:
    match = re.search(r"Modelo de demonstração: (\d+) blocos", page.output_text)
    return int(match.group(1)) if page.demo and match else 12


# ----------------------------------------------------------------------------- toda página

def test_no_nan_warning_or_machine_path_in_any_output(html_dir):
    problems = []
    for path in _pages(html_dir):
        page = Page(path)
        for output in page.outputs:
            for bad in [m.group(0) for m in NAN.finditer(output)] + [
                    word for word in ("RuntimeWarning", *MACHINE_PATHS) if word in output]:
                start = max(output.find(bad) - 80, 0)
                problems.append(f"{path.relative_to(html_dir)}: {bad!r} em …{output[start:start + 160]!r}")
    assert not problems, "\n".join(problems[:20])


# ----------------------------------------------------------------------------- notebook 5

def test_nb05_leakage_sentence_follows_the_data(html_dir):
    page = _page(html_dir, "05_abordagem3_ultimo_bloco")
    seen = page.line(r"Mensagens de teste também presentes no treino: (nenhuma|[\d.]+)")
    no_leak = "Nenhuma mensagem de teste aparece no treino" in page.output_text
    assert no_leak == (seen.group(1) == "nenhuma")


def test_nb05_padding_verdict_follows_the_table(html_dir):
    page = _page(html_dir, "05_abordagem3_ultimo_bloco")
    verdict = page.line(r"Com o padding do treino: ([\d.,]+)% \(última posição\) e ([\d.,]+)% \(último token real\): "
                        r"(acurácias parecidas|([\d.,]+) pontos percentuais de diferença)")
    at_position, at_real = _number(verdict.group(1)), _number(verdict.group(2))
    assert (verdict.group(3) == "acurácias parecidas") == (abs(at_position - at_real) <= 5)
    # a tabela mostra os mesmos números, com uma casa decimal
    assert verdict.group(1) in page.output_text.split("Com o padding do treino")[0]
    changed = page.line(r"Previsões que mudaram nos \d+ outros paddings, somadas: (\d+) \(última posição\), "
                        r"(\d+) \(último token real\)")
    same = "as mesmas previsões" in page.line(r"Cabeça do último token real com os outros paddings: [^\n]+").group(0)
    assert same == (changed.group(2) == "0")
    # a prosa não afirma, sem condição, o que depende da execução
    assert "têm acurácias parecidas" not in page.prose
    for sentence in page.sentences_with("acurácias parecidas"):
        assert "GPT-2 real" in sentence, sentence


def test_nb05_pretrained_claims_are_labelled(html_dir):
    page = _page(html_dir, "05_abordagem3_ultimo_bloco")
    for words in ("já vem pré-treinado", "como no pré-treino", "os pesos do pré-treino"):
        for sentence in page.sentences_with(words):
            assert "GPT-2 real" in sentence or "demonstração" in sentence, sentence
    assert page.line(r"Mesmos logits \(torch\.allclose\): (True|False)").group(1) == "True"


# ----------------------------------------------------------------------------- notebook 6

def test_nb06_ranking_sentence_follows_the_table(html_dir):
    page = _page(html_dir, "06_comparacao")
    ranking = re.findall(r"(\d+)º (.+): ([\d.,]+)%", page.output_text)
    assert len(ranking) == 5, ranking
    accuracies = [_number(acc) for _, _, acc in ranking]
    assert accuracies == sorted(accuracies, reverse=True)
    best_llm = next(name for _, name, _ in ranking if not name.startswith("linha de base"))
    if best_llm.startswith("3."):
        assert "A abordagem 3 foi a melhor das abordagens com LLM nesta execução." in page.output_text
    else:
        assert f"a melhor abordagem com LLM foi a {best_llm.split('.')[0]}, não a 3." in page.output_text
    for sentence in page.sentences_with("costuma ganhar"):
        assert "GPT-2 real" in sentence, sentence


def test_nb06_model_card_describes_the_data_and_model_used(html_dir):
    page = _page(html_dir, "06_comparacao")
    sizes = page.line(r"Treino: (\d+) \| Validação: (\d+) \| Teste: (\d+)")
    as_pt = [f"{int(n):,}".replace(",", ".") for n in sizes.groups()]
    assert f"{as_pt[0]} (treino) / {as_pt[1]} (validação) / {as_pt[2]} (teste)" in page.output_text
    assert "Gómez Hidalgo" in page.output_text or "Amostra do curso" in page.output_text
    assert "5572" not in page.output_text and "5.572" not in page.prose
    if page.demo:
        assert "pesos ALEATÓRIOS" in page.output_text
        assert "GPT-2 small (124M) pré-treinado" not in page.output_text


# ----------------------------------------------------------------------------- notebook 7

def test_nb07_block_and_lora_counts_come_from_the_model(html_dir):
    page = _page(html_dir, "07_laboratorio")
    n_blocks, dim = _n_blocks(page), _embedding_dim(page)
    line = page.line(r"(\d+) blocos: a passada compartilhada cobre (?:os embeddings e os (\d+) primeiros blocos|"
                     r"só os embeddings)[^;]*; depois avança pelo bloco (\d+)")
    assert int(line.group(1)) == n_blocks and int(line.group(3)) == n_blocks - 1
    assert int(line.group(2) or 0) == n_blocks - 2
    # rank 8 nos dois últimos blocos, alvos padrão: 4 matrizes dim x dim e 2 do MLP (dim x 4 dim)
    adapters = page.line(r"LoRA nos dois últimos blocos: ([\d.]+) parâmetros nos adaptadores")
    assert _number(adapters.group(1)) == 2 * 8 * (4 * 2 * dim + 2 * 5 * dim)
    assert "Poucos milhares" not in page.prose
    for sentence in page.sentences_with("10 primeiros"):
        assert "GPT-2 small" in sentence, sentence
