"""O caminho `hf` de `bench_finetune.py` (benchmarks/hf_path.py): mesma função que o projeto, no HF.

Nenhuma asserção sobre tempos. Conferimos que o `GPT2ForSequenceClassification` montado parte dos
mesmos pesos do projeto e calcula a mesma função (a menos do viés da cabeça, que o `score` do HF
não tem), que só o último bloco, `ln_f` e `score` treinam, e que o script grava e resume o caminho.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.test_benchmark import run_script

pytest.importorskip("transformers")

BENCHMARKS = REPO_ROOT / "benchmarks"


@pytest.fixture(scope="module")
def hf_path():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import hf_path
    finally:
        sys.path.remove(str(BENCHMARKS))
    return hf_path


def _build(hf_path, **options):
    args = argparse.Namespace(**{"tiny": True, "models_dir": None, **options})
    return hf_path.load_hf_classifier(args, torch.device("cpu"))


@pytest.mark.parametrize("source", ["aleatórios", "checkpoint"])
def test_same_function_as_ours_up_to_the_head_bias(hf_path, source, models_dir):
    from llmdefinitions import classification_logits, pad_batch

    options = {"tiny": False, "models_dir": models_dir} if source == "checkpoint" else {}
    hf, ours, info = _build(hf_path, **options)
    assert ("pré-treinados" in info["weights"]) == (source == "checkpoint")
    assert hf_path.same_body(hf, ours)
    batch, _ = pad_batch([(torch.tensor([464, 2068, 7586, 21831]), torch.tensor(0)),
                        (torch.tensor([40, 588]), torch.tensor(1))])
    with torch.no_grad():
        theirs = hf_path.HFClassifier(hf)(batch) + ours.out_head.bias
        expected = classification_logits(ours, batch, token_position="last_real")
    torch.testing.assert_close(theirs, expected, atol=1e-5, rtol=1e-4)


def test_conversion_is_the_inverse_of_load_weights_into_gpt(hf_path):
    from llmdefinitions import GPTModel, load_weights_into_gpt

    _, ours, _ = _build(hf_path)
    back = load_weights_into_gpt(GPTModel(ours.cfg), hf_path.hf_state_from_gpt(ours))
    theirs = dict(back.named_parameters())
    for name, tensor in ours.named_parameters():
        if not name.startswith("out_head"):
            assert torch.equal(theirs[name], tensor), name


def test_only_last_block_final_norm_and_score_train(hf_path):
    hf, _, _ = _build(hf_path)
    trainable = {name.split(".")[1] if name.startswith("transformer.") else name.split(".")[0]
                 for name, p in hf.named_parameters() if p.requires_grad}
    assert trainable == {"h", "ln_f", "score"}
    last = str(len(hf.transformer.h) - 1)
    assert all(name.split(".")[2] == last for name, p in hf.named_parameters()
               if p.requires_grad and name.startswith("transformer.h."))


def test_missing_transformers_skips_the_path_with_a_message(hf_path, monkeypatch, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert hf_path.available_paths(["ours", "hf"]) == ["ours"]
    assert "Caminho 'hf' pulado" in capsys.readouterr().out


def test_script_reports_hf_extrapolated_ratio_and_agreement(spam_zip, tmp_path):
    results, stdout = run_script(tmp_path, spam_zip, "--in-process", "--paths", "ours,hf", "--epochs", "2",
                                 "--hf-epochs", "1")
    hf = results["paths"]["hf"]
    assert hf["epochs"] == 1 and hf["same_body_as_ours"] is True and "test_logits" not in hf
    assert {k: hf["loop"][k] for k in ("train_batches", "eval_batches")} == hf["schedule"]["expected"]
    assert results["hf_extrapolated"]["epochs"] == 2 and results["settings"]["hf_epochs"] == 1
    assert results["ratio"]["hf_over_ours"] > 0 and "EXTRAPOLADO" in results["ratio"]["hf_basis"]
    check = results["hf_correctness"]
    assert check["test_n"] == 32 and 0 <= check["test_agreement"] <= 1
    assert "HF / projeto" in stdout and "Conferência HF" in stdout and "HF EXTRAPOLADO" in stdout
