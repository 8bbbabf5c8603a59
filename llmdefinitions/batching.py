"""A passada congelada em lotes: textos agrupados por tamanho, e a saída de cada texto guardada no seu lugar.

Na CPU, um lote só tem textos do MESMO tamanho (nenhum token de *padding*); numa GPU, lotes de
tamanhos vizinhos se juntam até um orçamento de tokens (`features.batch_token_budget`). Textos
repetidos passam uma vez só, e as cópias apontam para a mesma saída.

Ensinado no Notebook 3, §3.2, e no Notebook 4, §4.3.
"""

from __future__ import annotations

import torch

from .dataset import SpamDataset

__all__ = ["same_length_groups", "length_batches", "token_batches", "store_outputs", "store_packed"]


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


def length_batches(keys: list, lengths: list[int], batch_size: int, max_batch_tokens: int = 0) -> list:
    """Os lotes de `same_length_groups`; com `max_batch_tokens > 0`, lotes vizinhos (em ordem crescente
    de tamanho) se juntam enquanto linhas × maior tamanho couber no orçamento (o lote passa a ter
    *padding*). Um lote do mesmo tamanho nunca é partido. Com 0, os lotes são exatamente os de antes.

    Ensinado no Notebook 3, §3.2.
    """
    batches: list = []
    for group in same_length_groups(keys, lengths, batch_size):
        longest = lengths[group[0][0]]  # o grupo novo é o mais longo até aqui
        if batches and max_batch_tokens and (len(batches[-1]) + len(group)) * longest <= max_batch_tokens:
            batches[-1] = batches[-1] + group
        else:
            batches.append(group)
    return batches


def token_batches(dataset: SpamDataset, batch_size: int, max_batch_tokens: int = 0):
    """Lotes de ids: `(cópias, ids (lote, tokens), tamanhos reais)`, um texto distinto por linha.

    `cópias[i]` são os índices, no conjunto de dados, dos textos iguais ao da linha i. Sem orçamento
    (`max_batch_tokens=0`), nenhum *padding*; com ele, os textos mais curtos do lote são completados
    à direita com o id 0 (qualquer id serve: a atenção causal o esconde). Notebook 3, §3.2.
    """
    texts = dataset.encoded_texts
    lengths = [len(ids) for ids in texts]
    for copies in length_batches([tuple(ids) for ids in texts], lengths, batch_size, max_batch_tokens):
        rows = [texts[indices[0]] for indices in copies]
        longest = max(len(ids) for ids in rows)
        yield copies, torch.tensor([list(ids) + [0] * (longest - len(ids)) for ids in rows]), [len(r) for r in rows]


def _batch_outputs(out: torch.Tensor, lengths: list[int], last_token_only: bool) -> torch.Tensor:
    """A saída de um lote, na CPU e em float32; com `last_token_only`, só o último token real de cada linha."""
    if last_token_only:  # (lote, 1, dim)
        out = out[torch.arange(len(lengths), device=out.device), torch.tensor(lengths, device=out.device) - 1]
        out = out.unsqueeze(1)
    return out.float().cpu()


def store_outputs(batches, run, n_texts: int, last_token_only: bool) -> list:
    """Roda `run` em cada lote de `(cópias, tensor, tamanhos reais)` e guarda a saída de cada texto
    no seu lugar, só com os tokens reais (o *padding*, se houver, fica de fora).

    `cópias` diz em que posições do conjunto cada linha do lote entra (um texto repetido é
    calculado uma vez e as cópias compartilham o tensor). Com `last_token_only`, só o último
    token real é guardado, copiado, para não prender o lote inteiro na memória.

    Ensinado no Notebook 4, §4.3.
    """
    hidden: list = [None] * n_texts
    for copies, x, lengths in batches:
        out = _batch_outputs(run(x), lengths, last_token_only)
        padded = not last_token_only and min(lengths) < x.shape[1]
        for row, indices, length in zip(out.unbind(0), copies, lengths):
            row = row[:length].clone() if padded else row  # cópia: o lote com padding não fica preso
            for index in indices:
                hidden[index] = row
    return hidden


def store_packed(batches, run, n_texts: int, n_rows: int, last_token_only: bool) -> dict[str, torch.Tensor]:
    """O mesmo que `disk_cache.pack_rows(store_outputs(...))`, o formato do arquivo do cache, sem
    as duas cópias na memória: cada lote escreve as saídas dos seus textos direto no tensor final,
    que tem `n_rows` linhas (os tokens guardados de todos os textos distintos). O pico de memória
    cai em uma cópia da passada inteira (no *padding* fixo do notebook 7, uns 500 MB).

    Ensinado no Notebook 4, §4.3.
    """
    rows, lengths, index, start = None, [], torch.zeros(n_texts, dtype=torch.int64), 0
    for copies, x, real_lengths in batches:
        out = _batch_outputs(run(x), real_lengths, last_token_only)
        if rows is None:
            rows = torch.empty(n_rows, out.shape[-1])
        for row, indices, length in zip(out.unbind(0), copies, real_lengths):
            size = 1 if last_token_only else length
            rows[start : start + size] = row[:size]
            index[indices] = len(lengths)  # as cópias de um texto apontam para a mesma linha distinta
            lengths.append(size)
            start += size
    return {"rows": rows, "lengths": torch.tensor(lengths), "index": index}
