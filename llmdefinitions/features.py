"""Trabalho congelado feito uma vez só.

Parâmetros congelados não mudam durante o treino: a saída da parte congelada do modelo
para um mesmo texto é sempre a mesma. Em vez de recalculá-la a cada passo e a cada época,
calculamos uma vez e guardamos:

- Abordagem 1: um vetor por texto (`extract_features`) para um classificador do scikit-learn.
- Abordagens 2 e 3: as saídas da parte congelada (`precompute_frozen_outputs`); o treino roda
  só a parte treinável (`classifier.TrainableTail`) sobre elas. A função calculada é exatamente a mesma
  do modelo completo: só muda o que é refeito a cada passo.

Uma só passada congelada serve às três abordagens: as saídas guardadas para a abordagem 3
(tudo menos o último bloco) avançam pelo último bloco, ainda congelado, para virar as da
abordagem 2 (`advance_frozen_outputs`) ou os vetores da abordagem 1 (`features_from_frozen`).
Use essas duas funções ANTES de treinar o último bloco.
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader

from .dataset import SpamDataset

__all__ = [
    "HiddenBatch", "FrozenOutputs", "extract_features", "precompute_frozen_outputs", "frozen_outputs_loader",
    "advance_frozen_outputs", "store_outputs", "features_from_frozen", "eval_mode", "token_view", "FrozenKey",
    "FrozenCache", "as_spam_dataset", "same_length_groups", "token_batches",
]

FEATURE_POSITIONS = ("last_real", "mean")  # as posições de `TOKEN_POSITIONS` que viram um vetor por texto


def as_spam_dataset(data, tokenizer=None) -> SpamDataset:
    """Um `SpamDataset` sem *padding*: `data` já pronto, ou uma tabela (`Text`, `Label`) mais o tokenizador.

    Ensinado no Notebook 3, §3.2.
    """
    if isinstance(data, SpamDataset):
        return data
    if tokenizer is None:
        raise ValueError("Passe um SpamDataset, ou um DataFrame junto com o tokenizer.")
    return SpamDataset(data, tokenizer, pad=False)


def same_length_groups(keys: list, lengths: list[int], batch_size: int):
    """Lotes de textos do MESMO tamanho: nenhum lote precisa de *padding*.

    Textos com a mesma chave (`keys`; ex.: os mesmos ids, pois o SMS tem mensagens
    repetidas) entram uma vez só: cada item do lote é a lista dos índices das cópias.
    Ensinado no Notebook 3, §3.2.
    """
    copies: dict = {}
    for index, key in enumerate(keys):
        copies.setdefault(key, []).append(index)
    by_length: dict[int, list] = {}
    for indices in copies.values():
        by_length.setdefault(lengths[indices[0]], []).append(indices)
    for length in sorted(by_length):
        group = by_length[length]
        for start in range(0, len(group), batch_size):
            yield group[start : start + batch_size]


def token_batches(dataset: SpamDataset, batch_size: int):
    """Lotes de ids sem *padding*: `(cópias, ids (lote, tokens))`, um texto distinto por linha.

    `cópias[i]` são os índices, no conjunto de dados, dos textos iguais ao da linha i. Notebook 3, §3.2.
    """
    texts = dataset.encoded_texts
    keys = [tuple(ids) for ids in texts]
    for copies in same_length_groups(keys, [len(ids) for ids in texts], batch_size):
        yield copies, torch.tensor([texts[indices[0]] for indices in copies])


def _hidden_batches(frozen: "FrozenOutputs", batch_size: int):
    """Lotes de saídas guardadas sem *padding*: `(cópias, vetores (lote, tokens, dim))`.
    Textos repetidos guardam o MESMO tensor: a chave é a identidade dele (`id`), e eles passam uma vez só."""
    keys = [id(h) for h in frozen.hidden]
    lengths = [h.shape[0] for h in frozen.hidden]
    for copies in same_length_groups(keys, lengths, batch_size):
        yield copies, torch.stack([frozen.hidden[indices[0]] for indices in copies])


@contextmanager
def eval_mode(model):
    """`with eval_mode(model):` põe o modelo em modo de avaliação (sem *dropout*) e, no fim,
    devolve o modo anterior (treino ou avaliação).

    Ensinado no Notebook 3, §3.2.
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@dataclass
class HiddenBatch:
    """Lote de saídas pré-calculadas: `hidden` (lote, tokens, dim) e `lengths` (tokens reais).

    Ensinado no Notebook 4, §4.3.
    """

    hidden: torch.Tensor
    lengths: torch.Tensor

    def to(self, device) -> "HiddenBatch":
        return HiddenBatch(self.hidden.to(device, non_blocking=True), self.lengths.to(device))

    def __len__(self) -> int:
        return self.hidden.shape[0]


@dataclass
class FrozenOutputs:
    """Saídas da parte congelada, uma por texto (só tokens reais), e os rótulos. Ensinado no Notebook 4, §4.3."""

    hidden: list[torch.Tensor]
    labels: list[int]
    n_trainable_blocks: int

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.hidden[index], torch.tensor(self.labels[index])

    def nbytes(self) -> int:
        """Memória ocupada pelas saídas guardadas (um texto repetido guarda um só tensor)."""
        distinct = {id(h): h for h in self.hidden}.values()
        return sum(h.numel() * h.element_size() for h in distinct)


def _pad_hidden(batch) -> tuple[HiddenBatch, torch.Tensor]:
    """Completa com zeros até o maior texto do lote. Os zeros ficam depois dos tokens
    reais, e a atenção causal impede que eles influenciem os tokens reais."""
    hiddens, labels = zip(*batch)
    lengths = torch.tensor([h.shape[0] for h in hiddens])
    padded = torch.zeros(len(hiddens), int(lengths.max()), hiddens[0].shape[1])
    for row, h in enumerate(hiddens):
        padded[row, : h.shape[0]] = h
    return HiddenBatch(padded, lengths), torch.stack(labels)


@torch.inference_mode()
def extract_features(model, data, device, tokenizer=None, token_position: str = "last_real", batch_size: int = 32):
    """Um vetor por texto, tirado do modelo congelado (saída de `final_norm`).

    `token_position="last_real"`: o vetor do último token real (o único que viu o texto todo);
    `token_position="mean"`: a média dos vetores de todos os tokens reais.
    Devolve `(X, y)` em NumPy, na ordem original do dataset.

    Ensinado no Notebook 3, §3.2.
    """
    if token_position not in FEATURE_POSITIONS:
        raise ValueError(f"token_position deve ser um de {FEATURE_POSITIONS}.")
    dataset = as_spam_dataset(data, tokenizer)
    features = np.zeros((len(dataset), model.final_norm.normalized_shape[0]), dtype=np.float32)
    with eval_mode(model):
        for copies, ids in token_batches(dataset, batch_size):
            hidden = model.hidden_states(ids.to(device))  # (lote, tokens, dim): sem padding, todo token é real
            pooled = hidden[:, -1] if token_position == "last_real" else hidden.mean(dim=1)
            for row, indices in zip(pooled.float().cpu().numpy(), copies):
                features[indices] = row  # a mesma linha em cada cópia de um texto repetido
    return features, np.asarray(dataset.labels, dtype=np.int64)


@torch.inference_mode()
def precompute_frozen_outputs(model, data, device, n_trainable_blocks: int = 1,
                              batch_size: int = 32, tokenizer=None) -> FrozenOutputs:
    """Passa cada texto distinto UMA vez pela parte congelada (em lotes sem *padding*):
    embeddings + blocos, menos os `n_trainable_blocks` últimos. Com `n_trainable_blocks=0`
    (só a cabeça treina) basta guardar o vetor do último token; senão, guardamos todos os
    tokens, que o bloco treinável precisa para a atenção.

    Ensinado no Notebook 4, §4.3.
    """
    n_blocks = len(model.trf_blocks)
    if not 0 <= n_trainable_blocks <= n_blocks:
        raise ValueError(f"n_trainable_blocks deve estar entre 0 e {n_blocks}.")
    dataset = as_spam_dataset(data, tokenizer)
    frozen_blocks = model.trf_blocks[: n_blocks - n_trainable_blocks]
    with eval_mode(model):
        run = lambda ids: frozen_blocks(model.embed(ids.to(device)))  # noqa: E731 (um passo só, nomeado)
        hidden = store_outputs(token_batches(dataset, batch_size), run, len(dataset),
                               last_token_only=n_trainable_blocks == 0)
    return FrozenOutputs(hidden, list(dataset.labels), n_trainable_blocks)


def store_outputs(batches, run, n_texts: int, last_token_only: bool) -> list:
    """Roda `run` em cada lote de `(cópias, tensor)` e guarda a saída de cada texto no seu lugar.

    `cópias` diz em que posições do conjunto cada linha do lote entra (um texto repetido é
    calculado uma vez e as cópias compartilham o tensor). Com `last_token_only`, só o último
    token é guardado, copiado, para não prender o lote inteiro na memória.

    Ensinado no Notebook 4, §4.3.
    """
    hidden: list = [None] * n_texts
    for copies, x in batches:
        out = run(x).float().cpu()
        if last_token_only:
            out = out[:, -1:].clone()
        for row, indices in zip(out.unbind(0), copies):
            for index in indices:
                hidden[index] = row
    return hidden


def _blocks_between(model, frozen: FrozenOutputs, n_trainable_blocks: int):
    """Os blocos entre o fim da parte já guardada e o início da nova parte treinável."""
    n_blocks = len(model.trf_blocks)
    if frozen.n_trainable_blocks > n_blocks:
        raise ValueError(f"As saídas deixam {frozen.n_trainable_blocks} blocos de fora, mas o modelo tem {n_blocks}.")
    if not 0 <= n_trainable_blocks <= frozen.n_trainable_blocks:
        raise ValueError(
            f"As saídas guardadas deixam {frozen.n_trainable_blocks} bloco(s) de fora; só é possível "
            f"avançar para entre 0 e {frozen.n_trainable_blocks} blocos treináveis, não {n_trainable_blocks}."
        )
    return model.trf_blocks[n_blocks - frozen.n_trainable_blocks : n_blocks - n_trainable_blocks]


@torch.inference_mode()
def advance_frozen_outputs(model, frozen: FrozenOutputs, device, n_trainable_blocks: int = 0,
                           batch_size: int = 32) -> FrozenOutputs:
    """Passa as saídas guardadas pelos blocos que deixam de ser treináveis: o mesmo que
    `precompute_frozen_outputs(model, data, device, n_trainable_blocks)` daria, sem refazer
    os blocos já calculados (ex.: das saídas da abordagem 3 para as da abordagem 2).

    Ensinado no Notebook 6, §6.1.
    """
    blocks = _blocks_between(model, frozen, n_trainable_blocks)
    if len(blocks) == 0:
        return frozen
    with eval_mode(model):
        hidden = store_outputs(_hidden_batches(frozen, batch_size), lambda x: blocks(x.to(device)), len(frozen),
                               last_token_only=n_trainable_blocks == 0)
    return FrozenOutputs(hidden, list(frozen.labels), n_trainable_blocks)


@torch.inference_mode()
def features_from_frozen(model, frozen: FrozenOutputs, device, token_position: str = "last_real",
                         batch_size: int = 32):
    """Os vetores da abordagem 1 a partir de saídas guardadas: os blocos que faltam, depois
    `final_norm`. Devolve `(X, y)` iguais aos de `extract_features`.

    Ensinado no Notebook 6, §6.1.
    """
    if token_position not in FEATURE_POSITIONS:
        raise ValueError(f"token_position deve ser um de {FEATURE_POSITIONS}.")
    if token_position == "mean" and frozen.n_trainable_blocks == 0:
        raise ValueError(
            'Com n_trainable_blocks=0 só o último token de cada texto foi guardado: token_position="mean" '
            "precisa de saídas com todos os tokens (n_trainable_blocks >= 1)."
        )
    blocks = _blocks_between(model, frozen, 0)
    features = np.zeros((len(frozen), model.final_norm.normalized_shape[0]), dtype=np.float32)
    with eval_mode(model):
        for copies, x in _hidden_batches(frozen, batch_size):
            hidden = model.final_norm(blocks(x.to(device)))  # (lote, tokens, dim): todo token é real
            pooled = hidden[:, -1] if token_position == "last_real" else hidden.mean(dim=1)
            for row, indices in zip(pooled.float().cpu().numpy(), copies):
                features[indices] = row
    return features, np.asarray(frozen.labels, dtype=np.int64)


def frozen_outputs_loader(frozen: FrozenOutputs, batch_size: int = 8, shuffle: bool = False,
                          drop_last: bool = False, seed: int = 123, pin_memory: bool = False) -> DataLoader:
    """`DataLoader` de lotes `(HiddenBatch, rótulos)`. Com a mesma semente e o mesmo tamanho,
    embaralha na mesma ordem que `create_dataloaders`.

    Ensinado no Notebook 4, §4.3.
    """
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(frozen, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator, collate_fn=_pad_hidden, pin_memory=pin_memory)


# --------------------------------------------------------------------------- várias linhas, uma passada

def token_view(dataset: SpamDataset, view: tuple) -> SpamDataset:
    """Os tokens que a parte congelada precisa ver para cada forma de ler o texto.

    - `("real", T)`: os tokens reais, truncados em T;
    - `("first",)`: só o primeiro token (com a máscara causal, nada depois dele o afeta);
    - `("padded", L)`: truncados e completados até L com `<|endoftext|>`, que aqui contam como
      tokens do texto: a "última posição" passa a ser a posição L.

    Devolve uma cópia rasa do conjunto de dados com esses ids (os rótulos são os mesmos).

    Ensinado no Notebook 7, §7.1.
    """
    texts, pad = dataset.encoded_texts, [dataset.pad_token_id]
    if view[0] == "first":
        encoded = [ids[:1] for ids in texts]
    elif view[0] == "real":
        encoded = [ids[: view[1]] for ids in texts]
    else:
        encoded = [ids[: view[1]] + pad * (view[1] - len(ids[: view[1]])) for ids in texts]
    copied = copy.copy(dataset)
    copied.encoded_texts, copied.pad = encoded, False
    copied.max_length = max(len(ids) for ids in encoded)
    return copied


class FrozenKey(NamedTuple):
    """O que identifica uma entrada do `FrozenCache`.

    - `model`: qual modelo de partida (ex.: `("gpt2-small (124M)", "pré-treinado")`);
    - `view`: quais tokens a parte congelada viu (ver `token_view`);
    - `n_unfrozen`: quantos blocos do fim ficaram de fora da passada;
    - `derived`: vazio numa passada; o nome do cálculo feito sobre ela (`FrozenCache.derived`).

    Ensinado no Notebook 7, §7.1.
    """

    model: tuple
    view: tuple
    n_unfrozen: int
    derived: str = ""


class FrozenCache:
    """Saídas congeladas guardadas por `FrozenKey` (modelo, tokens vistos, blocos de fora).

    `get` devolve as saídas de uma configuração; se já há saídas do mesmo modelo e dos
    mesmos tokens com MAIS blocos de fora, avança a partir delas (barato) em vez de refazer
    a passada. Contadores: `frozen_passes` (passadas completas pela parte congelada),
    `advances` (avanços a partir de uma passada guardada) e `seconds` (tempo gasto nas duas).

    Ensinado no Notebook 7, §7.1.
    """

    def __init__(self, batch_size: int = 32):
        self._store: dict[FrozenKey, dict[str, FrozenOutputs]] = {}
        self.batch_size = batch_size
        self.frozen_passes = 0
        self.advances = 0
        self.seconds = 0.0

    def __contains__(self, key) -> bool:
        return key in self._store

    def keys(self) -> list[FrozenKey]:
        return list(self._store)

    def drop(self, predicate) -> None:
        """Esquece as entradas cuja chave satisfaz `predicate` (libera memória)."""
        for key in [k for k in self._store if predicate(k)]:
            del self._store[key]

    def get(self, key: FrozenKey, model, datasets: dict, device) -> dict[str, FrozenOutputs]:
        """As saídas de `key` para cada conjunto de `datasets`, calculadas uma vez e depois guardadas.

        Se há uma passada do mesmo modelo e dos mesmos tokens com MAIS blocos de fora, avança a
        mais curta delas até `key.n_unfrozen` (barato); senão, faz a passada inteira.
        """
        def compute():
            longer = [k for k in self._store if not k.derived and k.model == key.model and k.view == key.view
                      and k.n_unfrozen > key.n_unfrozen]
            if longer:
                self.advances += 1
                source = self._store[min(longer, key=lambda k: k.n_unfrozen)]
                return {name: advance_frozen_outputs(model, frozen, device, n_trainable_blocks=key.n_unfrozen,
                                                     batch_size=self.batch_size)
                        for name, frozen in source.items()}
            self.frozen_passes += 1
            return {name: precompute_frozen_outputs(model, token_view(ds, key.view), device,
                                                    n_trainable_blocks=key.n_unfrozen, batch_size=self.batch_size)
                    for name, ds in datasets.items()}

        return self.derived(key, compute)

    def derived(self, key: FrozenKey, compute) -> dict[str, FrozenOutputs]:
        """A entrada `key`; se ainda não existe, `compute()` a calcula (e o tempo entra em `seconds`)."""
        if key not in self._store:
            start = time.perf_counter()
            self._store[key] = compute()
            self.seconds += time.perf_counter() - start
        return self._store[key]
