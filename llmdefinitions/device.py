"""Escolha do dispositivo de cálculo (GPU NVIDIA, GPU Apple ou CPU) e a memória do processo na CPU."""

from __future__ import annotations

import ctypes
import os
import sys

import torch

from .disk_cache import OFF_VALUES

__all__ = ["get_device"]  # keep_freed_memory: o pacote a chama ao ser importado (página Desempenho)

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


# Os parâmetros de `mallopt` da glibc (malloc.h) e os valores usados aqui.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 2**20  # o maior valor que a glibc aceita em 64 bits
TRIM_THRESHOLD_BYTES = 256 * 2**20
KEEP_FREED_MEMORY_ENV_VAR = "LLMDEFINITIONS_KEEP_FREED_MEMORY"
USER_MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Pede à glibc (Linux) que guarde, para reusar, a memória que o processo libera.

    Por padrão, um bloco grande liberado (como o gradiente de 9 MB de uma matriz do MLP) volta ao
    sistema operacional, e o passo de treino seguinte pede páginas novas, que o kernel entrega
    zeradas, uma "falta de página" a cada 4 KB: milhões delas num treino. Com blocos de até 32 MB
    servidos pelo próprio processo e até 256 MB livres guardados, o passo seguinte reusa a mesma
    memória. As contas não mudam, só o tempo (página Desempenho, item 7).

    O pacote chama esta função ao ser importado. Não faz nada (e devolve False) fora do Linux com
    glibc, se você já ajustou o alocador (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
    `GLIBC_TUNABLES`) ou com `LLMDEFINITIONS_KEEP_FREED_MEMORY=0` (ou `off`, `não`...: os mesmos valores que
    desligam o cache em disco).
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in USER_MALLOC_SETTINGS):
        return False
    if os.environ.get(KEEP_FREED_MEMORY_ENV_VAR, "").strip().lower() in OFF_VALUES:
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # musl e outras libc podem não ter
    if mallopt is None:
        return False
    blocks_from_heap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)  # 1 = aceito
    return bool(blocks_from_heap and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
