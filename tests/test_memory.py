"""`memory`: a estimativa de memória do *fine-tuning* (números da aula) e a do LoRA."""

from __future__ import annotations

import pytest

from llmdefinitions import estimate_finetune_memory


def test_memory_estimate_reproduces_lecture_figure():
    est = estimate_finetune_memory(7e9)
    assert est.gb() == 112.0
    assert (est.gb("weights"), est.gb("gradients"), est.gb("optimizer")) == (28.0, 28.0, 56.0)
    assert [estimate_finetune_memory(7e9, weight_bits=b).gb() for b in (16, 8, 4)] == [56.0, 28.0, 14.0]
    # Base de 4 bits congelada + 1% treinável com gradientes e estados em 32 bits (estilo QLoRA).
    qlora = estimate_finetune_memory(7e9, weight_bits=4, trainable_params=7e7, grad_bits=32, optimizer_state_bits=32)
    assert qlora.gb() == pytest.approx(3.5 + 0.28 + 0.56)
    assert estimate_finetune_memory(100, optimizer="sgd").total_bytes == 800
    with pytest.raises(ValueError, match="Otimizador"):
        estimate_finetune_memory(100, optimizer="lion")
    with pytest.raises(ValueError):
        estimate_finetune_memory(100, trainable_params=200)


def test_lora_memory_estimate_only_adapters_carry_optimizer_state():
    from llmdefinitions.memory import estimate_lora_memory

    lora = 32 * 2 * 8 * (4096 + 4096)  # LLaMA-2 7B, posto 8 em consulta e valor
    est = estimate_lora_memory(7e9, lora, weight_bits=16)
    assert est.trainable_params == lora and est.num_params == 7e9 + lora
    assert est.gradients_bytes == lora * 4 and est.optimizer_bytes == lora * 2 * 4
    assert est.gb() == pytest.approx(14.0 + lora * 16 / 1e9)
    assert estimate_lora_memory(7e9, lora, weight_bits=4).gb() < 3.6 < estimate_finetune_memory(7e9).gb() / 30
    with pytest.raises(ValueError, match="lora_params"):
        estimate_lora_memory(100, 0)


def test_peak_memory_sees_what_the_block_allocates():
    """`PeakMemory` (usada em cada linha do laboratório) desconta o que já estava ocupado antes do bloco."""
    import torch

    from llmdefinitions.memory import PeakMemory

    with PeakMemory("cpu") as memory:
        big = torch.ones(64 * 2**20)  # 256 MiB, ainda vivo na saída do bloco
    assert big.numel() and 200 < memory.peak_mb < 2000


def test_peak_rss_is_the_peak_of_the_whole_process():
    """`peak_rss_mb` (a medida dos benchmarks) nunca fica abaixo da memória residente atual."""
    import psutil

    from llmdefinitions.memory import peak_rss_mb

    assert peak_rss_mb() >= 0.99 * psutil.Process().memory_info().rss / 2**20 > 0
