"""Várias linhas do laboratório, uma passada congelada (Notebook 7).

As linhas da tabela do laboratório (`lab.py`) diferem em poucos pontos: quantos blocos treinam,
que tokens o modelo vê, onde a classe é lida. Muitas partem da MESMA parte congelada vista nos
MESMOS tokens. `FrozenCache` guarda essas saídas na memória durante a execução do laboratório,
identificadas por uma `FrozenKey`, e avança uma passada guardada quando basta (barato). O cache
em disco (`disk_cache.py`) vem por baixo: `precompute_frozen_outputs` o consulta.
"""

from __future__ import annotations

import copy
import time
from typing import NamedTuple

from .dataset import SpamDataset
from .disk_cache import cache_use
from .features import FrozenOutputs, advance_frozen_outputs, join_outputs, precompute_frozen_outputs, split_outputs

__all__ = ["token_view", "FrozenKey", "FrozenCache"]


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
    a passada. Contadores: `frozen_passes` (passadas completas pela parte congelada; `disk_reads`
    delas vieram prontas do cache em disco), `advances` (avanços a partir de uma passada guardada)
    e `seconds` (tempo gasto em tudo isso).

    Ensinado no Notebook 7, §7.1.
    """

    def __init__(self, batch_size: int = 32):
        self._store: dict[FrozenKey, dict[str, FrozenOutputs]] = {}
        self.batch_size = batch_size
        self.frozen_passes = 0
        self.disk_reads = 0
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
            if longer:  # os conjuntos avançam juntos, como passaram juntos
                self.advances += 1
                source = self._store[min(longer, key=lambda k: k.n_unfrozen)]
                joined, sizes = join_outputs(source)
                advanced = advance_frozen_outputs(model, joined, device, n_trainable_blocks=key.n_unfrozen,
                                                  batch_size=self.batch_size)
                return split_outputs(advanced, sizes)
            self.frozen_passes += 1
            views = {name: token_view(ds, key.view) for name, ds in datasets.items()}
            with cache_use() as use:  # os conjuntos numa passada só (a mesma chave dos notebooks)
                outputs = precompute_frozen_outputs(model, views, device, n_trainable_blocks=key.n_unfrozen,
                                                    batch_size=self.batch_size)
            self.disk_reads += use.misses == 0 and use.hits > 0
            return outputs

        return self.derived(key, compute)

    def derived(self, key: FrozenKey, compute) -> dict[str, FrozenOutputs]:
        """A entrada `key`; se ainda não existe, `compute()` a calcula (e o tempo entra em `seconds`)."""
        if key not in self._store:
            start = time.perf_counter()
            self._store[key] = compute()
            self.seconds += time.perf_counter() - start
        return self._store[key]
