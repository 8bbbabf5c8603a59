"""O caminho CUDA funciona sem mudanças e dá o mesmo que a CPU (pulado sem GPU).

Rodado na máquina com GPU da equipe: `python -m pytest tests/test_cuda.py`.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from llmdefinitions import (
    GPTModel,
    TrainableTail,
    calc_accuracy_loader,
    classification_logits,
    classify_review,
    create_dataloaders,
    cuda_steps,
    extract_features,
    features,
    frozen_outputs_loader,
    generate_text_simple,
    get_device,
    gpt2_config,
    load_classifier,
    precompute_frozen_outputs,
    predict,
    prepare_last_block,
    save_classifier,
    train_classifier_graphed,
    train_classifier_simple,
)
from tests.test_cuda_steps import synthetic_frozen

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="sem GPU CUDA")

TINY = {**gpt2_config(), "emb_dim": 64, "n_heads": 4, "n_layers": 3, "context_length": 256}


def frame(n=64):
    rng = np.random.default_rng(0)
    spam = [f"WIN cash prize {i} call now {rng.integers(100)}" for i in range(n // 2)]
    ham = [f"see you at lunch {i} ok {rng.integers(100)}" for i in range(n // 2)]
    return pd.DataFrame({"Text": spam + ham, "Label": [1] * (n // 2) + [0] * (n // 2)}).sample(frac=1, random_state=0)


def trained_copy(device, tokenizer, data):
    torch.manual_seed(0)
    model = prepare_last_block(GPTModel(TINY)).to(device)
    train_loader, val_loader, test_loader = create_dataloaders(data, data, data, tokenizer, padding="dynamic")
    frozen = precompute_frozen_outputs(model, train_loader.dataset, device)
    loader = frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True, pin_memory=device.type == "cuda")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train_classifier_simple(TrainableTail(model), loader, loader, optimizer, device, 3, 5, 2, progress=False)
    return model, test_loader


def test_cuda_matches_cpu(tokenizer, tmp_path):
    cuda = get_device()
    assert cuda.type == "cuda"
    data = frame()
    gpu_model, test_loader = trained_copy(cuda, tokenizer, data)
    cpu_model, _ = trained_copy(torch.device("cpu"), tokenizer, data)
    with torch.no_grad():
        x, _ = next(iter(test_loader))
        diff = (classification_logits(gpu_model, x.to(cuda)).cpu() - classification_logits(cpu_model, x)).abs().max()
    assert diff < 1e-2  # TF32/cuBLAS x MKL: diferenças de arredondamento, não de função
    assert np.array_equal(predict(gpu_model, test_loader, cuda)[1], predict(cpu_model, test_loader, "cpu")[1])
    assert calc_accuracy_loader(test_loader, gpu_model, cuda) > 0.9
    assert classify_review("WIN cash prize 3 call now 7", gpu_model, tokenizer, cuda) == "spam"
    X_gpu, _ = extract_features(gpu_model, data, cuda, tokenizer=tokenizer)
    X_cpu, _ = extract_features(cpu_model, data, "cpu", tokenizer=tokenizer)
    assert np.abs(X_gpu - X_cpu).max() < 1e-2
    path = tmp_path / "gpu.safetensors"
    save_classifier(gpu_model, path, "último bloco", 30)
    loaded, _ = load_classifier(path, device=cuda)
    assert next(loaded.parameters()).device.type == "cuda"
    ids = torch.tensor([[464, 1110, 318]], device=cuda)
    lm = GPTModel(TINY).to(cuda).eval()
    assert generate_text_simple(lm, ids, 5, 256).shape == (1, 8)


def test_bf16_autocast_keeps_predictions(tokenizer):
    cuda = get_device()
    data = frame()
    model, test_loader = trained_copy(cuda, tokenizer, data)
    _, fp32 = predict(model, test_loader, cuda)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        _, bf16 = predict(model, test_loader, cuda)
    assert (fp32 == bf16).mean() >= 0.95


def test_gpu_merges_length_groups_with_the_same_outputs(tokenizer, monkeypatch):
    """Na GPU, a passada congelada junta tamanhos vizinhos num lote (padding à direita, até
    `DEVICE_BATCH_TOKENS` tokens): menos lotes, as mesmas saídas dos lotes sem padding."""
    monkeypatch.setenv("LLMDEFINITIONS_CACHE_DIR", "off")
    cuda = get_device()
    torch.manual_seed(0)
    model = GPTModel(TINY).to(cuda).eval()
    extra = pd.DataFrame({"Text": ["Hi", "ok see you at home later tonight then"], "Label": [0, 0]})
    texts = pd.concat([frame(), extra])
    dataset = create_dataloaders(texts, texts, texts, tokenizer, padding="dynamic")[0].dataset
    calls = []
    hook = model.trf_blocks[0].register_forward_hook(lambda _m, inputs, _o: calls.append(inputs[0].shape))
    merged = precompute_frozen_outputs(model, dataset, cuda, n_trainable_blocks=1)
    n_merged = len(calls)
    monkeypatch.setattr(features, "DEVICE_BATCH_TOKENS", 0)
    separate = precompute_frozen_outputs(model, dataset, cuda, n_trainable_blocks=1)
    hook.remove()
    assert n_merged < len(calls) - n_merged
    for a, b in zip(merged.hidden, separate.hidden):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_fingerprint_on_the_gpu_sees_one_weight_and_matches_the_cache(tokenizer, tmp_path, monkeypatch):
    from llmdefinitions import disk_cache

    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, str(tmp_path / "cache"))
    torch.manual_seed(0)
    model = GPTModel(TINY).to("cuda")
    before = disk_cache.module_fingerprint(model.trf_blocks[0])
    assert disk_cache.module_fingerprint(model.trf_blocks[0]) == before
    with torch.no_grad():
        weight = next(model.trf_blocks[0].parameters())
        weight.view(-1)[0] = torch.nextafter(weight.view(-1)[0], torch.tensor(float("inf"), device="cuda"))
    assert disk_cache.module_fingerprint(model.trf_blocks[0]) != before
    data = frame(16)
    dataset = create_dataloaders(data, data, data, tokenizer, padding="dynamic")[0].dataset
    first = precompute_frozen_outputs(model, dataset, "cuda")
    with disk_cache.cache_use() as use:
        again = precompute_frozen_outputs(model, dataset, "cuda")
    assert (use.hits, use.misses) == (1, 0)
    assert all(torch.equal(a, b) for a, b in zip(first.hidden, again.hidden))


def graphed_and_plain(n_blocks: int, drop_rate: float = 0.0):
    """Treina duas cópias do mesmo modelo nas mesmas saídas congeladas (inventadas), uma com cada laço;
    devolve, de cada uma, o histórico, os logits de todos os textos, o estado do gerador e o otimizador."""
    frozen = synthetic_frozen(n_texts=48, dim=TINY["emb_dim"])
    torch.manual_seed(0)
    start = prepare_last_block(GPTModel({**TINY, "drop_rate": drop_rate})).to("cuda")
    runs = []
    for train in (train_classifier_simple, train_classifier_graphed):
        model = copy.deepcopy(start)
        loader = frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True, seed=3)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, fused=True)
        tail = TrainableTail(model, n_blocks)
        history = train(tail, loader, frozen_outputs_loader(frozen, 8), optimizer, "cuda", 3, 4, 2, progress=False)
        with torch.no_grad():
            logits = torch.cat([tail(batch.to("cuda")) for batch, _ in frozen_outputs_loader(frozen, 8)])
        runs.append((history, logits, loader.generator.get_state(), optimizer))
    return runs


@pytest.mark.parametrize("n_blocks", [0, 1])
def test_graphed_loop_trains_the_same_model(n_blocks):
    """Os mesmos lotes, as mesmas avaliações e o mesmo modelo (a menos do arredondamento do padding).
    (Compara logits, não pesos: o gradiente do viés de K é zero na conta exata, só arredondamento, e o
    AdamW transforma esse ruído em passos do tamanho da taxa de aprendizado, sem efeito nas saídas.)"""
    graphs_before = cuda_steps.stats["graphs"]
    (history_a, logits_a, rng_a, _), (history_b, logits_b, rng_b, optimizer) = graphed_and_plain(n_blocks)
    assert cuda_steps.stats["graphs"] > graphs_before  # gravou de verdade
    assert torch.equal(rng_a, rng_b)  # o sorteio dos lotes andou igual
    for a, b in zip(history_a[:4], history_b[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert history_a[4] == history_b[4]
    torch.testing.assert_close(logits_a, logits_b, rtol=1e-4, atol=1e-4)
    assert not any(group["capturable"] for group in optimizer.param_groups)  # devolvido como estava


def test_graphed_forward_gives_the_same_logits():
    frozen = synthetic_frozen(n_texts=21, dim=TINY["emb_dim"])
    torch.manual_seed(0)
    tail = TrainableTail(prepare_last_block(GPTModel(TINY)).to("cuda").eval())
    graphed = cuda_steps.GraphedForward(tail, 8)
    with torch.no_grad():
        for batch, _ in frozen_outputs_loader(frozen, 8):  # 8 + 8 + 5 textos: o último completa linhas
            batch = batch.to("cuda")
            torch.testing.assert_close(graphed(batch), tail(batch), rtol=1e-5, atol=1e-5)
    assert len(graphed.graphs) == 1


def test_graphed_loop_falls_back_with_dropout():
    graphs_before = cuda_steps.stats["graphs"]
    (history_a, _, _, _), (history_b, _, _, _) = graphed_and_plain(1, drop_rate=0.1)
    assert cuda_steps.stats["graphs"] == graphs_before
    assert len(history_a[0]) == len(history_b[0])
