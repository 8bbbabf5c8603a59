"""Testes de llmdefinitions.classifier: o token classificado, as contagens das abordagens e a cauda treinável."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmdefinitions import (
    GPTModel,
    SpamDataset,
    TrainableTail,
    classification_logits,
    count_parameters,
    create_dataloaders,
    frozen_outputs_loader,
    gpt2_config,
    precompute_frozen_outputs,
    predict,
    prepare_head_only,
    prepare_last_block,
)
from llmdefinitions.classifier import MeanTail, blocks_at_real_tokens
from llmdefinitions.features import HiddenBatch
from llmdefinitions.model import remove_causal_mask, tie_weights
from tests.tiny_models import synthetic_frame, tiny_model

# ----------------------------------------------------------------------------- o token classificado

def test_dynamic_and_fixed_padding_give_same_predictions(tokenizer):
    frame = synthetic_frame()
    model = prepare_head_only(tiny_model())
    fixed = create_dataloaders(frame, frame, frame, tokenizer, padding="fixed")[2]
    dynamic = create_dataloaders(frame, frame, frame, tokenizer, padding="dynamic")[2]
    with torch.no_grad():
        logits_fixed = torch.cat([classification_logits(model, x) for x, _ in fixed])
        logits_dynamic = torch.cat([classification_logits(model, x) for x, _ in dynamic])
    torch.testing.assert_close(logits_fixed, logits_dynamic, atol=1e-5, rtol=1e-5)
    assert np.array_equal(predict(model, fixed, "cpu")[1], predict(model, dynamic, "cpu")[1])


def test_last_position_depends_on_padding(tokenizer):
    """A armadilha da aula: olhar a última posição lê um token de padding."""
    model = prepare_head_only(tiny_model())
    text = "win a free prize now"
    ids = tokenizer.encode(text)
    short = torch.tensor([ids + [50256] * 2])
    long = torch.tensor([ids + [50256] * 40])
    with torch.no_grad():
        same_real = classification_logits(model, short), classification_logits(model, long)
        diff_last = classification_logits(model, short, "last"), classification_logits(model, long, "last")
    torch.testing.assert_close(*same_real)
    assert (diff_last[0] - diff_last[1]).abs().max() > 1e-3


# ----------------------------------------------------------------------------- abordagens

def test_trainable_parameter_counts_gpt2_small():
    model = tie_weights(GPTModel(gpt2_config("gpt2-small (124M)")))
    assert count_parameters(model) == (124_439_808, 124_439_808)
    prepare_head_only(model)
    head_only = count_parameters(model)
    assert head_only.trainable == 768 * 2 + 2 == 1_538
    prepare_last_block(model)
    last_block = count_parameters(model)
    assert last_block.trainable == 1_538 + 7_087_872 + 1_536
    # A cabeça nova substitui a saída amarrada: o total cai para embeddings + blocos + norma + cabeça.
    assert last_block.total == 124_439_808 + 1_538
    assert round(last_block.fraction, 4) == 0.0570
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(n.startswith(("trf_blocks.11.", "final_norm.", "out_head.")) for n in names)


# ----------------------------------------------------------------------------- a cauda treinável

@pytest.mark.parametrize("n_trainable", [0, 1, 2])
def test_cached_tail_equals_full_forward(tokenizer, n_trainable):
    frame = synthetic_frame()
    model = prepare_last_block(tiny_model())
    data = SpamDataset(frame, tokenizer, pad=False)
    frozen = precompute_frozen_outputs(model, data, "cpu", n_trainable_blocks=n_trainable, batch_size=5)
    tail = TrainableTail(model, n_trainable)
    full_loader = create_dataloaders(frame, frame, frame, tokenizer, padding="fixed")[2]
    with torch.no_grad():
        expected = torch.cat([classification_logits(model, x) for x, _ in full_loader])
        got = torch.cat([classification_logits(tail, x) for x, _ in frozen_outputs_loader(frozen, batch_size=7)])
    assert (got - expected).abs().max().item() < 1e-5
    if n_trainable == 0:  # só o último token real é guardado
        assert all(h.shape[0] == 1 for h in frozen.hidden)


class WrappedLinear(torch.nn.Linear):
    """Um `nn.Linear` de outro tipo (como um adaptador): a cauda calcula K e V do jeito direto."""


@pytest.mark.parametrize("qkv_bias, wrapped", [(True, False), (False, False), (True, True)])
def test_tail_gradients_equal_full_model(tokenizer, qkv_bias, wrapped):
    """Treinar a cauda é treinar o modelo: mesma perda e mesmos gradientes em todo parâmetro
    treinável, embora a cauda nunca calcule K e V do último bloco (veja `last_block_at_last_token`)."""
    frame = synthetic_frame(n=12)
    model = prepare_last_block(tiny_model(qkv_bias=qkv_bias))
    if wrapped:
        att = model.trf_blocks[-1].att
        for name in ("W_key", "W_value"):
            layer = getattr(att, name)
            copy = WrappedLinear(layer.in_features, layer.out_features, bias=qkv_bias)
            copy.load_state_dict(layer.state_dict())
            setattr(att, name, copy)
    params = [p for p in model.parameters() if p.requires_grad]
    loaders = create_dataloaders(frame, frame, frame, tokenizer, batch_size=12, padding="fixed")
    full_inputs, labels = next(iter(loaders[2]))
    frozen = precompute_frozen_outputs(model, SpamDataset(frame, tokenizer, pad=False), "cpu")
    tail_inputs, tail_labels = next(iter(frozen_outputs_loader(frozen, batch_size=12)))
    assert tail_labels.tolist() == labels.tolist()
    losses, grads = [], []
    for module, inputs in ((model, full_inputs), (TrainableTail(model), tail_inputs)):
        loss = torch.nn.functional.cross_entropy(classification_logits(module, inputs), labels)
        losses.append(loss.item())
        grads.append(torch.autograd.grad(loss, params))
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    for param, full, tail in zip(params, *grads):
        torch.testing.assert_close(tail, full, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- só os tokens reais

def _padded_batch(lengths, emb_dim, seed=0):
    """Um lote (textos, tokens, dim) com zeros depois dos tokens reais, como `frozen_outputs_loader` monta."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.zeros(len(lengths), max(lengths), emb_dim)
    for row, length in enumerate(lengths):
        x[row, :length] = torch.randn(length, emb_dim, generator=generator)
    return x, torch.tensor(lengths)


def test_blocks_at_real_tokens_equal_padded_blocks_and_their_gradients():
    """Mesmas saídas nos tokens reais, zeros no preenchimento, e os mesmos gradientes nos pesos
    (em float64, para que a diferença de arredondamento entre as duas ordens de soma não esconda nada)."""
    model = tiny_model().double()
    blocks = model.trf_blocks
    x, lengths = _padded_batch([7, 2, 11, 1, 5], model.cfg["emb_dim"])
    x = x.double()
    real = torch.arange(x.shape[1]) < lengths[:, None]
    params = list(blocks.parameters())
    padded, packed = blocks(x), blocks_at_real_tokens(blocks, x, lengths)
    torch.testing.assert_close(packed[real], padded[real], atol=1e-10, rtol=1e-10)
    assert torch.equal(packed[~real], torch.zeros_like(packed[~real]))
    weights = torch.randn_like(x)  # uma perda que depende de cada token real
    grads = [torch.autograd.grad((out[real] * weights[real]).sum(), params) for out in (padded, packed)]
    for full, only_real in zip(*grads):
        torch.testing.assert_close(only_real, full, atol=1e-9, rtol=1e-9)


def test_blocks_at_real_tokens_without_causal_mask_keeps_the_padding():
    """Sem máscara causal o preenchimento influencia os tokens reais: a conta tem de ser a de sempre."""
    model = remove_causal_mask(tiny_model())
    x, lengths = _padded_batch([6, 3], model.cfg["emb_dim"])
    with torch.no_grad():
        assert torch.equal(blocks_at_real_tokens(model.trf_blocks, x, lengths), model.trf_blocks(x))


def test_mean_tail_equals_the_mean_over_padded_blocks():
    model = prepare_last_block(tiny_model())
    x, lengths = _padded_batch([4, 9, 1], model.cfg["emb_dim"], seed=1)
    real = (torch.arange(x.shape[1]) < lengths[:, None]).unsqueeze(-1)
    with torch.no_grad():
        hidden = model.final_norm(model.trf_blocks[-2:](x))
        expected = model.out_head((hidden * real).sum(dim=1) / lengths[:, None])
        got = MeanTail(model, 2)(HiddenBatch(x, lengths))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
