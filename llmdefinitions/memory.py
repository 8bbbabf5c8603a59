"""Quanta memória o fine-tuning pede: pesos + gradientes + estados do otimizador.

Na inferência basta guardar os pesos. No treino, cada parâmetro treinável também tem um
gradiente e, no AdamW, dois estados (médias móveis do gradiente e do seu quadrado).
Em FP32 (4 bytes) isso dá 4 + 4 + 2 x 4 = 16 bytes por parâmetro: o LLaMA-2 7B pede
7e9 x 16 = 112 GB, sem contar as ativações (que dependem do lote e do tamanho dos textos).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPTIMIZER_STATES", "MemoryEstimate", "estimate_finetune_memory"]

# Quantos números o otimizador guarda por parâmetro treinável.
OPTIMIZER_STATES = {"adamw": 2, "adam": 2, "sgd_momentum": 1, "sgd": 0}


@dataclass(frozen=True)
class MemoryEstimate:
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
    return MemoryEstimate(
        num_params=int(num_params),
        trainable_params=int(trainable),
        weights_bytes=_bytes(num_params, weight_bits),
        gradients_bytes=_bytes(trainable, grad_bits),
        optimizer_bytes=_bytes(trainable * OPTIMIZER_STATES[optimizer], state_bits),
    )
