"""`benchmarks/bench_notebooks.py --course` roda as duas fases, grava o que promete e junta pedaços.

Notebooks sintéticos de duas células (numa pasta temporária) fazem o papel do curso: o primeiro
grava um arquivo na pasta de trabalho e um arquivo no cache em disco; o segundo lê o arquivo do
primeiro. Um teste roda o notebook 01 de verdade, no modo de demonstração. Nenhuma asserção
sobre tempos: eles dependem da máquina.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, SPAM_ZIP

SCRIPT = REPO_ROOT / "benchmarks" / "bench_notebooks.py"
FIRST = """\
import os, pathlib, torch
pathlib.Path("data").mkdir(exist_ok=True)
pathlib.Path("data/threads.json").write_text(
    f'{{"omp": "{os.environ.get("OMP_NUM_THREADS")}", "torch": {torch.get_num_threads()}}}')
"""
SECOND = """\
%matplotlib inline
import os, pathlib
cache = pathlib.Path(os.environ["LLMDEFINITIONS_CACHE_DIR"])
assert pathlib.Path("data/threads.json").is_file(), "o notebook anterior não deixou data/ na pasta de trabalho"
(cache / "saidas.safetensors").write_bytes(b"0" * 300_000)
"""


def _notebook(path, *cells):
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# título"]}]
                + [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [code]}
                   for code in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def _module():
    spec = importlib.util.spec_from_file_location("bench_notebooks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def course(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_grava.ipynb", FIRST)
    _notebook(notebooks / "02_le.ipynb", "x = 1", SECOND)
    return notebooks


def run(*arguments, check=True):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_course_runs_cold_then_warm_and_records_everything(course, tmp_path):
    record_path = tmp_path / "curso.json"
    workdir = tmp_path / "trabalho"
    done = run("--course", "--threads", "2", "--notebooks-dir", course, "--workdir", workdir,
               "--cache-dir", tmp_path / "cache", "--json", record_path, "--note", "teste")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["kind"] == "course" and record["threads"] == 2 and record["note"] == "teste"
    machine = record["machine"]
    assert machine["threads"] == 2 and machine["device"] == "cpu" and "cpu_model" in machine and "torch" in machine
    assert set(record["code"]) == {"commit", "dirty"}
    (only_run,) = record["runs"]
    command = only_run["command"]
    assert command.startswith("python ") and "bench_notebooks.py --course --threads 2" in command
    assert only_run["phases"] == ["cold", "warm"] and only_run["environment"]["OMP_NUM_THREADS"] == "2"
    for phase in ("cold", "warm"):
        summary = record["phases"][phase]
        assert list(summary["notebooks"]) == ["01_grava", "02_le"]
        assert summary["complete"] and summary["errors"] == [] and summary["missing"] == []
        for name, entry in summary["notebooks"].items():
            assert entry["error"] is None and entry["seconds"] >= 0 and entry["peak_rss_mb"] > 0
            assert len(entry["cell_seconds"]) == {"01_grava": 1, "02_le": 2}[name]
            assert entry["process_s"] >= entry["seconds"]
        assert summary["total_s"] == pytest.approx(sum(e["seconds"] for e in summary["notebooks"].values()), abs=0.02)
        assert summary["peak_rss_mb"] == max(e["peak_rss_mb"] for e in summary["notebooks"].values())
    cold, warm = record["phases"]["cold"]["notebooks"], record["phases"]["warm"]["notebooks"]
    assert cold["01_grava"]["cache_files_before"] == 0  # a fase fria começa com o cache vazio
    assert cold["02_le"]["cache_files_after"] == 1 and record["cache_mb"] == pytest.approx(0.3)
    assert warm["01_grava"]["cache_files_before"] == 1  # a quente encontra o cache da fria
    # cada subprocesso recebeu as threads pedidas
    assert json.loads((workdir / "data" / "threads.json").read_text()) == {"omp": "2", "torch": 2}
    lines = done.stdout.splitlines()
    assert sum(" ok " in line for line in lines) == 4 and any(line.startswith("total frio") for line in lines)


def test_pieces_merge_into_the_same_record(course, tmp_path):
    record_path = tmp_path / "curso.json"
    common = ["--course", "--threads", "1", "--notebooks-dir", course, "--cache-dir", tmp_path / "cache",
              "--workdir", tmp_path / "trabalho", "--json", record_path]
    # um pedaço do meio sem as pastas dos anteriores: erro claro, antes de rodar qualquer coisa
    lost = run("--course", "--phase", "cold", "--notebooks-dir", course, "02_le", check=False)
    assert lost.returncode != 0 and "--cache-dir" in lost.stderr
    run(*common, "--phase", "cold", "01_grava")
    first = json.loads(record_path.read_text(encoding="utf-8"))
    assert list(first["phases"]["cold"]["notebooks"]) == ["01_grava"] and not first["phases"]["cold"]["complete"]
    assert first["phases"]["cold"]["missing"] == ["02_le"]
    run(*common, "--phase", "cold", "02_le")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert len(record["runs"]) == 2 and [r["notebooks"] for r in record["runs"]] == [["01_grava"], ["02_le"]]
    assert record["phases"]["cold"]["notebooks"]["01_grava"] == first["phases"]["cold"]["notebooks"]["01_grava"]
    assert list(record["phases"]["cold"]["notebooks"]) == ["01_grava", "02_le"] and record["phases"]["cold"]["complete"]
    assert record["cache_mb"] == pytest.approx(0.3) and record["phases"]["warm"]["notebooks"] == {}


def test_a_record_only_takes_pieces_measured_the_same_way(tmp_path):
    module = _module()
    machine = {"cpu_model": "CPU de teste", "device": "cpu", "threads": 2}
    path = tmp_path / "curso.json"
    module.write_record(path, module.load_record(path, 2, machine))
    assert module.load_record(path, 2, machine)["kind"] == "course"
    with pytest.raises(SystemExit, match="--threads 2"):
        module.load_record(path, 1, machine)
    with pytest.raises(SystemExit, match="outra máquina"):
        module.load_record(path, 2, {**machine, "cpu_model": "outra"})
    old = tmp_path / "antigo.json"
    old.write_text('{"notebooks": {}}', encoding="utf-8")
    with pytest.raises(SystemExit, match="não é um registro do curso"):
        module.load_record(old, 2, machine)


def test_a_failing_notebook_is_recorded_as_an_error(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_falha.ipynb", "raise ValueError('de propósito')")
    # um registro antigo no mesmo arquivo: a fase fria desde o primeiro notebook começa um registro novo
    (tmp_path / "r.json").write_text(json.dumps({"kind": "course", "threads": 8, "runs": [{"command": "antigo"}],
                                                 "phases": {"cold": {"notebooks": {"00_velho": {}}}}}))
    done = run("--course", "--phase", "cold", "--notebooks-dir", notebooks, "--json", tmp_path / "r.json", check=False)
    assert done.returncode == 1 and "ERRO" in done.stdout and "Medição nova" in done.stdout
    record = json.loads((tmp_path / "r.json").read_text())
    assert len(record["runs"]) == 1 and list(record["phases"]["cold"]["notebooks"]) == ["01_falha"]
    assert "de propósito" in record["phases"]["cold"]["notebooks"]["01_falha"]["error"]
    assert record["phases"]["cold"]["errors"] == ["01_falha"] and not record["phases"]["cold"]["complete"]


@pytest.mark.skipif(not SPAM_ZIP.is_file(), reason="espelho do dataset ausente")
def test_real_notebook_in_demo_mode(tmp_path, monkeypatch):
    """O notebook 01 de verdade, num subprocesso, no modo de demonstração; e o uso antigo (um processo só)."""
    monkeypatch.setenv("LLMDEFINITIONS_DEMO", "1")
    monkeypatch.setenv("LLMDEFINITIONS_SPAM_ZIP", str(SPAM_ZIP))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run("--course", "--phase", "cold", "01_dados", "--json", tmp_path / "curso.json")
    entry = json.loads((tmp_path / "curso.json").read_text())["phases"]["cold"]["notebooks"]["01_dados"]
    assert entry["error"] is None and entry["data_mode"] == "real"
    run("01_dados", "--json", tmp_path / "avulso.json")
    old = json.loads((tmp_path / "avulso.json").read_text())
    assert old["notebooks"]["01_dados"]["error"] is None and "machine" in old


def test_course_table_for_the_desempenho_page():
    module = _module()
    entry = {"seconds": 61.25, "peak_rss_mb": 1500, "error": None, "commit": "abc1234", "dirty": False}
    record = {"threads": 2, "note": "2 núcleos fixados com taskset.", "cache_mb": 812.4,
              "machine": {"device": "cpu", "cpu_model": "CPU de teste", "cpus_allowed": 2, "torch": "2.13"},
              "runs": [{"started": "2026-12-04 08:00:00"}],
              "phases": {"cold": {"notebooks": {"01_a": entry, "02_b": {**entry, "error": "falhou"}},
                                  "total_s": 61.25, "peak_rss_mb": 1500, "complete": False},
                         "warm": {"notebooks": {"01_a": {**entry, "seconds": 2.0}}, "total_s": 2.0,
                                  "peak_rss_mb": 1500, "complete": False}}}
    table = module.course_table(record)
    assert list(table.index) == ["01_a", "02_b", "total (pico: o maior)"]
    assert table.loc["01_a"].tolist() == ["61,2", "2,0", "1.500", "1.500"]
    assert table.loc["02_b"].tolist() == ["erro", "—", "erro", "—"]
    assert table.iloc[-1, 0].startswith("61,2 (1,0 min)") and "incompleto" in table.iloc[-1, 0]
    caption = module.course_caption(record)
    assert "CPU de teste" in caption and "2 thread(s)" in caption and "812 MB" in caption and "taskset" in caption
