"""`checkpoint`: salvar e recarregar o classificador com segurança (safetensors + metadados)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from llmdefinitions import (
    CheckpointError,
    GPTModel,
    classify_review,
    gpt2_config,
    load_classifier,
    prepare_last_block,
    save_classifier,
)

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 2, "context_length": 128}


def test_save_and_load_classifier_round_trip(tmp_path, tokenizer):
    torch.manual_seed(0)
    model = prepare_last_block(GPTModel(TINY))
    path = tmp_path / "classificador.safetensors"
    save_classifier(model, path, approach="último bloco", max_length=40, metrics={"test_accuracy": 0.9})
    loaded, meta = load_classifier(path)
    assert meta["approach"] == "último bloco" and meta["max_length"] == 40 and meta["config"] == TINY
    ids = torch.tensor([tokenizer.encode("claim your prize")])
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), model.eval()(ids))
    text = "claim your prize"
    assert classify_review(text, loaded, tokenizer, "cpu") == classify_review(text, model, tokenizer, "cpu")


def test_loading_wrong_or_foreign_files_fails_clearly(tmp_path):
    model = prepare_last_block(GPTModel(TINY))
    path = tmp_path / "c.safetensors"
    save_classifier(model, path, "x", 10)
    tensors = {n: t.contiguous() for n, t in model.state_dict().items()}
    tensors["out_head.weight"] = torch.zeros(3, 32)  # outra arquitetura, metadados de 2 classes
    import json

    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    save_file(tensors, tmp_path / "wrong.safetensors", metadata=metadata)
    with pytest.raises(CheckpointError, match="out_head.weight"):
        load_classifier(tmp_path / "wrong.safetensors")
    save_file({"x": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="metadados"):
        load_classifier(tmp_path / "foreign.safetensors")
    (tmp_path / "half.safetensors").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="safetensors válido"):
        load_classifier(tmp_path / "half.safetensors")
    assert json.loads(metadata["llmdefinitions"])["num_classes"] == 2
