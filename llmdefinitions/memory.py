"""Quanta memória o fine-tuning pede: pesos + gradientes + estados do otimizador.

Na inferência basta guardar os pesos. No treino, cada parâmetro treinável também tem um
gradiente e, no AdamW, dois estados (médias móveis do gradiente e do seu quadrado).
Em FP32 (4 bytes) isso dá 4 + 4 + 2 x 4 = 16 bytes por parâmetro: o LLaMA-2 7B pede
7e9 x 16 = 112 GB, sem contar as ativações (que dependem do lote e do tamanho dos textos).

Com LoRA (`estimate_lora_memory`), os pesos do modelo-base só são guardados (até em 16 ou
4 bits); gradientes e estados do otimizador existem apenas para os adaptadores. No LLaMA-2
7B (32 camadas, largura 4.096), LoRA de posto 8 nas projeções de consulta e de valor soma
32 x 2 x 8 x (4.096 + 4.096) = 4.194.304 parâmetros treináveis: com a base em 16 bits, o
total cai de 112 GB para uns 14,07 GB (ainda sem as ativações).

Estimar não é medir: `PeakMemory` mede a memória extra que um trecho de código usou de fato
(o laboratório do notebook 7 a usa em cada linha), e `peak_rss_mb` dá o pico de memória
residente do processo inteiro (os benchmarks de `benchmarks/` medem assim, e só assim).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

import torch

__all__ = [
    "OPTIMIZER_STATES", "MemoryEstimate", "estimate_finetune_memory", "estimate_lora_memory",
    "PeakMemory", "peak_rss_mb",
]

# Quantos números o otimizador guarda por parâmetro treinável.
OPTIMIZER_STATES = {"adamw": 2, "adam": 2, "sgd_momentum": 1, "sgd": 0}


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes de pesos, gradientes e estados do otimizador de um ajuste. Ensinado no Notebook 6, §6.3."""

    num_params: int
    trainable_params: int
    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes

    def gb(self, field: str = "total") -> float:
        """Um dos campos (`"total"`, `"weights"`, `"gradients"`, `"optimizer"`) em GB (10^9 bytes)."""
        return getattr(self, f"{field}_bytes") / 1e9


def _bytes(count: float, bits: int) -> int:
    return int(round(count * bits / 8))


def estimate_finetune_memory(num_params, weight_bits: int = 32, optimizer: str = "adamw",
                             trainable_params=None, grad_bits=None, optimizer_state_bits=None) -> MemoryEstimate:
    """Estima os bytes para ajustar um modelo de `num_params` parâmetros.

    `weight_bits`: precisão dos pesos (32, 16, 8 ou 4). `trainable_params`: quantos são
    treinados (padrão: todos). Gradientes e estados do otimizador usam `weight_bits`,
    a menos que `grad_bits` / `optimizer_state_bits` digam outra coisa.
    Ensinado no Notebook 6, §6.3.
    """
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"Otimizador desconhecido: {optimizer!r}. Opções: {', '.join(OPTIMIZER_STATES)}.")
    if num_params <= 0 or weight_bits <= 0:
        raise ValueError("num_params e weight_bits devem ser positivos.")
    trainable = num_params if trainable_params is None else trainable_params
    if not 0 <= trainable <= num_params:
        raise ValueError("trainable_params deve estar entre 0 e num_params.")
    grad_bits = weight_bits if grad_bits is None else grad_bits
    state_bits = weight_bits if optimizer_state_bits is None else optimizer_state_bits
    return MemoryEstimate(  # número de valores x bits de cada um / 8 = bytes
        num_params=int(num_params),
        trainable_params=int(trainable),
        weights_bytes=int(round(num_params * weight_bits / 8)),
        gradients_bytes=int(round(trainable * grad_bits / 8)),
        optimizer_bytes=int(round(trainable * OPTIMIZER_STATES[optimizer] * state_bits / 8)),
    )


def estimate_lora_memory(num_params, lora_params, weight_bits: int = 16, optimizer: str = "adamw",
                         adapter_bits: int = 32) -> MemoryEstimate:
    """Estima os bytes para treinar adaptadores LoRA sobre um modelo-base congelado.

    `num_params`: parâmetros do modelo-base, guardados em `weight_bits` (16 ou, no QLoRA, 4)
    e sem gradiente. `lora_params`: parâmetros dos adaptadores (veja
    `lora.count_lora_parameters`), que têm pesos, gradientes e estados do otimizador em
    `adapter_bits`. No resultado, `num_params` é a soma dos dois e `trainable_params` são
    só os adaptadores. Para um modelo já com `apply_lora`: `lora = count_lora_parameters(model)`
    e `num_params = count_parameters(model).total - lora`. Ensinado no Notebook 6, §6.3
    e no Notebook 7, §7.3.
    """
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"Otimizador desconhecido: {optimizer!r}. Opções: {', '.join(OPTIMIZER_STATES)}.")
    if num_params <= 0 or weight_bits <= 0 or adapter_bits <= 0:
        raise ValueError("num_params, weight_bits e adapter_bits devem ser positivos.")
    if not 0 < lora_params <= num_params:
        raise ValueError(
            f"lora_params deve ser positivo e não maior que o modelo-base ({num_params}), mas é {lora_params}. "
            "Os adaptadores costumam ter bem menos de 1% dos parâmetros."
        )
    return MemoryEstimate(
        num_params=int(num_params + lora_params),
        trainable_params=int(lora_params),
        weights_bytes=_bytes(num_params, weight_bits) + _bytes(lora_params, adapter_bits),
        gradients_bytes=_bytes(lora_params, adapter_bits),
        optimizer_bytes=_bytes(lora_params * OPTIMIZER_STATES[optimizer], adapter_bits),
    )


class PeakMemory:
    """Memória extra usada durante o bloco `with`, em MiB (em `peak_mb`). Usada no Notebook 7, §7.1.

    Em CUDA: `torch.cuda.max_memory_allocated` (tensores na GPU). Na CPU: o pico da memória
    residente (RSS) do processo, amostrado a cada 20 ms por uma thread, menos o RSS do início.
    """

    def __init__(self, device):
        self.device = torch.device(device)
        self.peak_mb = 0.0

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            return self
        import psutil

        self._process = psutil.Process()
        self._start = self._peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, self._process.memory_info().rss)
        self.peak_mb = max(peak - self._start, 0) / 2**20


def peak_rss_mb() -> float:
    """Pico de memória residente (RSS) deste processo desde que ele começou, em MiB.

    É o número que os benchmarks gravam (o pico de 2 GB citado no Notebook 7, §7.2). Diferente
    de `PeakMemory`, não desconta o que já estava ocupado antes.
    """
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # macOS: bytes; Linux: KiB
