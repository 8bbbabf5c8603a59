"""`cuda_steps`: o laço com CUDA graphs dá os mesmos lotes e, fora da GPU, é o laço de sempre.

O que precisa de GPU (a gravação dos grafos) está em `tests/test_cuda.py`; aqui, o que roda na CPU.
"""

from __future__ import annotations

import copy

import torch

from llmdefinitions import (
    FrozenOutputs,
    GPTModel,
    ResidentLoader,
    TrainableTail,
    frozen_outputs_loader,
    gpt2_config,
    prepare_last_block,
    train_classifier_graphed,
    train_classifier_simple,
)
from llmdefinitions.cuda_steps import graphs_apply

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 2, "context_length": 64}


def synthetic_frozen(n_texts=40, dim=32, seed=0) -> FrozenOutputs:
    """Saídas congeladas inventadas (tamanhos de 1 a 30 tokens, um texto repetido): não precisam de modelo."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 31, (n_texts,), generator=generator).tolist()
    hidden = [torch.randn(length, dim, generator=generator) for length in lengths]
    hidden[1] = hidden[0]  # cópias compartilham o tensor, como em `store_outputs`
    labels = torch.randint(0, 2, (n_texts,), generator=generator).tolist()
    return FrozenOutputs(hidden, labels, n_trainable_blocks=1)


def batches_as_the_loop_reads_them(loader) -> list:
    """Épocas inteiras e avaliações que param no meio, como no laço de treino. (Cada loader é lido
    sozinho: o sorteio de uma época só termina quando ela é lida até o fim.)"""
    seen = []
    for stop in (None, 2, None, 1):
        for i, (batch, labels) in enumerate(loader):
            if stop is not None and i >= stop:
                break
            seen.append((batch.hidden, batch.lengths, labels))
    return seen


def test_resident_loader_gives_the_same_batches_in_the_same_order():
    frozen = synthetic_frozen()
    original = frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True, seed=7)
    resident = ResidentLoader(frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True, seed=7), "cpu")
    assert len(resident) == len(original)
    expected, got = batches_as_the_loop_reads_them(original), batches_as_the_loop_reads_them(resident)
    assert len(expected) == len(got) == 13
    for a, b in zip(expected, got):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert torch.equal(original.generator.get_state(), resident.order.generator.get_state())


def test_on_the_cpu_the_graphed_loop_is_the_plain_loop():
    frozen = synthetic_frozen()
    torch.manual_seed(0)
    model = prepare_last_block(GPTModel(TINY))
    results = []
    for train in (train_classifier_simple, train_classifier_graphed):
        trained = copy.deepcopy(model)
        loader = frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True, seed=3)
        optimizer = torch.optim.AdamW([p for p in trained.parameters() if p.requires_grad], lr=1e-3, fused=True)
        tail = TrainableTail(trained)
        assert not graphs_apply(tail, (loader, loader), optimizer, "cpu")
        history = train(tail, loader, frozen_outputs_loader(frozen, 8), optimizer, "cpu", 2, 3, 2, progress=False)
        results.append((history, trained.state_dict()))
    (history_a, weights_a), (history_b, weights_b) = results
    assert history_a == history_b
    assert all(torch.equal(weights_a[name], weights_b[name]) for name in weights_a)
