"""O cache em disco do trabalho congelado (llmdefinitions/disk_cache.py e precompute_frozen_outputs).

Cada teste usa uma pasta de cache própria (`cache`): chaves, arquivo corrompido, limite de tamanho,
chave desligada e o "lido do disco = calculado agora".
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from llmdefinitions import GPTModel, SpamDataset, clear_cache, disk_cache, extract_features, precompute_frozen_outputs
from llmdefinitions.frozen_cache import token_view
from tests.tiny_models import synthetic_frame, tiny_model


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, str(folder))
    monkeypatch.delenv(disk_cache.CACHE_MAX_GB_ENV_VAR, raising=False)
    return folder


@pytest.fixture(scope="module")
def dataset(tokenizer):
    frame = synthetic_frame(24)
    frame.loc[5, "Text"] = frame.loc[2, "Text"]  # um texto repetido, como no SMS
    return SpamDataset(frame, tokenizer, pad=False)


def files(folder):
    return sorted(folder.glob("*.safetensors"))


def counting(monkeypatch):
    """Conta as passadas pela parte congelada (chamadas a model.embed)."""
    calls = []
    original = GPTModel.embed

    def embed(self, ids):
        calls.append(ids.shape)
        return original(self, ids)

    monkeypatch.setattr(GPTModel, "embed", embed)
    return calls


def same_outputs(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a.hidden, b.hidden))


def test_second_call_reads_the_disk_and_equals_a_fresh_pass(cache, dataset, monkeypatch):
    model = tiny_model()
    first = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert len(files(cache)) == 1
    calls = counting(monkeypatch)
    again = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert calls == []  # nenhuma passada: tudo veio do disco
    assert same_outputs(first, again)
    assert again.hidden[2] is again.hidden[5]  # o texto repetido continua compartilhando o tensor
    assert again.nbytes() == first.nbytes()
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, "off")
    fresh = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert same_outputs(fresh, again)  # bit a bit


@pytest.mark.parametrize("change", ["weight", "text", "padding", "blocks", "code", "causal", "batch"])
def test_anything_that_changes_the_result_misses(change, cache, dataset, monkeypatch):
    model = tiny_model()
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    data, n_trainable, batch_size = dataset, 1, 32
    if change == "weight":
        with torch.no_grad():
            next(model.trf_blocks[0].parameters()).view(-1)[0] += 1e-3  # um só número de um bloco congelado
    elif change == "text":
        data = token_view(dataset, ("real", 5))  # os mesmos textos, truncados: outros ids
    elif change == "padding":
        data = token_view(dataset, ("padded", 40))
    elif change == "blocks":
        n_trainable = 2
    elif change == "code":
        class Block(type(model.trf_blocks[0])):  # mesmos pesos, outro código
            def forward(self, x):
                return super().forward(x) * 1.0

        model.trf_blocks[0].__class__ = Block
    elif change == "causal":
        model.trf_blocks[0].att.causal = False
    elif change == "batch":
        batch_size = 4
    before = len(files(cache))
    calls = counting(monkeypatch)
    precompute_frozen_outputs(model, data, "cpu", n_trainable_blocks=n_trainable, batch_size=batch_size)
    assert calls, "a conta tinha de ser refeita"
    assert len(files(cache)) == before + 1


def test_fewer_blocks_on_disk_are_advanced_not_recomputed(cache, dataset, monkeypatch):
    model = tiny_model()
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=2)
    calls = counting(monkeypatch)
    advanced = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=0)
    assert calls == []  # nenhum embed: partiu das saídas com 1 bloco congelado
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, "off")
    full = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=0)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(advanced.hidden, full.hidden))


def test_extract_features_share_the_pass_of_approach_3(cache, dataset, monkeypatch):
    model = tiny_model()
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    calls = counting(monkeypatch)
    X, y = extract_features(model, dataset, "cpu", token_position="mean")
    assert calls == [] and X.shape == (len(dataset), 32) and list(y) == list(dataset.labels)
    with torch.no_grad(), disk_cache.disabled():
        model.eval()
        mean = model.hidden_states(torch.tensor([dataset.encoded_texts[0]])).mean(dim=1)[0]
    assert torch.allclose(torch.from_numpy(X[0]), mean, atol=1e-5)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other_key", "empty"])
def test_a_corrupt_or_partial_file_is_ignored_and_rebuilt(damage, cache, dataset, monkeypatch):
    model = tiny_model()
    first = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    (path,) = files(cache)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a safetensors file" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # um arquivo válido, mas de outra conta, com o nome desta
        other = cache / "outro"
        monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, str(other))
        precompute_frozen_outputs(tiny_model(seed=7), dataset, "cpu", n_trainable_blocks=1)
        files(other)[0].replace(path)
        monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, str(cache))
    calls = counting(monkeypatch)
    rebuilt = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert calls, "o arquivo estragado não pode ser usado"
    assert same_outputs(first, rebuilt)
    assert disk_cache.load(path.stem) is not None  # e foi regravado inteiro


def test_partial_write_never_has_the_final_name(cache, dataset, monkeypatch):
    model = tiny_model()

    def failing_save(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"metade")
        raise OSError("disco cheio")

    monkeypatch.setattr(disk_cache, "save_file", failing_save)
    with pytest.warns(UserWarning, match="disco cheio"):
        outputs = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert len(outputs) == len(dataset)
    assert list(cache.iterdir()) == []  # nem o arquivo final nem o temporário ficaram


def test_size_cap_evicts_the_least_recently_used(cache, dataset, monkeypatch):
    model = tiny_model()
    one = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    size = files(cache)[0].stat().st_size
    monkeypatch.setenv(disk_cache.CACHE_MAX_GB_ENV_VAR, str(2.5 * size / 1e9))  # cabem 2 arquivos
    (first,) = files(cache)
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=2)
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)  # lido: o primeiro fica "recente"
    precompute_frozen_outputs(tiny_model(seed=3), dataset, "cpu", n_trainable_blocks=1)  # mesmo tamanho
    remaining = files(cache)
    assert len(remaining) == 2 and first in remaining
    assert sum(p.stat().st_size for p in remaining) <= 2.5 * size
    assert one is not None


def test_an_entry_larger_than_the_cap_is_not_written(cache, dataset, monkeypatch):
    monkeypatch.setenv(disk_cache.CACHE_MAX_GB_ENV_VAR, "0,000000001")  # 1 byte, com vírgula decimal
    precompute_frozen_outputs(tiny_model(), dataset, "cpu", n_trainable_blocks=1)
    assert files(cache) == []


def test_disable_switch_writes_nothing_and_always_computes(tmp_path, dataset, monkeypatch):
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, "off")
    calls = counting(monkeypatch)
    precompute_frozen_outputs(tiny_model(), dataset, "cpu", n_trainable_blocks=1)
    precompute_frozen_outputs(tiny_model(), dataset, "cpu", n_trainable_blocks=1)
    assert len(calls) >= 2
    assert disk_cache.cache_dir() is None and "desligado" in str(disk_cache.cache_info())
    assert clear_cache() == 0


def test_uncacheable_model_code_is_computed_every_time(cache, dataset, monkeypatch):
    model = tiny_model()
    block = model.trf_blocks[0]
    block.forward = lambda x, _original=block.forward: _original(x)  # forward trocado na instância
    precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert files(cache) == []


def test_bad_cap_value_gets_a_clear_message(cache, monkeypatch):
    monkeypatch.setenv(disk_cache.CACHE_MAX_GB_ENV_VAR, "muito")
    with pytest.raises(ValueError, match="LLMDEFINITIONS_CACHE_MAX_GB deve ser um número"):
        disk_cache.max_cache_bytes()
    monkeypatch.setenv(disk_cache.CACHE_MAX_GB_ENV_VAR, "-1")
    with pytest.raises(ValueError, match="não pode ser negativo"):
        disk_cache.max_cache_bytes()


def test_clear_cache_and_the_command(cache, dataset):
    precompute_frozen_outputs(tiny_model(), dataset, "cpu", n_trainable_blocks=1)
    (cache / ".x.safetensors.123.tmp").write_bytes(b"resto de uma gravacao interrompida")
    info = disk_cache.cache_info()
    assert info.files == 1 and info.nbytes > 0 and info.directory == cache
    assert str(cache) not in str(info)  # o texto que os notebooks imprimem não mostra caminhos da máquina
    result = subprocess.run([sys.executable, "-m", "llmdefinitions.disk_cache", "--clear"],
                            capture_output=True, text=True, check=True)
    assert "apagado" in result.stdout and "0 arquivo(s)" in result.stdout
    assert list(cache.iterdir()) == []


def test_cache_use_says_where_the_result_came_from(cache, dataset):
    model = tiny_model()
    with disk_cache.cache_use() as first:
        precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    with disk_cache.cache_use() as second:
        precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert (first.hits, first.misses) == (0, 1) and "calculado agora e guardado" in str(first)
    assert (second.hits, second.misses) == (1, 0) and str(second).startswith("lido do cache em disco; calculá-lo levou")
    assert second.saved_seconds > 0
    with disk_cache.disabled(), disk_cache.cache_use() as off:
        precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=1)
    assert "desligado" in str(off) and disk_cache.cache_dir() == cache  # religado ao sair do bloco


def test_the_lab_counts_passes_read_from_disk(cache, dataset):
    from llmdefinitions.frozen_cache import FrozenCache, FrozenKey

    key = FrozenKey(("tiny", "pré-treinado"), ("real", 256), 1)
    first, second = FrozenCache(), FrozenCache()  # duas execuções do laboratório
    first.get(key, tiny_model(), {"treino": dataset}, "cpu")
    second.get(key, tiny_model(), {"treino": dataset}, "cpu")
    assert (first.frozen_passes, first.disk_reads) == (1, 0)
    assert (second.frozen_passes, second.disk_reads) == (1, 1)


def test_the_lab_reads_the_pass_the_notebooks_made_for_the_three_sets(cache, tokenizer, monkeypatch):
    """Notebooks e laboratório pedem os três conjuntos juntos: a mesma chave, e o laboratório lê do disco."""
    from llmdefinitions.frozen_cache import FrozenCache, FrozenKey

    frames = {"train": synthetic_frame(12), "val": synthetic_frame(6, seed=1), "test": synthetic_frame(6, seed=2)}
    sets = {name: SpamDataset(frame, tokenizer, pad=False) for name, frame in frames.items()}
    notebook = precompute_frozen_outputs(tiny_model(), sets, "cpu", n_trainable_blocks=1)
    lab = FrozenCache()
    calls = counting(monkeypatch)
    outputs = lab.get(FrozenKey(("tiny", "pré-treinado"), ("real", 256), 1), tiny_model(), sets, "cpu")
    assert calls == [] and lab.disk_reads == 1 and len(files(cache)) == 1
    assert all(same_outputs(outputs[name], notebook[name]) for name in sets)


def test_device_checksum_sees_one_bit_and_does_not_depend_on_chunks():
    """O resumo usado para pesos na GPU (testado aqui na CPU): exato, bit a bit."""
    weights = torch.randn(10_000)
    base = disk_cache._device_checksum(weights)
    assert disk_cache._device_checksum(weights, chunk=333) == base
    for index in (0, 4_321, 9_999):
        changed = weights.clone()
        changed[index] = torch.nextafter(changed[index], torch.tensor(float("inf")))  # um ulp
        assert disk_cache._device_checksum(changed) != base
    swapped = weights.clone()
    swapped[[1, 2]] = weights[[2, 1]]  # mesma soma dos valores, outras posições
    assert disk_cache._device_checksum(swapped) != base
    assert disk_cache._device_checksum(weights.half()) != base
