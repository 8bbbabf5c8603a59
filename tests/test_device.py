"""Testes de llmdefinitions.device: a escolha do dispositivo (GPU, MPS ou CPU), a variável que a força e o
ajuste do alocador da glibc que faz os passos de treino reusarem a memória liberada."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from llmdefinitions import device


def test_device_choice(monkeypatch):
    from llmdefinitions import get_device

    monkeypatch.delenv("LLMDEFINITIONS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    chosen = get_device()
    assert chosen.type in ("cuda", "mps", "cpu")
    if expected:
        assert chosen.type == expected
    monkeypatch.setenv("LLMDEFINITIONS_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("meta") == torch.device("meta")


# ----------------------------------------------------------------- keep_freed_memory (Linux, glibc)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ajuste do alocador da glibc (Linux)")

# Um bloco do tamanho do GPT-2 small treinando em lotes de tamanhos variados, como os do laboratório:
# imprime as faltas de página menores dos 40 passos depois do primeiro.
TRAINING_STEPS = """
import resource, torch
import llmdefinitions
from llmdefinitions import GPTModel
torch.manual_seed(0); torch.set_num_threads(1)
cfg = {"vocab_size": 500, "context_length": 128, "emb_dim": 768, "n_heads": 12, "n_layers": 1,
       "drop_rate": 0.0, "qkv_bias": True}
model = GPTModel(cfg)
optimizer = torch.optim.AdamW(model.trf_blocks.parameters(), fused=True)
def step(tokens):
    optimizer.zero_grad()
    out = model.trf_blocks(torch.randn(8, tokens, 768))
    out[:, -1].square().mean().backward()
    optimizer.step()
step(10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(40):
    step(8 + (i * 7) % 50)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _clean_allocator_env(monkeypatch):
    for name in (*device.USER_MALLOC_SETTINGS, device.KEEP_FREED_MEMORY_ENV_VAR):
        monkeypatch.delenv(name, raising=False)


@linux_only
def test_keep_freed_memory_applies_on_linux_and_respects_opt_outs(monkeypatch):
    _clean_allocator_env(monkeypatch)
    assert device.keep_freed_memory() is True
    for value in ("0", "off", "não"):
        monkeypatch.setenv(device.KEEP_FREED_MEMORY_ENV_VAR, value)
        assert device.keep_freed_memory() is False
    _clean_allocator_env(monkeypatch)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1048576")  # quem já ajustou o alocador decide
    assert device.keep_freed_memory() is False


def test_keep_freed_memory_does_nothing_outside_linux(monkeypatch):
    _clean_allocator_env(monkeypatch)
    monkeypatch.setattr(device.sys, "platform", "darwin")
    assert device.keep_freed_memory() is False


def _training_page_faults(keep: str) -> int:
    env = {name: value for name, value in os.environ.items() if name not in device.USER_MALLOC_SETTINGS}
    env[device.KEEP_FREED_MEMORY_ENV_VAR] = keep
    result = subprocess.run([sys.executable, "-c", TRAINING_STEPS], env=env, capture_output=True, text=True,
                            check=True, timeout=120)
    return int(result.stdout.strip().splitlines()[-1])


@linux_only
def test_training_steps_reuse_freed_memory():
    """Com o ajuste (o padrão ao importar o pacote), os passos reusam a memória: bem menos páginas novas."""
    kept, default = _training_page_faults("1"), _training_page_faults("0")
    assert kept < default / 2, f"faltas de página com o ajuste: {kept}; sem: {default}"
