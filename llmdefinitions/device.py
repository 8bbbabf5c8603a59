"""Escolha do dispositivo de cálculo: GPU NVIDIA (CUDA), GPU Apple (MPS) ou CPU."""

from __future__ import annotations

import os

import torch

__all__ = ["get_device"]

# Antes desta versão o backend MPS ainda não implementava todas as operações que usamos.
_MIN_TORCH_FOR_MPS = (2, 4)


def get_device(preferred: str | None = None) -> torch.device:
    """Devolve o melhor dispositivo disponível: CUDA, depois MPS (torch recente), depois CPU.

    `preferred` (ou a variável de ambiente `LLMDEFINITIONS_DEVICE`) força uma escolha,
    por exemplo `"cpu"` para comparar tempos.

    Ensinado no Notebook 2, §2.2.
    """
    preferred = preferred or os.environ.get("LLMDEFINITIONS_DEVICE")
    if preferred:
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        major, minor = torch.__version__.split(".")[:2]  # ex.: "2.13.0+cpu" -> (2, 13)
        if (int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)) >= _MIN_TORCH_FOR_MPS:
            return torch.device("mps")
    return torch.device("cpu")
