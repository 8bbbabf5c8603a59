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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPTIMIZER_STATES", "MemoryEstimate", "estimate_finetune_memory", "estimate_lora_memory"]

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


def estimate_lora_memory(num_params, lora_params, weight_bits: int = 16, optimizer: str = "adamw",
                         adapter_bits: int = 32) -> MemoryEstimate:
    """Estima os bytes para treinar adaptadores LoRA sobre um modelo-base congelado.

    `num_params`: parâmetros do modelo-base, guardados em `weight_bits` (16 ou, no QLoRA, 4)
    e sem gradiente. `lora_params`: parâmetros dos adaptadores (veja
    `lora.count_lora_parameters`), que têm pesos, gradientes e estados do otimizador em
    `adapter_bits`. No resultado, `num_params` é a soma dos dois e `trainable_params` são
    só os adaptadores. Para um modelo já com `apply_lora`: `lora = count_lora_parameters(model)`
    e `num_params = count_parameters(model).total - lora`.
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
