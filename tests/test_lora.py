"""LoRA à mão: começa idêntico ao modelo-base, treina só os adaptadores, funde e salva exato."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from torch import nn

from llmdefinitions import GPTModel, add_classification_head, count_parameters, gpt2_config, save_classifier
from llmdefinitions.classifier import classification_logits
from llmdefinitions.lora import (
    LoRAError,
    LoRALinear,
    apply_lora,
    count_lora_parameters,
    load_lora,
    lora_parameters_per_layer,
    lora_state_dict,
    merge_lora,
    save_lora,
)
from llmdefinitions.model import tie_weights

CFG = {**gpt2_config("gpt2-small (124M)"), "vocab_size": 101, "emb_dim": 32, "n_heads": 4, "n_layers": 3,
       "context_length": 32}


def _classifier(seed=0):
    torch.manual_seed(seed)
    model = GPTModel(CFG).eval()
    return add_classification_head(model, seed=seed)


@pytest.fixture
def batch():
    torch.manual_seed(1)
    return torch.randint(0, CFG["vocab_size"], (4, 10))


def _logits(model, batch):
    with torch.no_grad():
        return classification_logits(model, batch, "last")


def _train_steps(model, batch, steps=3):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    targets = torch.tensor([0, 1, 0, 1])
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(classification_logits(model, batch, "last"), targets)
        loss.backward()
        optimizer.step()
    return model.eval()


def test_starts_identical_to_base_model(batch):
    model = _classifier()
    before = _logits(model, batch)
    wrapped = apply_lora(model, rank=4, alpha=8, blocks=2)
    assert wrapped[0] == "trf_blocks.1.att.W_query" and len(wrapped) == 2 * 6
    assert all(torch.count_nonzero(m.lora_B) == 0 for m in model.modules() if isinstance(m, LoRALinear))
    torch.testing.assert_close(_logits(model, batch), before, atol=0, rtol=0)


def test_only_adapters_and_head_get_gradients(batch):
    model = _classifier()
    apply_lora(model, rank=2, blocks=[0, -1], targets=("W_query", "W_value"))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {
        "trf_blocks.0.att.W_query.lora_A", "trf_blocks.0.att.W_query.lora_B",
        "trf_blocks.0.att.W_value.lora_A", "trf_blocks.0.att.W_value.lora_B",
        "trf_blocks.2.att.W_query.lora_A", "trf_blocks.2.att.W_query.lora_B",
        "trf_blocks.2.att.W_value.lora_A", "trf_blocks.2.att.W_value.lora_B",
        "out_head.weight", "out_head.bias",
    }
    classification_logits(model, batch, "last").sum().backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    assert with_grad == trainable
    no_head = _classifier()
    apply_lora(no_head, rank=2, train_head=False)
    assert not any(p.requires_grad for p in no_head.out_head.parameters())


def test_parameter_count_formula():
    model = _classifier()
    apply_lora(model, rank=4, blocks="all", targets=("W_key", "ff"))
    d = CFG["emb_dim"]
    per_block = sum(lora_parameters_per_layer(i, o, 4) for i, o in [(d, d), (d, 4 * d), (4 * d, d)])
    assert count_lora_parameters(model) == 3 * per_block == 3 * 4 * (2 * d + 5 * d + 5 * d)
    head = sum(p.numel() for p in model.out_head.parameters())
    assert count_parameters(model).trainable == count_lora_parameters(model) + head


def test_training_changes_logits_and_merge_is_exact(batch):
    model = _classifier()
    apply_lora(model, rank=4, alpha=16, blocks=2)
    base_weight = model.trf_blocks[2].att.W_query.linear.weight.clone()
    before = _logits(model, batch)
    _train_steps(model, batch)
    after = _logits(model, batch)
    assert not torch.allclose(before, after, atol=1e-4)
    assert torch.equal(model.trf_blocks[2].att.W_query.linear.weight, base_weight)  # base congelada

    layer = model.trf_blocks[2].att.W_value
    layer.merge()
    torch.testing.assert_close(_logits(model, batch), after, atol=1e-5, rtol=0)
    layer.unmerge()
    torch.testing.assert_close(_logits(model, batch), after, atol=1e-5, rtol=0)

    merge_lora(model)
    assert count_lora_parameters(model) == 0
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert type(model.trf_blocks[2].att.W_query) is nn.Linear
    torch.testing.assert_close(_logits(model, batch), after, atol=1e-5, rtol=0)


def test_save_and_load_adapter_only(tmp_path, batch):
    model = _classifier()
    apply_lora(model, rank=4, alpha=8, blocks=1, targets=("W_query", "W_value"))
    _train_steps(model, batch)
    expected = _logits(model, batch)
    path = tmp_path / "adapter.safetensors"
    info = save_lora(model, path, metadata={"val_acc": 0.9})
    assert info["rank"] == 4 and info["alpha"] == 8 and info["blocks"] == [2]
    assert info["targets"] == ["W_query", "W_value"]

    with safe_open(path, framework="pt") as handle:
        names = set(handle.keys())
    assert names == set(lora_state_dict(model, include_head=True))
    assert all("lora_" in name or name.startswith("out_head.") for name in names)
    full = tmp_path / "full.safetensors"
    save_classifier(model, full, approach="lora", max_length=10)
    assert path.stat().st_size < full.stat().st_size / 20

    fresh = _classifier(seed=0)  # mesmo modelo-base; a cabeça vem do arquivo
    torch.nn.init.zeros_(fresh.out_head.weight)
    apply_lora(fresh, rank=4, alpha=8, blocks=1, targets=("W_query", "W_value"))
    loaded = load_lora(fresh, path)
    assert loaded["user"] == {"val_acc": 0.9}
    torch.testing.assert_close(_logits(fresh, batch), expected, atol=0, rtol=0)


def test_load_rejects_mismatched_models_and_files(tmp_path):
    model = _classifier()
    apply_lora(model, rank=4, blocks=1)
    path = tmp_path / "adapter.safetensors"
    save_lora(model, path)

    with pytest.raises(LoRAError, match="não tem adaptadores LoRA.*apply_lora"):
        load_lora(_classifier(), path)
    other_blocks = _classifier()
    apply_lora(other_blocks, rank=4, blocks=[0])
    with pytest.raises(LoRAError, match="não correspondem"):
        load_lora(other_blocks, path)
    other_rank = _classifier()
    apply_lora(other_rank, rank=2, blocks=1)
    with pytest.raises(LoRAError, match="Formas diferentes"):
        load_lora(other_rank, path)
    other_alpha = _classifier()
    apply_lora(other_alpha, rank=4, alpha=4, blocks=1)
    with pytest.raises(LoRAError, match="alpha"):
        load_lora(other_alpha, path)

    not_adapter = tmp_path / "full.safetensors"
    save_classifier(model, not_adapter, approach="lora", max_length=10)
    with pytest.raises(LoRAError, match="não é um adaptador LoRA"):
        load_lora(other_rank, not_adapter)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"isto nao e safetensors")
    with pytest.raises(LoRAError, match="não é um arquivo safetensors válido"):
        load_lora(other_rank, garbage)
    with pytest.raises(LoRAError, match="não encontrado"):
        load_lora(other_rank, tmp_path / "nao-existe.safetensors")


def test_bad_arguments_have_clear_messages():
    linear = nn.Linear(4, 3)
    with pytest.raises(LoRAError, match="rank deve ser um inteiro positivo"):
        LoRALinear(linear, rank=0)
    with pytest.raises(LoRAError, match="alpha deve ser um número positivo"):
        LoRALinear(linear, rank=2, alpha=0)
    with pytest.raises(LoRAError, match="envolve uma nn.Linear"):
        LoRALinear(nn.LayerNorm(4))
    with pytest.raises(LoRAError, match="já tem um adaptador"):
        LoRALinear(LoRALinear(linear))
    model = _classifier()
    with pytest.raises(LoRAError, match="Alvos desconhecidos.*c_attn"):
        apply_lora(model, targets=("c_attn",))
    with pytest.raises(LoRAError, match="tem 3 blocos"):
        apply_lora(model, blocks=4)
    with pytest.raises(LoRAError, match="Índice de bloco inválido"):
        apply_lora(model, blocks=[3])
    with pytest.raises(LoRAError, match='blocks deve ser "all"'):
        apply_lora(model, blocks="last")
    apply_lora(model, blocks=1)
    before = count_lora_parameters(model)
    with pytest.raises(LoRAError, match=r"já têm um adaptador LoRA: \['trf_blocks.2.att.W_query'"):
        apply_lora(model, blocks=2)
    assert count_lora_parameters(model) == before  # nada foi trocado pela metade
    with pytest.raises(LoRAError, match="rank deve ser"):
        apply_lora(model, rank=-1, blocks=[0])
    merge_lora(model)
    assert isinstance(LoRAError("x"), ValueError)


def test_lora_blocks_work_in_the_trainable_tail(tokenizer):
    """LoRA nos últimos blocos + saídas congeladas pré-calculadas = o modelo completo."""
    import pandas as pd

    from llmdefinitions import SpamDataset, TrainableTail, frozen_outputs_loader, precompute_frozen_outputs

    torch.manual_seed(0)
    cfg = {**CFG, "vocab_size": gpt2_config("gpt2-small (124M)")["vocab_size"]}
    model = add_classification_head(GPTModel(cfg).eval())
    apply_lora(model, rank=2, blocks=2)
    for module in model.modules():  # B != 0, para o adaptador de fato mudar as contas
        if isinstance(module, LoRALinear):
            torch.nn.init.normal_(module.lora_B, std=0.5)
    frame = pd.DataFrame({"Text": ["Oi, tudo bem?", "GANHE um prêmio agora: responda SIM", "ok"], "Label": [0, 1, 0]})
    dataset = SpamDataset(frame, tokenizer)
    frozen = precompute_frozen_outputs(model, dataset, "cpu", n_trainable_blocks=2)
    tail = TrainableTail(model, n_trainable_blocks=2).eval()
    hidden_batch, _ = next(iter(frozen_outputs_loader(frozen, batch_size=3)))
    ids = torch.stack([dataset[i][0] for i in range(3)])
    with torch.no_grad():
        expected = classification_logits(model, ids, "last_real")
        torch.testing.assert_close(tail(hidden_batch), expected, atol=1e-5, rtol=1e-5)

    # Os gradientes dos adaptadores também são os mesmos pelos dois caminhos.
    adapters = {name: p for name, p in model.named_parameters() if "lora_" in name}
    classification_logits(model, ids, "last_real")[:, 1].sum().backward()
    full_grads = {name: p.grad.clone() for name, p in adapters.items()}
    model.zero_grad()
    tail(hidden_batch)[:, 1].sum().backward()
    for name, param in adapters.items():
        torch.testing.assert_close(param.grad, full_grads[name], atol=1e-5, rtol=1e-4, msg=name)


def test_tied_language_model_head_is_not_saved(tmp_path):
    torch.manual_seed(0)
    model = tie_weights(GPTModel(CFG))  # como no GPT-2 original
    apply_lora(model, rank=2, blocks=1, targets="W_query", train_head=False)
    info = save_lora(model, tmp_path / "lm.safetensors")
    with safe_open(tmp_path / "lm.safetensors", framework="pt") as handle:
        assert sorted(handle.keys()) == ["trf_blocks.2.att.W_query.lora_A", "trf_blocks.2.att.W_query.lora_B"]
    assert info["include_head"] is False
