"""O tempo de execução que cada notebook anuncia vem da medição gravada, não de um palpite.

A linha "**Tempo estimado:**" de cada notebook diz quanto a execução leva com o GPT-2 small numa
CPU de 2 núcleos; o número tem de ser o da **fase fria** (primeira execução, cache em disco vazio)
do registro do curso, `benchmarks/results/curso-cpu-2-threads.json`, medido com
`benchmarks/bench_notebooks.py --course --threads 2` (o notebook 7 também: o tempo dele no curso).
Quando uma nova medição é gravada, `python tools/sync_runtime_statements.py` reescreve os números e
este teste aponta o que ficou velho. A página Desempenho mostra a tabela do curso gerada do mesmo JSON.

Enquanto o curso não foi medido (o JSON não existe), os testes que dependem dele são pulados.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil

import pytest

from tests.conftest import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
COURSE_JSON = RESULTS / "curso-cpu-2-threads.json"
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
PAGE = REPO_ROOT / "book" / "desempenho.md"
MISSING = (f"{COURSE_JSON.relative_to(REPO_ROOT)} ainda não existe: meça o curso com "
           "`python benchmarks/bench_notebooks.py --course --threads 2 "
           "--json benchmarks/results/curso-cpu-2-threads.json` "
           "(veja benchmarks/README.md) e rode `python tools/sync_runtime_statements.py`.")


def _load_sync():
    spec = importlib.util.spec_from_file_location("sync_runtime_statements",
                                                  REPO_ROOT / "tools" / "sync_runtime_statements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _load_sync()


def course_record() -> dict:
    if not COURSE_JSON.is_file():
        pytest.skip(MISSING)
    return json.loads(COURSE_JSON.read_text(encoding="utf-8"))


def test_the_course_record_is_complete_and_real_size():
    record = course_record()
    assert record["kind"] == "course" and record["threads"] == 2, "o registro tem de ser do curso, com 2 threads"
    for phase in ("cold", "warm"):
        summary = record["phases"][phase]
        assert set(summary["notebooks"]) == {path.stem for path in NOTEBOOKS}, f"fase {phase}: faltam notebooks"
        assert summary["complete"], f"fase {phase}: {summary['errors']} com erro"
        for name, entry in summary["notebooks"].items():
            # a medição é do GPT-2 small de tamanho real, nunca do modelo de demonstração
            assert entry.get("model_mode") != "demo", f"{name} ({phase}) rodou no modo de demonstração"
    assert record["cache_mb"] is not None
    for run in record["runs"]:
        demo = run["environment"].get("LLMDEFINITIONS_DEMO", "").strip().lower() in {"1", "true", "sim", "yes", "on"}
        assert not demo, f"medido com LLMDEFINITIONS_DEMO: {run['command']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_time_line_states_the_recorded_figure(path):
    seconds = sync.cold_seconds(course_record())
    assert path.stem in seconds, f"{path.stem} não tem medição sem erro na fase fria de {COURSE_JSON.name}"
    line = sync.time_line(path)
    figures = [match.group(0) for match in sync.FIGURE.finditer(line)]
    expected = sync.stated_duration(seconds[path.stem])
    assert figures and figures[0] == expected, (f"{path.name}: esperado '{expected}' na linha de tempo (rode "
                                                f"`python tools/sync_runtime_statements.py`): {line}")
    if "numa nova execução" in line:  # notebooks 3 a 7: o segundo número é a fase quente
        warm = sync.stated_duration(sync.phase_seconds(course_record(), "warm")[path.stem])
        assert len(figures) >= 2 and figures[1] == warm, f"{path.name}: esperado '{warm}' (cache quente): {line}"
    assert "CPU de 2 núcleos" in line and "Desempenho" in line, line


def test_stated_duration_format():
    assert sync.stated_duration(0.79) == "≈ 1 s"
    assert sync.stated_duration(55.49) == "≈ 55 s"
    assert sync.stated_duration(96.72) == "≈ 1,6 min"
    assert sync.stated_duration(754.6) == "≈ 12,6 min"


def test_every_notebook_has_a_time_line_with_a_figure_to_sync():
    for path in NOTEBOOKS:
        assert sync.FIGURE.search(sync.time_line(path)), f"{path.name}: a linha de tempo não tem '≈ N s/min'"


def test_sync_rewrites_only_the_figure(tmp_path):
    """O script troca só o número da linha "Tempo estimado" e o notebook continua um JSON válido."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, notebooks / path.name)
    seconds = {path.stem: 30.0 + 100 * index for index, path in enumerate(NOTEBOOKS)}
    record = {"kind": "course", "phases": {phase: {"notebooks": {
        name: {"seconds": value / factor, "error": None} for name, value in seconds.items()}}
        for phase, factor in [("cold", 1), ("warm", 4)]}}
    (tmp_path / "curso.json").write_text(json.dumps(record), encoding="utf-8")
    with contextlib.redirect_stdout(None):
        assert sync.main(["--json", str(tmp_path / "curso.json"), "--notebooks-dir", str(notebooks)]) == 0
        # de novo: nada muda, e --check concorda
        assert sync.main(["--json", str(tmp_path / "curso.json"), "--notebooks-dir", str(notebooks), "--check"]) == 0
    for path in NOTEBOOKS:
        new = notebooks / path.name
        line = sync.time_line(new)
        assert sync.stated_duration(seconds[path.stem]) in line
        if "numa nova execução" in line:
            assert sync.stated_duration(seconds[path.stem] / 4) in line
        old_lines, new_lines = path.read_text(encoding="utf-8").split("\n"), new.read_text(encoding="utf-8").split("\n")
        assert len(old_lines) == len(new_lines)
        changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
        assert len(changed) <= 1 and all(sync.MARKER in new_lines[i] for i in changed), path.name
        cells = json.loads(new.read_text(encoding="utf-8"))["cells"]
        assert len(cells) == len(json.loads(path.read_text(encoding="utf-8"))["cells"])


def test_sync_lists_other_runtime_quotes():
    quotes = sync.runtime_quotes()
    assert any(path.name == "07_laboratorio.ipynb" for path, _, _ in quotes)
    assert all(number > 0 and excerpt for _, number, excerpt in quotes)


def _page_code_cells() -> list[str]:
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    return [re.sub(r"\A(?::[^\n]*\n)+", "", code) for code in cells]  # sem as opções (`:tags: ...`)


def test_desempenho_page_renders_the_course_table_from_the_record():
    """A página gera a tabela do curso do JSON (`course_table`), sem números escritos à mão."""
    cells = _page_code_cells()
    course_cells = [code for code in cells if "course_table" in code]
    assert course_cells and "curso-*.json" in course_cells[0], "a página não mostra a tabela do curso"
    record = course_record()
    shown = []
    namespace = {}
    previous = os.getcwd()
    os.chdir(PAGE.parent)  # a página roda em book/ e lê ../benchmarks/results
    try:
        import IPython.display

        original = IPython.display.display
        IPython.display.display = lambda *objects, **_: shown.extend(objects)
        try:
            exec(cells[0], namespace)  # noqa: S102 - o código da própria página: importações e RESULTS
            namespace["display"] = IPython.display.display
            exec(course_cells[0], namespace)  # noqa: S102
        finally:
            IPython.display.display = original
    finally:
        os.chdir(previous)
    tables = [obj for obj in shown if hasattr(obj, "columns") and "notebook" == getattr(obj.index, "name", None)]
    assert tables, "a célula do curso não mostrou a tabela"
    table = tables[0]
    from llmdefinitions import format_pt

    for name, cold in record["phases"]["cold"]["notebooks"].items():
        row = table.loc[name]
        warm = record["phases"]["warm"]["notebooks"][name]
        assert row.iloc[0] == format_pt(cold["seconds"], 1) and row.iloc[1] == format_pt(warm["seconds"], 1)
        assert row.iloc[2] == format_pt(cold["peak_rss_mb"], 0) and row.iloc[3] == format_pt(warm["peak_rss_mb"], 0)
    total = table.iloc[-1]
    assert format_pt(record["phases"]["cold"]["total_s"], 1) in total.iloc[0]
    assert format_pt(record["phases"]["warm"]["total_s"], 1) in total.iloc[1]
    captions = [getattr(obj, "data", "") for obj in shown]
    assert any(COURSE_JSON.name in text and "Cache em disco" in text for text in captions)
