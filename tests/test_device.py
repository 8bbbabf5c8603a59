"""Testes de llmdefinitions.device: a escolha do dispositivo (GPU, MPS ou CPU) e a variável que a força."""

from __future__ import annotations

import torch


def test_device_choice(monkeypatch):
    from llmdefinitions import get_device

    monkeypatch.delenv("LLMDEFINITIONS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = get_device()
    assert device.type in ("cuda", "mps", "cpu")
    if expected:
        assert device.type == expected
    monkeypatch.setenv("LLMDEFINITIONS_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("meta") == torch.device("meta")
