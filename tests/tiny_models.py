"""Modelos e dados pequenos e aleatórios que vários arquivos de teste compartilham."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from llmdefinitions import GPTModel, config_from_settings, download_and_load_gpt2, gpt2_config, load_weights_into_gpt

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 3, "context_length": 256}


def tiny_model(seed=0, layers=3, **config):
    torch.manual_seed(seed)
    model = GPTModel({**TINY, "n_layers": layers, **config})
    with torch.no_grad():  # pesos maiores que o padrão: diferenças aparecem
        for p in model.parameters():
            p.mul_(3.0)
    return model.eval()


def synthetic_frame(n=48, seed=1):
    rng = np.random.default_rng(seed)
    words = ["free", "prize", "call", "now", "hi", "mum", "see", "you", "later", "win", "cash", "ok", "lunch"]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 30))) for _ in range(n)]
    return pd.DataFrame({"Text": texts, "Label": rng.integers(0, 2, size=n)})


def load_ours(models_dir):
    """O nosso `GPTModel` com os pesos do checkpoint `124M` de `models_dir`, em modo de avaliação."""
    settings, params = download_and_load_gpt2("124M", models_dir)
    model = GPTModel(config_from_settings(settings))
    load_weights_into_gpt(model, params)
    return model.eval()
