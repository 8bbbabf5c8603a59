"""O laboratório (`lab.py`): mesma função que o modelo completo, uma passada congelada por grupo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmdefinitions import GPTModel, classification_logits, gpt2_config
from llmdefinitions import frozen_cache as frozen_cache_module
from llmdefinitions.classifier import FullModelClassifier
from llmdefinitions.experiments import DEFAULT_MODEL, Experiment, ExperimentError, default_experiments
from llmdefinitions.lab import ExperimentLab, run_experiment, run_experiments
from llmdefinitions.model import tie_weights

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 3, "context_length": 64}
WORDS = ["free", "prize", "call", "now", "hi", "mum", "see", "you", "later", "win", "cash", "ok", "lunch"]


def tiny_model(seed=0):
    torch.manual_seed(seed)
    model = GPTModel(TINY)
    with torch.no_grad():  # pesos maiores que o padrão: as diferenças aparecem
        for p in model.parameters():
            p.mul_(3.0)
    return tie_weights(model).eval()


def frame(n, seed):
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 20))) for _ in range(n)]
    return pd.DataFrame({"Text": texts, "Label": rng.integers(0, 2, size=n)})


@pytest.fixture(scope="module")
def data():
    return frame(40, 1), frame(12, 2), frame(12, 3)


def make_lab(data, tokenizer, **options):
    return ExperimentLab(data, tokenizer=tokenizer, device="cpu", models={DEFAULT_MODEL: tiny_model()}, **options)


def quick(name, **fields):
    return Experiment(name, **{"epochs": 1, **fields})


# ----------------------------------------------------------------------------- a passada congelada compartilhada

def test_rows_sharing_the_frozen_part_make_one_pass(data, tokenizer, monkeypatch):
    calls = []
    original = frozen_cache_module.precompute_frozen_outputs

    def counting(model, dataset, device, n_trainable_blocks=1, **kw):
        calls.append(n_trainable_blocks)
        return original(model, dataset, device, n_trainable_blocks=n_trainable_blocks, **kw)

    monkeypatch.setattr(frozen_cache_module, "precompute_frozen_outputs", counting)
    lab = make_lab(data, tokenizer)
    rows = [quick("1 bloco", trainable_blocks=1), quick("2 blocos", trainable_blocks=2),
            quick("cabeça", trainable_blocks=0), quick("média", token_position="mean"),
            quick("média, cabeça", token_position="mean", trainable_blocks=0),
            quick("lora", lora_rank=2, lora_blocks=1, lr=1e-3)]
    table = run_experiments(rows, lab=lab, progress=False)
    assert calls == [2]  # uma passada (treino, validação e teste juntos) com 2 blocos de fora
    assert lab.cache.frozen_passes == 1 and lab.cache.advances == 2  # 2 -> 1 -> 0 blocos de fora
    assert table["reused_frozen"].tolist() == [False, True, True, True, True, True]
    assert table.loc["1 bloco", "frozen_s"] > 0 and table.loc["2 blocos", "frozen_s"] == 0


def test_different_tokens_or_weights_get_their_own_pass(data, tokenizer):
    lab = make_lab(data, tokenizer)
    rows = [quick("real"), quick("primeiro", token_position="first"),
            quick("última", token_position="last", padding="longest"), quick("aleatório", pretrained=False)]
    run_experiments(rows, lab=lab, progress=False)
    assert lab.cache.frozen_passes == 4
    assert {group[1][0] for group in lab.plan} == {"real", "first", "padded"}
    assert lab.cache.keys() == []  # cada grupo é liberado depois da sua última linha
    assert set(lab.models) == {DEFAULT_MODEL}  # e o modelo aleatório também


# ----------------------------------------------------------------------------- a mesma função do modelo completo

CONFIGS = [
    dict(token_position="last_real", trainable_blocks=0), dict(token_position="last_real", trainable_blocks=1),
    dict(token_position="last_real", trainable_blocks=2),
    dict(token_position="last", padding="longest", trainable_blocks=1),
    dict(token_position="last", padding=25, trainable_blocks=0), dict(token_position="first", trainable_blocks=1),
    dict(token_position="first", trainable_blocks=0), dict(token_position="mean", trainable_blocks=0),
    dict(token_position="mean", trainable_blocks=2),
    dict(lora_rank=4, lora_blocks=2), dict(lora_rank=4, lora_blocks=[1], token_position="mean"),
]


@pytest.mark.parametrize("fields", CONFIGS, ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()))
def test_tail_logits_equal_full_forward(data, tokenizer, fields):
    lab = make_lab(data, tokenizer)
    exp = quick("x", **fields)
    base = lab.check(exp)
    model = lab.prepare(exp, base)
    if exp.uses_lora:  # B = 0 no início: uma correção não nula testa o caminho do adaptador
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.5)
    n_tail = exp.tail_blocks(3)
    _, frozen_loaders = lab.frozen_loaders(exp, base, n_tail)
    tail = lab.tail(exp, model, n_tail)
    _, full_loaders = lab.full_loaders(exp)
    full = FullModelClassifier(model, exp.token_position)
    with torch.no_grad():
        got = torch.cat([classification_logits(tail, x) for x, _ in frozen_loaders["test"]])
        expected = torch.cat([classification_logits(full, x) for x, _ in full_loaders["test"]])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_full_model_classifier_reads_the_chosen_token(tokenizer):
    model = tiny_model()
    ids = torch.tensor([tokenizer.encode("win cash now") + [50256] * 4])
    with torch.no_grad():
        logits = model(ids)[0]
        assert torch.equal(FullModelClassifier(model, "last")(ids)[0], logits[-1])
        assert torch.equal(FullModelClassifier(model, "first")(ids)[0], logits[0])
        assert torch.equal(FullModelClassifier(model, "last_real")(ids), classification_logits(model, ids))
        torch.testing.assert_close(FullModelClassifier(model, "mean")(ids)[0], logits[:3].mean(0))


def test_short_training_same_as_full_model(data, tokenizer):
    exp = Experiment("dois blocos", trainable_blocks=2, epochs=2, lr=1e-3)
    results, heads = {}, {}
    for reuse in (True, False):
        lab = make_lab(data, tokenizer, reuse_frozen=reuse)
        base = lab.models[DEFAULT_MODEL]
        before = {name: p.detach().clone() for name, p in base.named_parameters()}
        results[reuse] = run_experiment(exp, lab=lab, keep_model=True)
        heads[reuse] = lab.last_model.out_head.weight.detach()
        assert all(torch.equal(p, before[name]) for name, p in base.named_parameters())  # o de partida não treina
        assert not torch.equal(lab.last_model.trf_blocks[-1].ff.fc1.weight, base.trf_blocks[-1].ff.fc1.weight)
    assert results[False].full_model and not results[True].full_model
    for split in ("train_acc", "val_acc", "test_acc"):
        assert getattr(results[True], split) == getattr(results[False], split)
    torch.testing.assert_close(heads[True], heads[False], atol=1e-5, rtol=1e-4)
    assert results[True].trainable_params == results[False].trainable_params


# ----------------------------------------------------------------------------- LoRA, pesos aleatórios, tabela

def test_lora_row_trains_only_adapters_and_head(data, tokenizer):
    from llmdefinitions.lora import count_lora_parameters

    lab = make_lab(data, tokenizer)
    exp = quick("lora", lora_rank=2, lora_blocks=2, lr=1e-2)
    result = run_experiment(exp, lab=lab, keep_model=True)
    model = lab.last_model
    head = sum(p.numel() for p in model.out_head.parameters())
    assert result.trainable_params == count_lora_parameters(model) + head
    base = dict(lab.models[DEFAULT_MODEL].named_parameters())
    for name, param in model.named_parameters():
        original = name.replace(".linear.", ".")
        if "lora_" in name or name.startswith("out_head."):
            continue
        assert torch.equal(param, base[original]), f"{name} mudou, mas deveria estar congelado"
    assert any(p.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)


def test_random_weights_row_uses_other_weights(data, tokenizer):
    lab = make_lab(data, tokenizer)
    row = quick("aleatório", pretrained=False)
    random_model = lab.base_model(row)
    pretrained = lab.models[DEFAULT_MODEL]
    assert row.model_key[1].startswith("aleatório") and lab.models[row.model_key] is random_model
    assert not torch.equal(random_model.trf_blocks[0].att.W_query.weight, pretrained.trf_blocks[0].att.W_query.weight)
    table = run_experiments([quick("pré"), quick("aleatório", pretrained=False)], lab=lab, progress=False)
    assert table.loc["pré", "train_acc"] != table.loc["aleatório", "train_acc"] or \
        table.loc["pré", "val_acc"] != table.loc["aleatório", "val_acc"]


def test_table_columns_and_reference(data, tokenizer):
    lab = make_lab(data, tokenizer)
    rows = default_experiments(epochs=1)[:2]
    table = run_experiments(rows, lab=lab, progress=False)
    for column in ("setup", "train_acc", "val_acc", "test_acc", "n_test", "trainable_params", "total_params",
                   "frozen_s", "train_s", "total_s", "peak_memory_mb", "slow", "skipped", "ref_row", "ref_test_acc"):
        assert column in table.columns
    assert list(table.index) == [r.name for r in rows]
    assert table["ref_row"].tolist() == [16, 1] and table.loc[rows[1].name, "ref_test_acc"] == 0.95
    assert (table["test_acc"].between(0, 1)).all() and not table["slow"].any()


# ----------------------------------------------------------------------------- erros e linhas puladas

@pytest.mark.parametrize("fields, message", [
    (dict(token_position="meio"), "token_position"),
    (dict(trainable_blocks=7), "trainable_blocks"),
    (dict(token_position="last"), "padding fixo"),
    (dict(causal_mask=False), "máscara causal"),
    (dict(lora_rank=4, trainable_blocks=1), "congelados"),
    (dict(lora_rank=4, lora_blocks=9), "lora_blocks"),
    (dict(padding="curto"), "padding"),
    (dict(model_name="gpt2-mini"), "model_name"),
    (dict(epochs=0), "epochs"),
])
def test_bad_experiment_is_explained_in_portuguese(data, tokenizer, fields, message):
    lab = make_lab(data, tokenizer)
    with pytest.raises(ExperimentError, match=message):
        run_experiments([quick("bom"), quick("ruim", **fields)], lab=lab, progress=False)
    assert lab.cache.frozen_passes == 0  # nada treinou antes do erro


def test_repeated_names_are_rejected(data, tokenizer):
    with pytest.raises(ExperimentError, match="repetidos"):
        run_experiments([quick("a"), quick("a")], lab=make_lab(data, tokenizer), progress=False)


def test_rows_that_cannot_run_here_are_skipped_with_reason(data, tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # Sessão limpa: um teste anterior (test_offline) pode ter deixado o modo de demonstração ligado.
    monkeypatch.setattr("llmdefinitions.course._state", {"model": None, "data": None})
    lab = make_lab(data, tokenizer, models_dir=tmp_path)
    rows = [quick("pequeno"), quick("médio", model_name="gpt2-medium (355M)"),
            quick("1024", token_position="last", padding=1024)]
    table = run_experiments(rows, lab=lab, progress=False)
    assert table.loc["pequeno", "skipped"] == ""
    assert "pulada" in table.loc["médio", "skipped"] and "pesos" in table.loc["médio", "skipped"]
    assert "contexto" in table.loc["1024", "skipped"] and pd.isna(table.loc["1024", "test_acc"])


def test_training_uses_the_fused_adamw_on_cpu(data, tokenizer, monkeypatch):
    """O AdamW fundido faz a mesma atualização numa passada só pela memória: na CPU, o laboratório o usa."""
    options, real_adamw = [], torch.optim.AdamW

    def recording_adamw(params, **kwargs):
        options.append(kwargs)
        return real_adamw(params, **kwargs)

    monkeypatch.setattr(torch.optim, "AdamW", recording_adamw)
    make_lab(data, tokenizer).run(quick("fundido"))
    assert options and all(kwargs.get("fused") is True for kwargs in options)
