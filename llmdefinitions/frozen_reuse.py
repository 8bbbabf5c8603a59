"""Reaproveitar uma única passada congelada nas três abordagens.

`precompute_frozen_outputs(model, data, device, n_trainable_blocks=1)` guarda a saída dos
blocos congelados da abordagem 3 (todos menos o último). As abordagens 1 e 2 congelam ainda
mais: também o último bloco. O que elas precisam, portanto, sai dessas mesmas saídas
guardadas, passando-as uma vez pelo último bloco (congelado) — cerca de 1/12 do custo de uma
passada completa pelo GPT-2 small, em vez de uma passada inteira para cada abordagem:

- `advance_frozen_outputs`: saídas para menos blocos treináveis (ex.: de 1 para 0, abordagem 2);
- `features_from_frozen`: os vetores da abordagem 1 (saída de `final_norm` no último token
  real, ou a média dos tokens reais), idênticos aos de `extract_features`.

O último bloco está congelado nas abordagens 1 e 2, então passá-lo agora ou durante o treino
dá o mesmo resultado. Use as funções ANTES de treinar o último bloco (abordagem 3): depois do
treino ele já não é o bloco pré-treinado.
"""

from __future__ import annotations

import numpy as np
import torch

from .features import FrozenOutputs

__all__ = ["advance_frozen_outputs", "features_from_frozen"]

POOLINGS = ("last", "mean")


def _length_sorted_batches(frozen: FrozenOutputs, batch_size: int):
    """Lotes de saídas de tamanho parecido, completadas com zeros à direita.

    Os zeros vêm depois dos tokens reais; com atenção causal eles não alteram os tokens reais.
    Devolve `(índices, tensor (lote, tokens, dim), comprimentos)`.
    """
    order = sorted(range(len(frozen)), key=lambda i: frozen.hidden[i].shape[0])
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        hiddens = [frozen.hidden[i] for i in indices]
        lengths = [h.shape[0] for h in hiddens]
        padded = torch.zeros(len(hiddens), max(lengths), hiddens[0].shape[1], dtype=hiddens[0].dtype)
        for row, h in enumerate(hiddens):
            padded[row, : h.shape[0]] = h
        yield indices, padded, lengths


def _remaining_blocks(model, frozen: FrozenOutputs, n_trainable_blocks: int):
    """Os blocos entre o fim da parte já guardada e o início da parte treinável."""
    n_blocks = len(model.trf_blocks)
    if not 0 <= n_trainable_blocks <= frozen.n_trainable_blocks:
        raise ValueError(
            f"As saídas guardadas deixam {frozen.n_trainable_blocks} bloco(s) de fora; só é possível "
            f"avançar para entre 0 e {frozen.n_trainable_blocks} blocos treináveis, não {n_trainable_blocks}."
        )
    if frozen.n_trainable_blocks > n_blocks:
        raise ValueError(f"As saídas deixam {frozen.n_trainable_blocks} blocos de fora, mas o modelo tem {n_blocks}.")
    return model.trf_blocks[n_blocks - frozen.n_trainable_blocks : n_blocks - n_trainable_blocks]


class _EvalMode:
    def __init__(self, model):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


@torch.inference_mode()
def advance_frozen_outputs(model, frozen: FrozenOutputs, device, n_trainable_blocks: int = 0,
                           batch_size: int = 32) -> FrozenOutputs:
    """Passa as saídas guardadas pelos blocos que deixam de ser treináveis.

    O resultado é o mesmo que `precompute_frozen_outputs(model, data, device, n_trainable_blocks)`
    daria, sem repetir os blocos já calculados. Com `n_trainable_blocks=0` guarda só o vetor do
    último token real de cada texto, como `precompute_frozen_outputs`.
    """
    blocks = _remaining_blocks(model, frozen, n_trainable_blocks)
    if len(blocks) == 0:
        return frozen
    hidden: list[torch.Tensor | None] = [None] * len(frozen)
    with _EvalMode(model):
        for indices, x, lengths in _length_sorted_batches(frozen, batch_size):
            out = blocks(x.to(device)).float().cpu()
            for row, (index, length) in enumerate(zip(indices, lengths)):
                start = length - 1 if n_trainable_blocks == 0 else 0
                hidden[index] = out[row, start:length].clone()
    return FrozenOutputs(hidden, list(frozen.labels), n_trainable_blocks)


@torch.inference_mode()
def features_from_frozen(model, frozen: FrozenOutputs, device, pooling: str = "last",
                         batch_size: int = 32):
    """Os vetores da abordagem 1 a partir de saídas guardadas: `(X, y)` em NumPy.

    Igual a `extract_features(model, data, device, pooling=pooling)`: os blocos que faltam,
    depois `final_norm`, e o último token real (`"last"`) ou a média dos tokens reais (`"mean"`).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling deve ser um de {POOLINGS}.")
    if pooling == "mean" and frozen.n_trainable_blocks == 0:
        raise ValueError(
            'Com n_trainable_blocks=0 só o último token de cada texto foi guardado: pooling="mean" '
            "precisa de saídas com todos os tokens (n_trainable_blocks >= 1)."
        )
    blocks = _remaining_blocks(model, frozen, 0)
    features = np.zeros((len(frozen), model.final_norm.normalized_shape[0]), dtype=np.float32)
    with _EvalMode(model):
        for indices, x, lengths in _length_sorted_batches(frozen, batch_size):
            hidden = model.final_norm(blocks(x.to(device))).float().cpu()
            for row, (index, length) in enumerate(zip(indices, lengths)):
                real = hidden[row, :length]
                features[index] = (real[-1] if pooling == "last" else real.mean(dim=0)).numpy()
    return features, np.asarray(frozen.labels, dtype=np.int64)
