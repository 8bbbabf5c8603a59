"""As três formas de adaptar o GPT-2 à classificação, e de onde tirar a previsão.

- Abordagem 1: o modelo fica todo congelado e só fornece *features* (ver `features.py`).
- Abordagem 2 (`prepare_head_only`): trocamos `out_head` por uma camada de 2 saídas e
  treinamos só ela.
- Abordagem 3 (`prepare_last_block`): treinamos também o último bloco transformer e a
  LayerNorm final.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .dataset import last_real_token_index
from .tokenizer import PAD_TOKEN_ID

__all__ = [
    "NUM_CLASSES",
    "ParameterCount",
    "add_classification_head",
    "freeze_all",
    "prepare_head_only",
    "prepare_last_block",
    "count_parameters",
    "classification_logits",
]

NUM_CLASSES = 2  # 0 = não spam, 1 = spam
TOKEN_POSITIONS = ("last_real", "last")


class ParameterCount(NamedTuple):
    trainable: int
    total: int

    @property
    def fraction(self) -> float:
        """Fração dos parâmetros que será treinada."""
        return self.trainable / self.total


def add_classification_head(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Troca a saída de vocabulário (50.257 logits) por uma de `num_classes` logits."""
    torch.manual_seed(seed)
    emb_dim = model.final_norm.normalized_shape[0]
    device = model.final_norm.weight.device
    model.out_head = nn.Linear(emb_dim, num_classes).to(device)  # nasce treinável
    return model


def freeze_all(model):
    """Congela todos os parâmetros: nenhum recebe gradiente."""
    for param in model.parameters():
        param.requires_grad = False
    return model


def prepare_head_only(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Abordagem 2: modelo congelado + cabeça de classificação nova (treinável)."""
    freeze_all(model)
    return add_classification_head(model, num_classes, seed)


def prepare_last_block(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Abordagem 3: como a 2, mais o último bloco transformer e a LayerNorm final."""
    prepare_head_only(model, num_classes, seed)
    for module in (model.trf_blocks[-1], model.final_norm):
        for param in module.parameters():
            param.requires_grad = True
    return model


def count_parameters(model) -> ParameterCount:
    """Conta parâmetros treináveis e totais (pesos compartilhados contam uma vez)."""
    params = list(model.parameters())  # `parameters()` já ignora repetições
    return ParameterCount(
        trainable=sum(p.numel() for p in params if p.requires_grad),
        total=sum(p.numel() for p in params),
    )


def _lengths_of(input_batch, pad_token_id: int) -> torch.Tensor:
    lengths = getattr(input_batch, "lengths", None)  # lotes de saídas pré-calculadas
    if lengths is not None:
        return lengths
    return last_real_token_index(input_batch, pad_token_id) + 1


def classification_logits(model, input_batch, token_position: str = "last_real",
                          pad_token_id: int = PAD_TOKEN_ID) -> torch.Tensor:
    """Logits (lote, classes) lidos numa única posição de cada texto.

    Por causa da máscara causal, só o último token "viu" o texto inteiro.
    - `"last_real"` (padrão): o último token REAL de cada texto;
    - `"last"`: a última posição do tensor, como na aula. Com padding à direita essa
      posição é um `<|endoftext|>` de preenchimento, e a previsão passa a depender de
      quanto padding o texto recebeu.
    """
    if token_position not in TOKEN_POSITIONS:
        raise ValueError(f"token_position deve ser um de {TOKEN_POSITIONS}.")
    logits = model(input_batch)
    if logits.dim() == 2:  # o modelo já devolve uma linha por texto (TrainableTail)
        if token_position != "last_real":
            raise ValueError("Saídas pré-calculadas só guardam tokens reais: use token_position='last_real'.")
        return logits
    if token_position == "last":
        return logits[:, -1, :]
    positions = _lengths_of(input_batch, pad_token_id).to(logits.device) - 1
    return logits[torch.arange(logits.shape[0], device=logits.device), positions]
