"""Testes de llmdefinitions.config: as quatro versões do GPT-2 e o `config.json` do Hugging Face."""

from __future__ import annotations

import pytest

from llmdefinitions import config_from_settings, gpt2_config, model_configs, model_size_from_name
from llmdefinitions.config import validate_config


def test_presets_and_size_names():
    assert set(model_configs) == {
        "gpt2-small (124M)", "gpt2-medium (355M)", "gpt2-large (774M)", "gpt2-xl (1558M)"
    }
    assert model_size_from_name("gpt2-xl (1558M)") == "1558M"
    assert gpt2_config("gpt2-medium (355M)")["emb_dim"] == 1024
    for name in model_configs:  # cabeças dividem a largura
        cfg = gpt2_config(name)
        assert cfg["emb_dim"] % cfg["n_heads"] == 0


def test_unknown_model_name_lists_the_options():
    with pytest.raises(ValueError, match="gpt2-small"):
        gpt2_config("gpt2-tiny")
    with pytest.raises(ValueError, match="gpt2-small"):
        model_size_from_name("124M")


def test_config_from_settings_and_missing_fields():
    settings = {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12}
    assert config_from_settings(settings) == gpt2_config("gpt2-small (124M)")
    with pytest.raises(ValueError, match="n_embd"):
        config_from_settings({"vocab_size": 50257, "n_positions": 1024})


def test_validate_config():
    validate_config(gpt2_config())
    with pytest.raises(ValueError, match="faltam as chaves"):
        validate_config({"emb_dim": 8})
    with pytest.raises(ValueError, match="divisível"):
        validate_config({**gpt2_config(), "n_heads": 5})
