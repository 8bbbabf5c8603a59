"""`features`: uma passada congelada serve às três abordagens e às linhas do laboratório, com os mesmos números."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmdefinitions import (
    GPTModel,
    SpamDataset,
    advance_frozen_outputs,
    disk_cache,
    extract_features,
    features,
    features_from_frozen,
    gpt2_config,
    precompute_frozen_outputs,
)
from llmdefinitions.features import (
    DEVICE_BATCH_TOKENS,
    FrozenPassKeys,
    batch_token_budget,
    eval_mode,
    join_datasets,
    length_batches,
    same_length_groups,
    split_outputs,
    store_outputs,
    store_packed,
    token_batches,
)
from llmdefinitions.frozen_cache import FrozenCache, FrozenKey, token_view
from llmdefinitions.model import remove_causal_mask
from tests.tiny_models import synthetic_frame, tiny_model

TEXTS = [
    "Ok lar... Joking wif u oni...",
    "WINNER!! You have been selected to receive a 900 prize reward! Call 09061701461 now",
    "Hi",
    "Are we still meeting for lunch tomorrow? Let me know when you leave the office",
    "FREE entry to win tickets, txt WIN to 80085",
]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = {**gpt2_config("gpt2-small (124M)"), "emb_dim": 32, "n_heads": 4, "n_layers": 3, "context_length": 64}
    return GPTModel(cfg).eval()


@pytest.fixture(scope="module")
def dataset(tokenizer):
    frame = pd.DataFrame({"Text": TEXTS, "Label": [0, 1, 0, 0, 1]})
    return SpamDataset(frame, tokenizer)


def _assert_same(a, b):
    assert a.n_trainable_blocks == b.n_trainable_blocks and a.labels == b.labels
    for x, y in zip(a.hidden, b.hidden):
        assert x.shape == y.shape
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("start, target", [(1, 0), (2, 0), (2, 1), (3, 1)])
def test_advance_matches_direct_precompute(model, dataset, start, target):
    cached = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=start, batch_size=2)
    advanced = advance_frozen_outputs(model, cached, "cpu", n_trainable_blocks=target, batch_size=3)
    _assert_same(advanced, precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=target))


def test_advance_to_same_level_is_identity(model, dataset):
    cached = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert advance_frozen_outputs(model, cached, "cpu", n_trainable_blocks=1) is cached


@pytest.mark.parametrize("start, token_position", [(1, "last_real"), (1, "mean"), (3, "mean"), (0, "last_real")])
def test_features_match_extract_features(model, dataset, start, token_position):
    cached = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=start)
    X, y = features_from_frozen(model, cached, "cpu", token_position=token_position, batch_size=2)
    X_ref, y_ref = extract_features(model, dataset, "cpu", token_position=token_position)
    assert X.dtype == np.float32 and X.shape == X_ref.shape
    np.testing.assert_allclose(X, X_ref, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(y, y_ref)


def test_errors_are_explained(model, dataset):
    last_only = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=0)
    with pytest.raises(ValueError, match="último token"):
        features_from_frozen(model, last_only, "cpu", token_position="mean")
    with pytest.raises(ValueError, match="token_position"):
        features_from_frozen(model, last_only, "cpu", token_position="max")
    cached = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    with pytest.raises(ValueError, match="avançar"):
        advance_frozen_outputs(model, cached, "cpu", n_trainable_blocks=2)


def test_model_mode_is_restored(model, dataset):
    cached = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    model.train()
    try:
        advance_frozen_outputs(model, cached, "cpu")
        features_from_frozen(model, cached, "cpu")
        assert model.training
    finally:
        model.eval()


def test_frozen_pass_sees_each_distinct_text_once_without_padding(model, tokenizer):
    """Lotes sem padding (textos do mesmo tamanho) e textos repetidos calculados uma vez: cada
    saída guardada é a do modelo aplicado àquele texto sozinho."""
    texts = TEXTS + [TEXTS[1], TEXTS[0], TEXTS[1]]  # 3 repetições, como no SMS
    frame = pd.DataFrame({"Text": texts, "Label": [0, 1, 0, 0, 1, 1, 0, 1]})
    dataset = SpamDataset(frame, tokenizer)
    seen = []
    hook = model.trf_blocks[0].register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].shape))
    try:
        frozen = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1, batch_size=2)
    finally:
        hook.remove()
    lengths = [len(ids) for ids in dataset.encoded_texts]
    assert sum(shape[0] for shape in seen) == len(TEXTS)  # 5 textos distintos, não 8
    assert sum(shape[0] * shape[1] for shape in seen) == sum(lengths[: len(TEXTS)])  # nenhum token de padding
    assert frozen.hidden[5] is frozen.hidden[1] and frozen.hidden[6] is frozen.hidden[0]
    assert frozen.nbytes() == sum(h.numel() * 4 for h in frozen.hidden[: len(TEXTS)])
    with torch.inference_mode():
        for ids, stored in zip(dataset.encoded_texts, frozen.hidden):
            alone = model.trf_blocks[:-1](model.embed(torch.tensor([ids])))[0]
            torch.testing.assert_close(stored, alone, atol=1e-5, rtol=1e-5)


def test_sets_in_a_dict_pass_together_and_come_back_by_name(model, tokenizer):
    """Um dicionário de conjuntos: uma passada só, um texto que está em dois conjuntos é calculado
    uma vez, e cada conjunto recebe as suas saídas (na sua ordem, com os seus rótulos)."""
    sets = {"treino": SpamDataset(pd.DataFrame({"Text": TEXTS[:3], "Label": [0, 1, 0]}), tokenizer, pad=False),
            "teste": SpamDataset(pd.DataFrame({"Text": [TEXTS[3], TEXTS[0]], "Label": [0, 1]}), tokenizer, pad=False)}
    seen = []
    hook = model.trf_blocks[0].register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].shape[0]))
    try:
        together = precompute_frozen_outputs(model, sets, "cpu", n_trainable_blocks=1)
    finally:
        hook.remove()
    assert list(together) == ["treino", "teste"] and sum(seen) == 4  # 4 textos distintos, não 5
    assert together["teste"].hidden[1] is together["treino"].hidden[0]  # o texto repetido: o mesmo tensor
    for name, dataset in sets.items():
        _assert_same(together[name], precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1))


def test_extract_features_with_a_dict_equals_one_set_at_a_time(model, tokenizer):
    frames = {"a": pd.DataFrame({"Text": TEXTS[:2], "Label": [0, 1]}),
              "b": pd.DataFrame({"Text": TEXTS[2:], "Label": [0, 0, 1]})}
    together = extract_features(model, frames, "cpu", tokenizer=tokenizer, token_position="mean")
    assert list(together) == ["a", "b"]
    for name, frame in frames.items():
        X, y = extract_features(model, frame, "cpu", tokenizer=tokenizer, token_position="mean")
        np.testing.assert_allclose(together[name][0], X, atol=1e-5, rtol=1e-5)
        np.testing.assert_array_equal(together[name][1], y)


def test_join_and_split_are_inverse_and_errors_are_explained(dataset):
    joined, sizes = join_datasets({"x": dataset, "y": dataset})
    assert sizes == {"x": len(dataset), "y": len(dataset)} and joined.labels == dataset.labels * 2
    parts = split_outputs(features.FrozenOutputs(list(range(len(joined))), joined.labels, 1), sizes)
    assert parts["y"].hidden == list(range(len(dataset), 2 * len(dataset))) and parts["y"].labels == dataset.labels
    with pytest.raises(ValueError, match="dicionário não vazio"):
        join_datasets({})


@pytest.mark.parametrize("last_token_only", [False, True])
@pytest.mark.parametrize("budget", [0, 64])
def test_store_packed_writes_what_pack_rows_would(model, tokenizer, last_token_only, budget):
    """O formato do arquivo do cache escrito lote a lote = o de `pack_rows(store_outputs(...))`,
    com textos repetidos e com lotes completados com padding (o orçamento de uma GPU)."""
    texts = TEXTS + [TEXTS[1], TEXTS[0]]
    dataset = SpamDataset(pd.DataFrame({"Text": texts, "Label": [0] * len(texts)}), tokenizer, pad=False)
    distinct = {tuple(ids) for ids in dataset.encoded_texts}
    n_rows = len(distinct) if last_token_only else sum(len(ids) for ids in distinct)
    run = lambda ids: model.trf_blocks[:2](model.embed(ids))  # noqa: E731
    with torch.inference_mode():
        packed = store_packed(token_batches(dataset, 2, budget), run, len(dataset), n_rows, last_token_only)
        listed = store_outputs(token_batches(dataset, 2, budget), run, len(dataset), last_token_only)
    assert packed["rows"].shape[0] == n_rows
    unpacked = disk_cache.unpack_rows(packed)
    assert unpacked[5] is unpacked[1] and unpacked[6] is unpacked[0]  # as cópias: o mesmo tensor
    for a, b in zip(unpacked, disk_cache.unpack_rows(disk_cache.pack_rows(listed))):
        assert torch.equal(a, b)


def test_eval_mode_restores_the_previous_mode(model):
    model.train()
    with eval_mode(model):
        assert not model.training
    assert model.training
    model.eval()


def test_token_view_first_real_and_padded(dataset):
    first, real, padded = (token_view(dataset, v) for v in [("first",), ("real", 3), ("padded", 6)])
    assert all(len(ids) == 1 for ids in first.encoded_texts)
    assert all(ids == full[:3] for ids, full in zip(real.encoded_texts, dataset.encoded_texts))
    assert all(len(ids) == 6 for ids in padded.encoded_texts) and padded.max_length == 6
    assert len(dataset.encoded_texts[1]) > 3  # o original não muda: token_view devolve uma cópia


def test_frozen_cache_advances_from_the_longer_pass(model, dataset):
    cache, datasets, view = FrozenCache(batch_size=2), {"train": dataset}, ("real", 64)
    cache.get(FrozenKey(("tiny",), view, 2), model, datasets, "cpu")
    short = cache.get(FrozenKey(("tiny",), view, 0), model, datasets, "cpu")
    assert (cache.frozen_passes, cache.advances) == (1, 1)
    assert cache.get(FrozenKey(("tiny",), view, 0), model, datasets, "cpu") is short  # guardada
    _assert_same(short["train"], precompute_frozen_outputs(model, token_view(dataset, view), "cpu", 0))
    derived = cache.derived(FrozenKey(("tiny",), view, 0, derived="média"), lambda: {"train": short["train"]})
    assert derived["train"] is short["train"] and len(cache.keys()) == 3
    cache.drop(lambda key: key.model == ("tiny",) and key.view == view)
    assert cache.keys() == []


def test_extract_features_matches_hidden_states(tokenizer):
    frame = synthetic_frame(n=10)
    model = tiny_model()
    X, y = extract_features(model, frame, "cpu", tokenizer=tokenizer, batch_size=3)
    assert X.shape == (10, 32) and X.dtype == np.float32 and y.tolist() == frame["Label"].tolist()
    ids = torch.tensor([tokenizer.encode(frame["Text"].iloc[4])])
    with torch.no_grad():
        hidden = model.hidden_states(ids)[0]
    np.testing.assert_allclose(X[4], hidden[-1].numpy(), atol=1e-5)
    X_mean, _ = extract_features(model, frame, "cpu", tokenizer=tokenizer, token_position="mean")
    np.testing.assert_allclose(X_mean[4], hidden.mean(0).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="token_position"):
        extract_features(model, frame, "cpu", tokenizer=tokenizer, token_position="max")


# --------------------------------------------------------------------------- lotes para o dispositivo (GPU)

LENGTHS = [5, 3, 9, 3, 5, 5, 12, 3, 2, 9, 5, 30]
KEYS = ["a", "b", "c", "d", "a", "e", "f", "b", "g", "h", "i", "j"]  # "a" e "b" repetidos


def test_cpu_batches_are_the_same_length_groups():
    assert batch_token_budget([], "cpu") == 0 and batch_token_budget([], torch.device("cpu")) == 0
    assert length_batches(KEYS, LENGTHS, 2, max_batch_tokens=0) == list(same_length_groups(KEYS, LENGTHS, 2))


@pytest.mark.parametrize("budget", [1, 12, 20, 40, 1000])
def test_length_batches_merge_neighbours_within_the_budget(budget):
    batches = length_batches(KEYS, LENGTHS, 2, max_batch_tokens=budget)
    rows = [indices for batch in batches for indices in batch]
    assert sorted(i for indices in rows for i in indices) == list(range(len(KEYS)))  # cada texto uma vez
    assert [0, 4] in rows and [1, 7] in rows  # repetidos: uma linha, com as duas cópias
    same_length = list(same_length_groups(KEYS, LENGTHS, 2))
    for batch in batches:
        longest = max(LENGTHS[indices[0]] for indices in batch)
        assert len(batch) * longest <= budget or batch in same_length  # só um lote do mesmo tamanho passa
    sizes = [LENGTHS[indices[0]] for indices in rows]
    assert sizes == sorted(sizes)  # em ordem de tamanho: só vizinhos se juntam
    assert len(batches) <= len(same_length)
    if budget == 1000:
        assert len(batches) == 1


def test_budget_only_on_other_devices_with_causal_attention(model):
    assert batch_token_budget(model.trf_blocks, "cuda") == DEVICE_BATCH_TOKENS
    assert batch_token_budget(model.trf_blocks, "mps") == DEVICE_BATCH_TOKENS
    assert batch_token_budget(model.trf_blocks, "cpu") == 0
    non_causal = remove_causal_mask(tiny_model())  # o padding seria visto pelos tokens reais
    assert batch_token_budget(non_causal.trf_blocks, "cuda") == 0


def test_padded_merged_batches_give_the_same_outputs(model, tokenizer, monkeypatch):
    """O caminho da GPU (lotes mesclados com padding à direita), forçado na CPU: as mesmas saídas
    do caminho sem padding, textos repetidos calculados uma vez e guardados num só tensor."""
    monkeypatch.setenv("LLMDEFINITIONS_CACHE_DIR", "off")
    texts = TEXTS + [TEXTS[1], TEXTS[0], "Hi there", "Hi again"]
    dataset = SpamDataset(pd.DataFrame({"Text": texts, "Label": [0, 1, 0, 0, 1, 1, 0, 0, 0]}), tokenizer)
    reference = {n: precompute_frozen_outputs(model, dataset, "cpu", n, batch_size=2) for n in (0, 1, 3)}
    features_ref = {position: features_from_frozen(model, reference[3], "cpu", position, batch_size=2)[0]
                    for position in ("last_real", "mean")}
    monkeypatch.setattr(features, "batch_token_budget", lambda blocks, device: 200)
    seen = []
    hook = model.trf_blocks[0].register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].shape))
    try:
        merged = {n: precompute_frozen_outputs(model, dataset, "cpu", n, batch_size=2) for n in (0, 1, 3)}
    finally:
        hook.remove()
    real_tokens = sum(len(ids) for ids in {tuple(ids) for ids in dataset.encoded_texts})
    assert len(seen) < 7 and sum(s[0] * s[1] for s in seen) > 2 * real_tokens  # 2 passadas, com padding
    for n in (0, 1):
        _assert_same(merged[n], reference[n])
        assert merged[n].hidden[5] is merged[n].hidden[1] and merged[n].hidden[6] is merged[n].hidden[0]
    _assert_same(advance_frozen_outputs(model, reference[3], "cpu", 0, batch_size=2), reference[0])
    _assert_same(advance_frozen_outputs(model, reference[3], "cpu", 1, batch_size=2), reference[1])
    for position, X_ref in features_ref.items():
        X, _ = features_from_frozen(model, reference[3], "cpu", position, batch_size=2)
        np.testing.assert_allclose(X, X_ref, atol=1e-5, rtol=1e-5)


def test_disk_cache_key_holds_the_token_budget(model, dataset, monkeypatch):
    before = FrozenPassKeys(model, dataset, "cpu", 32).key(2, last_token_only=False)
    monkeypatch.setattr(features, "batch_token_budget", lambda blocks, device: 4096)
    assert FrozenPassKeys(model, dataset, "cpu", 32).key(2, last_token_only=False) != before
