"""O benchmark roda de ponta a ponta (num GPT-2 minúsculo) e o JSON tem o que promete.

Nenhuma asserção sobre tempos: eles dependem da máquina. Só conferimos que os números
existem e fazem sentido, e que o caminho ingênuo e o do projeto dão as mesmas previsões.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "bench_finetune.py"
PATHS = ("naive", "ours", "approach2", "approach1", "hf")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def run_script(out, spam_zip, *extra):
    """Roda o script como na linha de comando; devolve (JSON, stdout)."""
    json_path = out / "results.json"
    command = [
        sys.executable, str(SCRIPT), "--tiny", "--epochs", "1", "--device", "cpu", "--threads", "1",
        "--limit-train", "64", "--limit-val", "16", "--limit-test", "32",
        "--data-dir", str(out / "data"), "--spam-zip", str(spam_zip), "--json", str(json_path), *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("LLMDEFINITIONS_SPAM_ZIP", None)
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(json_path.read_text(encoding="utf-8")), completed.stdout


@pytest.fixture(scope="module")
def tiny_results(spam_zip, tmp_path_factory):
    # Os quatro caminhos num processo só: cada subprocesso gastaria segundos importando torch.
    # (--threads 1: em operações minúsculas, várias threads numa máquina ocupada só esperam umas pelas outras.)
    return run_script(tmp_path_factory.mktemp("bench"), spam_zip, "--in-process")


def test_every_path_reports_times_memory_and_floor(tiny_results):
    results, _ = tiny_results
    assert set(results["paths"]) == set(PATHS)
    assert results["machine"]["rss_per_path"] is False
    assert results["partial"] is False
    assert results["data"] == {"train": 64, "val": 16, "test": 32}
    assert _positive(results["matmul"]["gflops_best"])
    for name, entry in results["paths"].items():
        assert _positive(entry["total_s"]), name
        assert _positive(entry["peak_rss_mb"]), name
        assert _positive(entry["floor_s"]) and _positive(entry["total_over_floor"]), name
        assert all(v >= 0 for v in entry["phases"].values()), name
        assert "aleatórios" in entry["weights"]
        assert entry["config"] == {"emb_dim": 64, "n_layers": 2, "n_heads": 4}
        assert "test_logits" not in entry  # logits crus ficam fora do JSON final
    assert set(results["paths"]["naive"]["phases"]) == {"training_s", "final_eval_s"}
    for name in ("ours", "approach2"):
        assert set(results["paths"][name]["phases"]) == {"precompute_s", "training_s", "final_eval_s"}
    approach1 = results["paths"]["approach1"]
    assert {"extract_s", "fit_random_forest_s", "fit_logistic_regression_s"} <= set(approach1["phases"])
    assert 0 <= approach1["accuracy_logistic_regression"]["test"] <= 1


def test_loop_does_the_lecture_schedule(tiny_results):
    results, _ = tiny_results
    for name in ("naive", "ours", "approach2"):
        entry = results["paths"][name]
        measured = {k: entry["loop"][k] for k in ("train_batches", "eval_batches")}
        assert measured == entry["schedule"]["expected"], name  # 8 passos; avaliação no passo 0 e no fim da época
        assert entry["history"]["examples_seen"] == 64
    # O ingênuo processa o padding fixo inteiro; o projeto, bem menos tokens.
    naive, ours = results["paths"]["naive"], results["paths"]["ours"]
    assert naive["loop"]["train_tokens"] == 64 * naive["max_length"]
    assert sum(ours["flops"].values()) < sum(naive["flops"].values())


def test_naive_and_ours_agree(tiny_results):
    results, stdout = tiny_results
    check = results["correctness"]
    assert check["same_initial_weights"] is True
    assert check["test_n"] == 32
    assert check["test_agreement"] == 1.0 and check["test_n_different"] == 0
    assert check["test_max_abs_logit_diff"] < 1e-4
    assert check["train_loss_max_abs_diff"] < 1e-4 and check["val_loss_max_abs_diff"] < 1e-4
    assert check["same_accuracies"] is True
    assert results["ratio"]["basis"] == "medido"
    assert _positive(results["ratio_naive_over_ours"])


def test_every_path_starts_with_a_cold_disk_cache(tiny_results):
    """Cada caminho tem uma pasta de cache nova e vazia: nada vem do caminho anterior (a abordagem 1
    e o projeto fazem a mesma passada congelada, e mesmo assim nenhum lê o que o outro gravou)."""
    results, stdout = tiny_results
    assert results["cache"].startswith("frio (pasta vazia)") and "Cache em disco: frio" in stdout
    for name in ("ours", "approach2", "approach1"):
        assert results["paths"][name]["disk_cache"]["hits"] == 0, name
        assert results["paths"][name]["disk_cache"]["misses"] > 0, name  # o cache estava ligado
    assert results["settings"]["batch_tokens"] == results["paths"]["ours"]["batch_tokens"] > 0
    assert "RESUMO DO BENCHMARK" in stdout and "ingênuo / projeto" in stdout


def test_each_path_runs_in_its_own_subprocess(spam_zip, tmp_path):
    """O modo normal: cada caminho num subprocesso, para o pico de RSS ser só dele."""
    results, stdout = run_script(tmp_path, spam_zip, "--paths", "approach1")
    assert results["machine"]["rss_per_path"] is True
    assert list(results["paths"]) == ["approach1"]
    entry = results["paths"]["approach1"]
    assert entry["path"] == "approach1" and _positive(entry["peak_rss_mb"]) and _positive(entry["total_s"])
    assert "ratio" not in results and "correctness" not in results  # sem o ingênuo, nada a comparar
    assert "[approach1] total" in stdout


def test_extrapolation_is_labelled_and_consistent():
    """Sem rodar nada: a extrapolação do ingênuo segue o calendário do laço e se declara estimativa."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_finetune as bench
    finally:
        sys.path.remove(str(SCRIPT.parent))
    # 130 lotes de treino e 19 de validação (o conjunto de dados real): 650 passos em 5 épocas,
    # avaliações nos passos 0, 50, ..., 600 (13) e no fim de cada época (5), 10 lotes cada.
    assert bench.loop_schedule(130, 19, 5) == {"train_batches": 650, "eval_batches": 180}
    naive = {
        "epochs": 1,
        "phases": {"training_s": 140.0, "final_eval_s": 30.0},
        "loop": {"train_batches": 130, "eval_batches": 40, "eval_seconds": 10.0},
        "schedule": {"n_train_batches": 130, "n_val_batches": 19},
        "flops": {"training_steps": 130e9, "training_evals": 40e9, "final_eval": 20e9},
    }
    extrapolated = bench.extrapolate_naive(naive, 5)
    assert "EXTRAPOLADO" in extrapolated["label"]
    assert extrapolated["step_s"] == pytest.approx(1.0) and extrapolated["eval_batch_s"] == pytest.approx(0.25)
    assert extrapolated["phases"]["training_s"] == pytest.approx(650 * 1.0 + 180 * 0.25)
    assert extrapolated["total_s"] == pytest.approx(650 + 45 + 30)
    assert extrapolated["flops"]["training_steps"] == pytest.approx(650e9)
    assert extrapolated["flops"]["training_evals"] == pytest.approx(180e9)


def test_naive_can_be_reused_from_a_previous_json(tiny_results, spam_zip, tmp_path):
    """--naive-from: a medição longa do ingênuo não se repete; a razão diz de onde ela veio."""
    previous, _ = tiny_results
    saved = tmp_path / "previous.json"
    saved.write_text(json.dumps(previous), encoding="utf-8")
    results, stdout = run_script(tmp_path, spam_zip, "--in-process", "--paths", "ours", "--epochs", "2",
                                 "--naive-from", str(saved))
    naive = results["paths"]["naive"]
    assert naive["reused_from"]["file"] == str(saved) and naive["epochs"] == 1
    assert "EXTRAPOLADO" in results["ratio"]["basis"] and str(saved) in results["ratio"]["basis"]
    assert results["paths"]["ours"]["epochs"] == 2
    # A conferência usa o projeto com as épocas do ingênuo e as previsões que o JSON guardou.
    check = results["correctness"]
    assert check["reference"] == "ours_check" and check["test_agreement"] == 1.0
    assert check["test_max_abs_logit_diff"] is None  # o JSON não guarda logits
    assert check["train_loss_max_abs_diff"] < 1e-4
    assert "reaproveitado" in stdout

    command = [sys.executable, str(SCRIPT), "--tiny", "--batch-size", "4", "--paths", "ours",
               "--naive-from", str(saved), "--data-dir", str(tmp_path / "data"), "--spam-zip", str(spam_zip),
               "--limit-train", "64", "--limit-val", "16", "--limit-test", "32"]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0 and "batch_size" in completed.stderr


def test_lab_benchmark_runs_with_the_shared_helpers(spam_zip, tmp_path):
    """bench_lab.py (notebook 7) pelo mesmo common.py: modelo de partida, dados, máquina e JSON."""
    json_path = tmp_path / "lab.json"
    command = [sys.executable, str(SCRIPT.parent / "bench_lab.py"), "--tiny", "--epochs", "1", "--threads", "1",
               "--only", "só a cabeça,primeiro token", "--data-dir", str(tmp_path / "data"),
               "--spam-zip", str(spam_zip), "--json", str(json_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads(json_path.read_text(encoding="utf-8"))
    assert results["partial"] is False and "aleatórios" in results["weights"]
    assert [row["name"] for row in results["table"]] == ["primeiro token", "só a cabeça"]
    assert all(0 <= row["test_acc"] <= 1 for row in results["table"])
    assert _positive(results["peak_rss_mb"]) and results["frozen_passes"] == 2
    assert results["cache"] == "frio (pasta vazia)" and results["disk_cache"]["hits"] == 0
    assert {"threads", "cpu_count", "torch", "date", "load_average_end"} <= set(results["machine"])
    # O piso de cada linha: as contas que ela executou / matmul medido (a soma é o piso do total).
    assert _positive(results["matmul"]["gflops_best"])
    assert all(row["flops"] > 0 and row["floor_s"] > 0 for row in results["table"])
    assert math.isclose(results["floor_s"], sum(row["floor_s"] for row in results["table"]))


def test_flop_counter_counts_every_model_without_a_model(monkeypatch):
    """`FlopCounter()` (sem modelo) conta as camadas lineares de qualquer módulo, por um hook global:
    2·linhas·entrada·saída no forward; o triplo se o peso treina e há gradiente; nada depois de `remove`."""
    import torch

    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    from roofline import FlopCounter

    frozen, trainable = torch.nn.Linear(4, 3).requires_grad_(False), torch.nn.Linear(4, 3)
    counter = FlopCounter()
    with torch.no_grad():
        frozen(torch.ones(5, 4))
    assert counter.flops == {"setup": 2 * 5 * 4 * 3}
    trainable(torch.ones(2, 5, 4)).sum().backward()
    assert counter.flops["setup"] == 2 * 5 * 4 * 3 + 3 * (2 * 10 * 4 * 3)
    counter.remove()
    trainable(torch.ones(5, 4))
    assert counter.flops["setup"] == 2 * 5 * 4 * 3 + 3 * (2 * 10 * 4 * 3)
