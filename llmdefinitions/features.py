"""Trabalho congelado feito uma vez só.

Parâmetros congelados não mudam durante o treino: a saída da parte congelada do modelo
para um mesmo texto é sempre a mesma. Em vez de recalculá-la a cada passo e a cada época,
calculamos uma vez e guardamos:

- Abordagem 1: um vetor por texto (`extract_features`) para um classificador do scikit-learn.
- Abordagens 2 e 3: as saídas da parte congelada (`precompute_frozen_outputs`); o treino roda
  só a parte treinável (`TrainableTail`) sobre elas. A função calculada é exatamente a mesma
  do modelo completo: só muda o que é refeito a cada passo.

Uma só passada congelada serve às três abordagens: as saídas guardadas para a abordagem 3
(tudo menos o último bloco) avançam pelo último bloco, ainda congelado, para virar as da
abordagem 2 (`advance_frozen_outputs`) ou os vetores da abordagem 1 (`features_from_frozen`).
Use essas duas funções ANTES de treinar o último bloco.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from .dataset import SpamDataset

__all__ = [
    "HiddenBatch",
    "FrozenOutputs",
    "TrainableTail",
    "extract_features",
    "precompute_frozen_outputs",
    "frozen_outputs_loader",
    "advance_frozen_outputs",
    "features_from_frozen",
]

POOLINGS = ("last", "mean")


def _as_dataset(data, tokenizer) -> SpamDataset:
    if isinstance(data, SpamDataset):
        return data
    if tokenizer is None:
        raise ValueError("Passe um SpamDataset, ou um DataFrame junto com o tokenizer.")
    return SpamDataset(data, tokenizer, pad=False)


def _same_length_groups(keys: list, lengths: list[int], batch_size: int):
    """Lotes de textos do MESMO tamanho: nenhum lote precisa de *padding*.

    Textos com a mesma chave (`keys`; ex.: os mesmos ids, pois o SMS tem mensagens
    repetidas) entram uma vez só: cada item do lote é a lista dos índices das cópias.
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


def _token_batches(dataset: SpamDataset, batch_size: int):
    """Lotes de ids sem *padding*: `(cópias, ids (lote, tokens))`, um texto distinto por linha."""
    texts = dataset.encoded_texts
    keys = [tuple(ids) for ids in texts]
    for copies in _same_length_groups(keys, [len(ids) for ids in texts], batch_size):
        yield copies, torch.tensor([texts[indices[0]] for indices in copies])


def _hidden_batches(frozen: "FrozenOutputs", batch_size: int):
    """Lotes de saídas guardadas sem *padding*: `(cópias, vetores (lote, tokens, dim))`.
    Textos repetidos guardam o mesmo tensor (`_store_rows`): passam uma vez só."""
    keys = [id(h) for h in frozen.hidden]
    lengths = [h.shape[0] for h in frozen.hidden]
    for copies in _same_length_groups(keys, lengths, batch_size):
        yield copies, torch.stack([frozen.hidden[indices[0]] for indices in copies])


def _pool(hidden: torch.Tensor, pooling: str) -> torch.Tensor:
    """Um vetor por texto, a partir dos vetores dos seus tokens (lote, tokens, dim): o do
    último token ou a média de todos. Os lotes não têm *padding*: todo token é real."""
    return hidden[:, -1] if pooling == "last" else hidden.mean(dim=1)


class _EvalMode:
    """Coloca o modelo em modo de avaliação e devolve o modo anterior no fim."""

    def __init__(self, model):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


@dataclass
class HiddenBatch:
    """Lote de saídas pré-calculadas: `hidden` (lote, tokens, dim) e `lengths` (tokens reais)."""

    hidden: torch.Tensor
    lengths: torch.Tensor

    def to(self, device) -> "HiddenBatch":
        return HiddenBatch(self.hidden.to(device, non_blocking=True), self.lengths.to(device))

    def __len__(self) -> int:
        return self.hidden.shape[0]


@dataclass
class FrozenOutputs:
    """Saídas da parte congelada, uma por texto (só tokens reais), e os rótulos."""

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
def extract_features(model, data, device, tokenizer=None, pooling: str = "last", batch_size: int = 32):
    """Um vetor por texto, tirado do modelo congelado (saída de `final_norm`).

    `pooling="last"`: o vetor do último token real (o único que viu o texto todo);
    `pooling="mean"`: a média dos vetores de todos os tokens reais.
    Devolve `(X, y)` em NumPy, na ordem original do dataset.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling deve ser um de {POOLINGS}.")
    dataset = _as_dataset(data, tokenizer)
    features = np.zeros((len(dataset), model.final_norm.normalized_shape[0]), dtype=np.float32)
    with _EvalMode(model):
        for copies, ids in _token_batches(dataset, batch_size):
            pooled = _pool(model.hidden_states(ids.to(device)), pooling).float().cpu().numpy()
            _store_rows(pooled, copies, features)
    return features, np.asarray(dataset.labels, dtype=np.int64)


def _store_rows(rows, copies, store) -> None:
    """Guarda a linha `i` do lote no lugar de cada cópia do i-ésimo texto (as cópias de um
    texto repetido compartilham o mesmo tensor: a memória não dobra)."""
    for row, indices in zip(rows, copies):
        for index in indices:
            store[index] = row


def _kept_tokens(out: torch.Tensor, last_only: bool) -> list[torch.Tensor]:
    """As saídas a guardar de cada texto: todos os tokens, ou só o último se `last_only`
    (copiado, para não prender na memória o lote inteiro)."""
    return list((out[:, -1:].clone() if last_only else out).unbind(0))


@torch.inference_mode()
def precompute_frozen_outputs(model, data, device, n_trainable_blocks: int = 1,
                              batch_size: int = 32, tokenizer=None) -> FrozenOutputs:
    """Passa cada texto distinto UMA vez pela parte congelada (em lotes sem *padding*):
    embeddings + blocos, menos os `n_trainable_blocks` últimos. Com `n_trainable_blocks=0`
    (só a cabeça treina) basta guardar o vetor do último token; senão, guardamos todos os
    tokens, que o bloco treinável precisa para a atenção."""
    n_blocks = len(model.trf_blocks)
    if not 0 <= n_trainable_blocks <= n_blocks:
        raise ValueError(f"n_trainable_blocks deve estar entre 0 e {n_blocks}.")
    dataset = _as_dataset(data, tokenizer)
    frozen_blocks = model.trf_blocks[: n_blocks - n_trainable_blocks]
    hidden: list = [None] * len(dataset)
    with _EvalMode(model):
        for copies, ids in _token_batches(dataset, batch_size):
            out = frozen_blocks(model.embed(ids.to(device))).float().cpu()
            _store_rows(_kept_tokens(out, last_only=n_trainable_blocks == 0), copies, hidden)
    return FrozenOutputs(hidden, list(dataset.labels), n_trainable_blocks)


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
    os blocos já calculados (ex.: das saídas da abordagem 3 para as da abordagem 2)."""
    blocks = _blocks_between(model, frozen, n_trainable_blocks)
    if len(blocks) == 0:
        return frozen
    hidden: list = [None] * len(frozen)
    with _EvalMode(model):
        for copies, x in _hidden_batches(frozen, batch_size):
            out = blocks(x.to(device)).float().cpu()
            _store_rows(_kept_tokens(out, last_only=n_trainable_blocks == 0), copies, hidden)
    return FrozenOutputs(hidden, list(frozen.labels), n_trainable_blocks)


@torch.inference_mode()
def features_from_frozen(model, frozen: FrozenOutputs, device, pooling: str = "last", batch_size: int = 32):
    """Os vetores da abordagem 1 a partir de saídas guardadas: os blocos que faltam, depois
    `final_norm`. Devolve `(X, y)` iguais aos de `extract_features`."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling deve ser um de {POOLINGS}.")
    if pooling == "mean" and frozen.n_trainable_blocks == 0:
        raise ValueError(
            'Com n_trainable_blocks=0 só o último token de cada texto foi guardado: pooling="mean" '
            "precisa de saídas com todos os tokens (n_trainable_blocks >= 1)."
        )
    blocks = _blocks_between(model, frozen, 0)
    features = np.zeros((len(frozen), model.final_norm.normalized_shape[0]), dtype=np.float32)
    with _EvalMode(model):
        for copies, x in _hidden_batches(frozen, batch_size):
            pooled = _pool(model.final_norm(blocks(x.to(device))), pooling).float().cpu().numpy()
            _store_rows(pooled, copies, features)
    return features, np.asarray(frozen.labels, dtype=np.int64)


def frozen_outputs_loader(frozen: FrozenOutputs, batch_size: int = 8, shuffle: bool = False,
                          drop_last: bool = False, seed: int = 123, pin_memory: bool = False) -> DataLoader:
    """`DataLoader` de lotes `(HiddenBatch, rótulos)`. Com a mesma semente e o mesmo tamanho,
    embaralha na mesma ordem que `create_dataloaders`."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(frozen, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator, collate_fn=_pad_hidden, pin_memory=pin_memory)


def _attention_reordered(att, h: torch.Tensor, query: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Atenção de uma consulta por texto sem calcular K nem V (W_key e W_value lineares comuns).

    K e V são lineares em h. Mudando a ordem das contas (a mesma função; só a
    associatividade do produto de matrizes muda):

        q · k_t   = q · (W_k h_t + b_k) = (W_kᵀ q) · h_t + q · b_k
        Σ a_t v_t = Σ a_t (W_v h_t + b_v) = W_v (Σ a_t h_t) + (Σ a_t) b_v

    Por token e por cabeça sobram dois produtos escalares de tamanho `emb_dim`, em vez de
    duas multiplicações por matrizes `emb_dim × emb_dim` para cada token.
    """
    batch, _, emb_dim = h.shape
    heads, head_dim = att.num_heads, att.head_dim
    query = query.view(batch, heads, head_dim)
    # As linhas de W_k e W_v que produzem cada cabeça: (cabeças, head_dim, emb_dim).
    key_weight = att.W_key.weight.view(heads, head_dim, emb_dim)
    value_weight = att.W_value.weight.view(heads, head_dim, emb_dim)

    query_in_h = torch.einsum("bcd,cde->bce", query, key_weight)  # W_kᵀ q: (lote, cabeças, emb_dim)
    scores = torch.einsum("bce,bte->bct", query_in_h, h)  # q · k_t: (lote, cabeças, tokens)
    if att.W_key.bias is not None:
        scores = scores + (query * att.W_key.bias.view(heads, head_dim)).sum(-1, keepdim=True)
    scores = (scores / head_dim**0.5).masked_fill(~visible[:, None, :], float("-inf"))
    weights = F.dropout(torch.softmax(scores, dim=-1), att.dropout, att.training)

    mixed = torch.einsum("bct,bte->bce", weights, h)  # Σ a_t h_t: (lote, cabeças, emb_dim)
    context = torch.einsum("bce,cde->bcd", mixed, value_weight)  # W_v (Σ a_t h_t)
    if att.W_value.bias is not None:
        context = context + weights.sum(-1, keepdim=True) * att.W_value.bias.view(heads, head_dim)
    return context.reshape(batch, -1)


def _attention_direct(att, h: torch.Tensor, query: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """A mesma atenção calculando K e V de todos os tokens (serve a qualquer W_key/W_value)."""
    batch = h.shape[0]
    keys = att._split_heads(att.W_key(h))
    values = att._split_heads(att.W_value(h))
    query = query.view(batch, att.num_heads, 1, att.head_dim)
    context = F.scaled_dot_product_attention(query, keys, values, attn_mask=visible[:, None, None, :],
                                             dropout_p=att.dropout if att.training else 0.0)
    return context.reshape(batch, -1)


def _last_block_at_last_token(block, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """O mesmo que `block(x)[i, lengths[i] - 1]`, mas calculando só o necessário.

    A saída do último token real precisa da consulta (Q), da projeção de saída e do MLP
    só naquele token. Das chaves (K) e dos valores (V) de cada token ela só usa produtos
    com a consulta e com os pesos da atenção; por isso K e V nem precisam ser calculados
    (`_attention_reordered`). É isso que deixa o treino da abordagem 3 rápido. Se W_key
    ou W_value não forem `nn.Linear` comuns (ex.: trocados por um adaptador), a conta
    é feita do jeito direto (`_attention_direct`).
    """
    att = block.att
    rows = torch.arange(x.shape[0], device=x.device)
    last = lengths.to(x.device) - 1
    h = block.norm1(x)  # (lote, tokens, emb_dim)
    query = att.W_query(h[rows, last])  # só no último token real: (lote, emb_dim)
    # O último token real enxerga todos os tokens reais (e nenhum preenchimento).
    visible = torch.arange(x.shape[1], device=x.device) <= last.unsqueeze(1)  # (lote, tokens)
    plain = type(att.W_key) is nn.Linear and type(att.W_value) is nn.Linear
    attention = _attention_reordered if plain else _attention_direct
    out = x[rows, last] + block.drop_shortcut(att.out_proj(attention(att, h, query, visible)))
    return out + block.drop_shortcut(block.ff(block.norm2(out)))


class TrainableTail(nn.Module):
    """A parte treinável do modelo, aplicada às saídas pré-calculadas.

    Não copia nada: compartilha os últimos `n_trainable_blocks` blocos, `final_norm` e
    `out_head` com `model`; treinar a cauda é treinar o próprio modelo. Crie-a depois de
    trocar a cabeça (`prepare_head_only` / `prepare_last_block`).

    Como só a previsão no último token real interessa, `tail(lote)` devolve logits
    (lote, classes) — uma linha por texto — em vez de um logit por posição.
    """

    def __init__(self, model, n_trainable_blocks: int = 1):
        super().__init__()
        n_blocks = len(model.trf_blocks)
        self.blocks = model.trf_blocks[n_blocks - n_trainable_blocks :]
        self.final_norm = model.final_norm
        self.out_head = model.out_head

    def forward(self, batch: HiddenBatch) -> torch.Tensor:
        x, lengths = batch.hidden, batch.lengths
        if len(self.blocks) == 0:
            last_hidden = x[torch.arange(x.shape[0], device=x.device), lengths.to(x.device) - 1]
        else:
            for block in self.blocks[:-1]:
                x = block(x)  # blocos intermediários: todas as posições são necessárias
            last_hidden = _last_block_at_last_token(self.blocks[-1], x, lengths)
        return self.out_head(self.final_norm(last_hidden))
