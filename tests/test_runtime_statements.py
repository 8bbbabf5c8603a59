"""O tempo de execução que cada notebook anuncia vem da medição gravada, não de um palpite.

A linha "**Tempo estimado:**" de cada notebook diz quanto a execução leva com o GPT-2 small numa
CPU de 2 núcleos; o número tem de ser o de `benchmarks/results/notebooks-cpu-2-threads.json`
(medido com `benchmarks/bench_notebooks.py --threads 2`) e, no notebook 7, o da tabela padrão do
laboratório em `benchmarks/results/lab-cpu-2-nucleos.json` (`benchmarks/bench_lab.py`). Quando
uma nova medição é gravada, este teste aponta as frases que ficaram velhas.
"""

from __future__ import annotations

import json

import pytest

from llmdefinitions import format_pt
from tests.conftest import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def stated_duration(seconds: float) -> str:
    """Como as páginas escrevem um tempo medido: segundos até 1 min, depois minutos com uma casa."""
    if seconds < 60:
        return f"≈ {format_pt(max(seconds, 1), 0)} s"
    return f"≈ {format_pt(seconds / 60, 1)} min"


def measured_seconds() -> dict[str, float]:
    notebooks = json.loads((RESULTS / "notebooks-cpu-2-threads.json").read_text(encoding="utf-8"))
    lab = json.loads((RESULTS / "lab-cpu-2-nucleos.json").read_text(encoding="utf-8"))
    seconds = {name: entry["seconds"] for name, entry in notebooks["notebooks"].items() if entry["error"] is None}
    seconds["07_laboratorio"] = lab["total_s"]  # o notebook 7 é, no essencial, a tabela padrão
    return seconds


def time_line(path) -> str:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "**Tempo estimado:**" in source:
            start = source.index("**Tempo estimado:**")
            end = source.find("\n\n", start)
            return source[start:] if end < 0 else source[start:end]
    raise AssertionError(f"{path.name} não tem a linha **Tempo estimado:**")


def test_every_notebook_has_a_recorded_measurement():
    assert set(measured_seconds()) == {path.stem for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_time_line_states_the_recorded_figure(path):
    line = time_line(path)
    expected = stated_duration(measured_seconds()[path.stem])
    assert expected in line, f"{path.name}: esperado '{expected}' na linha de tempo: {line}"
    assert "CPU de 2 núcleos" in line and "Desempenho" in line, line


def test_stated_duration_format():
    assert stated_duration(0.79) == "≈ 1 s"
    assert stated_duration(55.49) == "≈ 55 s"
    assert stated_duration(96.72) == "≈ 1,6 min"
    assert stated_duration(754.6) == "≈ 12,6 min"
