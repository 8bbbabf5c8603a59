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
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import disk_cache
from .batching import length_batches, same_length_groups, store_outputs, store_packed, token_batches
from .dataset import SpamDataset

__all__ = [
    "HiddenBatch", "FrozenOutputs", "extract_features", "precompute_frozen_outputs", "FrozenPassKeys",
    "frozen_outputs_loader", "advance_frozen_outputs", "features_from_frozen", "eval_mode", "as_spam_dataset",
    "batch_token_budget", "pool_real_tokens", "join_datasets", "join_outputs", "split_outputs",
    # de `batching.py`, onde moram (reexportados para quem já os importava daqui)
    "same_length_groups", "length_batches", "token_batches", "store_outputs", "store_packed",
]

FEATURE_POSITIONS = ("last_real", "mean")  # as posições de `TOKEN_POSITIONS` que viram um vetor por texto
DEVICE_BATCH_TOKENS = 8_192  # numa GPU: até tantos tokens por lote, contando o padding (H200: 2 a 8 mil, os melhores)


def as_spam_dataset(data, tokenizer=None) -> SpamDataset:
    """Um `SpamDataset` sem *padding*: `data` já pronto, ou uma tabela (`Text`, `Label`) mais o tokenizador.

    Ensinado no Notebook 3, §3.2.
    """
    if isinstance(data, SpamDataset):
        return data
    if tokenizer is None:
        raise ValueError("Passe um SpamDataset, ou um DataFrame junto com o tokenizer.")
    return SpamDataset(data, tokenizer, pad=False)


def batch_token_budget(blocks, device) -> int:
    """Quantos tokens (com *padding*) cabem num lote de textos de tamanhos vizinhos; 0 = só textos do mesmo tamanho.

    Na CPU, cada token de *padding* é conta jogada fora: lotes do mesmo tamanho (0). Numa GPU, quem
    custa é o número de lotes (cada um lança dezenas de *kernels*), não o *padding*: juntamos tamanhos
    vizinhos até `DEVICE_BATCH_TOKENS` tokens. Só se a atenção de todos os `blocks` for causal: aí o
    *padding* à direita nunca é visto pelos tokens reais, que vêm antes dele.

    Ensinado no Notebook 3, §3.2.
    """
    causal = all(getattr(getattr(block, "att", None), "causal", False) for block in blocks)
    return DEVICE_BATCH_TOKENS if torch.device(device).type != "cpu" and causal else 0


def _hidden_batches(frozen: "FrozenOutputs", batch_size: int, max_batch_tokens: int = 0):
    """Lotes de saídas guardadas: `(cópias, vetores (lote, tokens, dim), tamanhos reais)`. Sem orçamento,
    sem *padding*; com ele, zeros à direita. Textos repetidos guardam o MESMO tensor: a chave é a
    identidade dele (`id`), e eles passam uma vez só."""
    keys = [id(h) for h in frozen.hidden]
    lengths = [h.shape[0] for h in frozen.hidden]
    for copies in length_batches(keys, lengths, batch_size, max_batch_tokens):
        rows = [frozen.hidden[indices[0]] for indices in copies]
        yield copies, torch.nn.utils.rnn.pad_sequence(rows, batch_first=True), [h.shape[0] for h in rows]


def pool_real_tokens(hidden: torch.Tensor, lengths: list[int], token_position: str) -> torch.Tensor:
    """Um vetor por texto de `hidden` (lote, tokens, dim), só com os tokens reais (os primeiros
    `lengths[i]` da linha i): o último (`"last_real"`) ou a média (`"mean"`). Notebook 3, §3.2.
    """
    last = torch.tensor(lengths, device=hidden.device) - 1
    if token_position == "last_real":
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    if min(lengths) == hidden.shape[1]:  # sem padding
        return hidden.mean(dim=1)
    real = torch.arange(hidden.shape[1], device=hidden.device) <= last[:, None]
    return (hidden * real.unsqueeze(-1)).sum(dim=1) / (last + 1)[:, None]


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


def extract_features(model, data, device, tokenizer=None, token_position: str = "last_real", batch_size: int = 32):
    """Um vetor por texto, tirado do modelo congelado (saída de `final_norm`).

    `token_position="last_real"`: o vetor do último token real (o único que viu o texto todo);
    `token_position="mean"`: a média dos vetores de todos os tokens reais.
    Devolve `(X, y)` em NumPy, na ordem original do dataset. Com um dicionário de conjuntos
    (`{"treino": ..., "validação": ..., "teste": ...}`), devolve um `(X, y)` por conjunto, e os
    textos de todos passam juntos (ver `precompute_frozen_outputs`).

    Em duas etapas: a passada pesada (embeddings e todos os blocos menos o último), a mesma das
    abordagens 2 e 3, feita uma vez por curso e guardada no cache em disco; depois o último bloco,
    a `final_norm` e a posição escolhida (`features_from_frozen`), que custam pouco.

    Ensinado no Notebook 3, §3.2.
    """
    if token_position not in FEATURE_POSITIONS:
        raise ValueError(f"token_position deve ser um de {FEATURE_POSITIONS}.")
    if isinstance(data, dict):  # vários conjuntos: uma passada só, depois cada um recebe as suas linhas
        joined, sizes = join_datasets(data, tokenizer)
        X, y = extract_features(model, joined, device, token_position=token_position, batch_size=batch_size)
        bounds = np.cumsum(list(sizes.values()))[:-1]
        return dict(zip(sizes, zip(np.split(X, bounds), np.split(y, bounds))))
    frozen = precompute_frozen_outputs(model, as_spam_dataset(data, tokenizer), device, n_trainable_blocks=1,
                                       batch_size=batch_size)
    return features_from_frozen(model, frozen, device, token_position, batch_size)


def join_datasets(data: dict, tokenizer=None) -> tuple[SpamDataset, dict[str, int]]:
    """Os conjuntos de `data` (nome -> conjunto ou tabela) emendados num só, na ordem do
    dicionário, e o tamanho de cada um (para separá-los depois com `split_outputs`).

    Ensinado no Notebook 3, §3.2.
    """
    if not isinstance(data, dict) or not data:
        raise ValueError("Passe um dicionário não vazio de conjuntos, ex.: {'treino': ..., 'teste': ...}.")
    sets = {name: as_spam_dataset(part, tokenizer) for name, part in data.items()}
    joined = copy.copy(next(iter(sets.values())))
    joined.encoded_texts = [ids for dataset in sets.values() for ids in dataset.encoded_texts]
    joined.labels = [label for dataset in sets.values() for label in dataset.labels]
    joined.max_length = max(dataset.max_length for dataset in sets.values())
    return joined, {name: len(dataset) for name, dataset in sets.items()}


def join_outputs(parts: dict[str, FrozenOutputs]) -> tuple[FrozenOutputs, dict[str, int]]:
    """As saídas de vários conjuntos emendadas numa só (para avançarem juntas pelos mesmos blocos),
    e o tamanho de cada uma; `split_outputs` as separa de novo. Notebook 7, §7.1."""
    joined = FrozenOutputs([h for part in parts.values() for h in part.hidden],
                           [label for part in parts.values() for label in part.labels],
                           next(iter(parts.values())).n_trainable_blocks)
    return joined, {name: len(part) for name, part in parts.items()}


def split_outputs(frozen: FrozenOutputs, sizes: dict[str, int]) -> dict[str, FrozenOutputs]:
    """O inverso de `join_datasets` (e de `join_outputs`): as saídas de cada conjunto, na ordem de
    `sizes`. Notebook 3, §3.2."""
    parts, start = {}, 0
    for name, size in sizes.items():
        parts[name] = FrozenOutputs(frozen.hidden[start : start + size], frozen.labels[start : start + size],
                                    frozen.n_trainable_blocks)
        start += size
    return parts


class FrozenPassKeys:
    """As chaves do cache em disco (`disk_cache.py`) das passadas de um modelo por um conjunto de dados.

    `key(n_frozen_blocks, last_token_only)` junta tudo o que decide a conta: os pesos e o código
    dos embeddings e dos `n_frozen_blocks` primeiros blocos, os ids de cada texto (com o
    *padding*, se houver), o que é guardado, o tamanho do lote, o dispositivo e o orçamento
    de tokens dos lotes (`batch_token_budget`).

    Ensinado no Notebook 4, §4.3.
    """

    def __init__(self, model, dataset: SpamDataset, device, batch_size: int):
        self.model, self.batch_size, self.device = model, batch_size, torch.device(device).type
        self.tokens = disk_cache.tokens_fingerprint(dataset.encoded_texts)
        embeddings = disk_cache.module_fingerprint(model.tok_emb, model.pos_emb, model.drop_emb)
        self.fingerprints = [(embeddings, disk_cache.class_code(type(model)))]  # um por bloco, calculados sob demanda

    def key(self, n_frozen_blocks: int, last_token_only: bool) -> str | None:
        while len(self.fingerprints) <= n_frozen_blocks:
            self.fingerprints.append(disk_cache.module_fingerprint(self.model.trf_blocks[len(self.fingerprints) - 1]))
        parts = self.fingerprints[: n_frozen_blocks + 1]
        budget = batch_token_budget(self.model.trf_blocks[:n_frozen_blocks], self.device)
        return disk_cache.cache_key("frozen-pass", parts, self.tokens, n_frozen_blocks, last_token_only,
                                    self.batch_size, self.device, budget)

    def longest_cached(self, n_frozen_blocks: int) -> tuple[int, dict] | None:
        """A passada mais longa já em disco com MENOS blocos congelados (todos os tokens), ou `None`."""
        for n in range(n_frozen_blocks - 1, 0, -1):
            tensors = disk_cache.load(self.key(n, last_token_only=False))
            if tensors is not None:
                return n, tensors
        return None


@torch.inference_mode()
def precompute_frozen_outputs(model, data, device, n_trainable_blocks: int = 1,
                              batch_size: int = 32, tokenizer=None) -> FrozenOutputs:
    """Passa cada texto distinto UMA vez pela parte congelada (na CPU, em lotes sem *padding*):
    embeddings + blocos, menos os `n_trainable_blocks` últimos. Com `n_trainable_blocks=0`
    (só a cabeça treina) basta guardar o vetor do último token; senão, guardamos todos os
    tokens, que o bloco treinável precisa para a atenção.

    O resultado vai para o cache em disco (`disk_cache.py`): a mesma conta, pedida de novo (neste
    ou em outro notebook), é lida do disco. Se no disco só há uma passada por MENOS blocos, ela
    avança pelos que faltam (`advance_frozen_outputs`) em vez de recomeçar.

    `data` também pode ser um dicionário de conjuntos: os textos de todos passam JUNTOS (mais textos
    de cada tamanho por lote; um texto em dois conjuntos, uma vez só); volta um dicionário. Notebook 4, §4.3.
    """
    if isinstance(data, dict):
        joined, sizes = join_datasets(data, tokenizer)
        return split_outputs(precompute_frozen_outputs(model, joined, device, n_trainable_blocks, batch_size), sizes)
    n_blocks = len(model.trf_blocks)
    if not 0 <= n_trainable_blocks <= n_blocks:
        raise ValueError(f"n_trainable_blocks deve estar entre 0 e {n_blocks}.")
    dataset = as_spam_dataset(data, tokenizer)
    n_frozen, last_token_only = n_blocks - n_trainable_blocks, n_trainable_blocks == 0
    keys = FrozenPassKeys(model, dataset, device, batch_size)

    def compute() -> dict:
        shorter = keys.longest_cached(n_frozen)
        if shorter is not None:  # avança uma passada guardada pelos blocos que faltam
            start = FrozenOutputs(disk_cache.unpack_rows(shorter[1]), list(dataset.labels), n_blocks - shorter[0])
            return disk_cache.pack_rows(advance_frozen_outputs(model, start, device, n_trainable_blocks,
                                                               batch_size).hidden)
        with eval_mode(model):
            run = lambda ids: model.trf_blocks[:n_frozen](model.embed(ids.to(device)))  # noqa: E731
            batches = token_batches(dataset, batch_size, batch_token_budget(model.trf_blocks[:n_frozen], device))
            distinct = {tuple(ids) for ids in dataset.encoded_texts}
            n_rows = len(distinct) if last_token_only else sum(len(ids) for ids in distinct)
            return store_packed(batches, run, len(dataset), n_rows, last_token_only)

    tensors = disk_cache.load_or_compute(keys.key(n_frozen, last_token_only), compute)
    return FrozenOutputs(disk_cache.unpack_rows(tensors), list(dataset.labels), n_trainable_blocks)


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
        batches = _hidden_batches(frozen, batch_size, batch_token_budget(blocks, device))
        hidden = store_outputs(batches, lambda x: blocks(x.to(device)), len(frozen),
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
        for copies, x, lengths in _hidden_batches(frozen, batch_size, batch_token_budget(blocks, device)):
            hidden = model.final_norm(blocks(x.to(device)))  # (lote, tokens, dim)
            pooled = pool_real_tokens(hidden, lengths, token_position)
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
