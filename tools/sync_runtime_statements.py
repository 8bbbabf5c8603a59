"""Atualiza o tempo da linha "**Tempo estimado:**" de cada notebook a partir da medição do curso.

Os números vêm do registro gravado por `benchmarks/bench_notebooks.py --course` (padrão:
`benchmarks/results/curso-cpu-2-threads.json`): o primeiro "≈" da linha é a fase fria (a primeira
passagem pelo curso, com o cache em disco vazio no início) e, se a linha tiver um segundo "≈"
(notebooks 3 a 7: "numa nova execução"), ele é a fase quente. Só os números depois de "≈" mudam;
o resto da frase fica como está e deve ser relido (por exemplo, uma explicação de onde vai o tempo).
O arquivo do notebook é editado como texto, só naquela linha: a formatação do JSON não muda.

Depois, o script lista as outras frases do livro e dos notebooks que citam tempos de execução,
para conferir à mão. `tests/test_runtime_statements.py` confere as linhas "Tempo estimado".

Uso (da raiz do repositório):
    python tools/sync_runtime_statements.py            # reescreve e lista
    python tools/sync_runtime_statements.py --check    # só diz o que mudaria (sai com 1 se algo mudaria)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results" / "curso-cpu-2-threads.json"
MARKER = "**Tempo estimado:**"
FIGURE = re.compile(r"≈ ?[\d.,]+ ?(?:min|s)\b")
# Frases que citam um tempo de execução: "≈ 14 s", "12,6 min numa CPU", "na GPU ... 2 min".
RUNTIME_QUOTE = re.compile(
    r"≈\s*[\d.,]+\s*(?:s|min|minutos)\b"
    r"|\b\d+(?:,\d+)?\s*(?:s|min|minutos|segundos)\b[^.\n]{0,80}\b(?:CPU|núcleos?|GPU)\b"
    r"|\b(?:CPU|núcleos?|GPU)\b[^.\n]{0,80}\b\d+(?:,\d+)?\s*(?:s|min|minutos|segundos)\b"
)


def format_decimal(value: float, decimals: int) -> str:
    """Vírgula decimal, como nas páginas (o mesmo que `llmdefinitions.format_pt`, sem importar o pacote)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def stated_duration(seconds: float) -> str:
    """Como as páginas escrevem um tempo medido: segundos até 1 min, depois minutos com uma casa."""
    if seconds < 60:
        return f"≈ {format_decimal(max(seconds, 1), 0)} s"
    return f"≈ {format_decimal(seconds / 60, 1)} min"


def phase_seconds(record: dict, phase: str) -> dict[str, float]:
    """O tempo de cada notebook numa fase (`cold` ou `warm`; só os que rodaram sem erro)."""
    if record.get("kind") != "course":
        raise ValueError("o JSON não é um registro do curso (benchmarks/bench_notebooks.py --course).")
    notebooks = record["phases"].get(phase, {}).get("notebooks", {})
    return {name: entry["seconds"] for name, entry in notebooks.items()
            if entry["error"] is None and entry["seconds"] is not None}


def cold_seconds(record: dict) -> dict[str, float]:
    """O tempo de cada notebook na fase fria (só os que rodaram sem erro)."""
    return phase_seconds(record, "cold")


def time_line(path: Path) -> str:
    """A linha "Tempo estimado" do notebook (o parágrafo da célula de texto que a contém)."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and MARKER in source:
            start = source.index(MARKER)
            end = source.find("\n\n", start)
            return source[start:] if end < 0 else source[start:end]
    raise ValueError(f"{path.name} não tem a linha {MARKER}")


def rewrite_notebook(path: Path, seconds: float, write: bool = True, warm: float | None = None
                     ) -> tuple[str, str] | None:
    """Troca o primeiro "≈ N s/min" da linha "Tempo estimado" pelo tempo medido (fase fria) e, se
    `warm` é dado e a linha tem um segundo "≈", este pelo tempo da fase quente.

    Devolve (antes, depois) se algo muda, `None` se já está certo. Erro se a linha não tem número.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    index = next((i for i, line in enumerate(lines) if MARKER in line), None)
    if index is None:
        raise ValueError(f"{path.name} não tem a linha {MARKER}")
    match = FIGURE.search(lines[index], lines[index].index(MARKER))
    if match is None:
        raise ValueError(f"{path.name}: a linha {MARKER} não tem um tempo '≈ N s' ou '≈ N min' para trocar.")
    matches = list(FIGURE.finditer(lines[index], lines[index].index(MARKER)))[:2 if warm is not None else 1]
    figures = [stated_duration(seconds), stated_duration(warm) if warm is not None else None]
    line = lines[index]
    for found, new in reversed(list(zip(matches, figures))):
        line = line[:found.start()] + new + line[found.end():]
    if line == lines[index]:
        return None
    before = " / ".join(m.group(0) for m in matches)
    after = " / ".join(figures[: len(matches)])
    lines[index] = line
    if write:
        path.write_text("\n".join(lines), encoding="utf-8")
    return before, after


def runtime_quotes(root: Path = REPO_ROOT) -> list[tuple[Path, int, str]]:
    """(arquivo, linha, trecho) de cada frase que cita um tempo, no livro, nos notebooks e nos READMEs."""
    files = [*sorted((root / "book").rglob("*.md")), *sorted((root / "notebooks").glob("*.ipynb")),
             root / "README.md", root / "notebooks" / "README.md"]
    quotes = []
    for path in files:
        if not path.is_file() or "_build" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = RUNTIME_QUOTE.search(line)
            if match:
                start = max(match.start() - 60, 0)
                quotes.append((path.relative_to(root), number, line[start:match.end() + 60].strip()))
    return quotes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="o registro do curso (padrão: %(default)s)")
    parser.add_argument("--notebooks-dir", type=Path, default=REPO_ROOT / "notebooks")
    parser.add_argument("--check", action="store_true", help="não grava; sai com 1 se alguma linha mudaria")
    args = parser.parse_args(argv)
    if not args.json.is_file():
        parser.error(f"{args.json} não existe: meça antes com benchmarks/bench_notebooks.py --course "
                     "(veja benchmarks/README.md).")
    record = json.loads(args.json.read_text(encoding="utf-8"))
    seconds, warm = cold_seconds(record), phase_seconds(record, "warm")
    changed = 0
    for path in sorted(args.notebooks_dir.glob("*.ipynb")):
        if path.stem not in seconds:
            print(f"{path.name}: sem medição sem erro na fase fria de {args.json.name}; não mudou.")
            continue
        change = rewrite_notebook(path, seconds[path.stem], write=not args.check, warm=warm.get(path.stem))
        if change:
            changed += 1
            print(f"{path.name}: {change[0]} -> {change[1]}{'' if args.check else ' (gravado)'}")
        else:
            print(f"{path.name}: {stated_duration(seconds[path.stem])} (já certo)")
    print("\nReleia as linhas mudadas (a frase em volta do número) e confira à mão estas outras citações de tempo:")
    for path, number, excerpt in runtime_quotes():
        print(f"  {path}:{number}: …{excerpt}…")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
