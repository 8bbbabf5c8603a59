"""Testes de llmdefinitions.weights: obter os arquivos do GPT-2 e traduzi-los para o `GPTModel`.

Sem internet: os checkpoints são GPT-2 pequenos e aleatórios no layout do Hugging Face
(`tests/checkpoints.py`), e a falta de rede é simulada com um endpoint numa porta fechada.
"""

from __future__ import annotations

import json

import pytest
import torch

import llmdefinitions.download as download
from llmdefinitions import (
    CheckpointError,
    GPT2DownloadError,
    GPTModel,
    config_from_settings,
    download_and_load_gpt2,
    gpt2_config,
    load_weights_into_gpt,
)
from tests.checkpoints import save_hf_checkpoint
from tests.tiny_models import load_ours


def test_settings_come_from_config_json(models_dir):
    settings, _ = download_and_load_gpt2("124M", models_dir)
    assert config_from_settings(settings) == {
        "vocab_size": 50257, "context_length": 128, "emb_dim": 64, "n_heads": 4,
        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": True,
    }


def test_checkpoint_without_transformer_prefix(hf_model, tmp_path):
    save_hf_checkpoint(hf_model, tmp_path / "124M", strip_prefix=True)
    ours = load_ours(tmp_path)
    ids = torch.arange(100, 130).unsqueeze(0)
    with torch.no_grad():
        assert (ours(ids) - hf_model(ids).logits).abs().max().item() < 1e-4


def test_out_head_is_tied_to_token_embedding(models_dir):
    ours = load_ours(models_dir)
    assert ours.out_head.weight is ours.tok_emb.weight


def test_wrong_size_names_both(models_dir):
    medium = GPTModel({**gpt2_config("gpt2-small (124M)"), "emb_dim": 96, "n_heads": 4, "context_length": 128})
    _, params = download_and_load_gpt2("124M", models_dir)
    with pytest.raises(CheckpointError, match=r"emb_dim=64.*emb_dim=96"):
        load_weights_into_gpt(medium, params)
    settings = json.loads((models_dir / "124M" / "config.json").read_text())
    deeper = GPTModel({**config_from_settings(settings), "n_layers": 3})
    with pytest.raises(CheckpointError, match=r"n_layers=2.*n_layers=3"):
        load_weights_into_gpt(deeper, params)


def test_failed_load_leaves_model_untouched(models_dir):
    _, params = download_and_load_gpt2("124M", models_dir)
    params = dict(params)
    params["h.1.mlp.c_fc.bias"] = torch.zeros(7)  # último tensor com forma errada
    model = GPTModel(config_from_settings(json.loads((models_dir / "124M" / "config.json").read_text())))
    before = model.tok_emb.weight.clone()
    with pytest.raises(CheckpointError):
        load_weights_into_gpt(model, params)
    assert torch.equal(model.tok_emb.weight, before)


def test_unknown_model_size(tmp_path):
    with pytest.raises(ValueError, match="124M"):
        download_and_load_gpt2("125M", tmp_path)


def test_corrupt_checkpoint_is_reported(models_dir, tmp_path):
    target = tmp_path / "124M"
    target.mkdir()
    (target / "config.json").write_bytes((models_dir / "124M" / "config.json").read_bytes())
    data = (models_dir / "124M" / "model.safetensors").read_bytes()
    (target / "model.safetensors").write_bytes(data[: len(data) // 2])  # download interrompido
    with pytest.raises(CheckpointError, match="corrompido ou incompleto"):
        download_and_load_gpt2("124M", tmp_path)
    (target / "config.json").write_text("{ isto não é json")
    with pytest.raises(CheckpointError, match="JSON"):
        download_and_load_gpt2("124M", tmp_path)


def test_offline_download_gives_manual_instructions(tmp_path, monkeypatch):
    # Um endpoint numa porta fechada simula a falta de internet.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    import importlib

    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", "http://127.0.0.1:9/{repo_id}/resolve/{revision}/{filename}")
    with pytest.raises(GPT2DownloadError, match=r"openai-community/gpt2.*124M/config.json"):
        download_and_load_gpt2("124M", tmp_path)
    # Nenhum arquivo com nome definitivo ficou para trás.
    assert not (tmp_path / "124M" / "config.json").exists()
    assert not (tmp_path / "124M" / "model.safetensors").exists()
    importlib.invalidate_caches()


def test_files_already_present_are_not_downloaded(models_dir, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("não deveria baixar nada")

    monkeypatch.setattr(download, "hub_download", no_network)
    settings, params = download_and_load_gpt2("124M", models_dir)
    assert settings["n_layer"] == 2
    assert "transformer.wte.weight" in params
