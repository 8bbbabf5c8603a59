"""O piso de um benchmark: quantas contas o código fez e quão depressa esta máquina as faria.

- `measure_matmul_gflops`: a velocidade de uma multiplicação de matrizes do tamanho de uma MLP
  do GPT-2 small, medida na máquina do benchmark;
- `FlopCounter`: soma as operações das camadas lineares que o código REALMENTE executou;
- piso = FLOPs / velocidade: o tempo mínimo daquele trabalho nesta máquina, se ela só
  multiplicasse matrizes. Usado por `bench_finetune.py`, `hf_path.py` e `bench_lab.py`.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook

from llmdefinitions import TrainableTail

MATMUL_SHAPE = (1024, 768, 3072)  # (m, k, n): o tamanho de uma camada MLP do GPT-2 small


def synchronize(device: torch.device) -> None:
    """Espera a GPU terminar (sem isso, o relógio mede só o lançamento dos kernels)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class Stopwatch:
    """Cronômetro (tempo de parede) que espera a GPU terminar antes de ler o relógio."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        synchronize(self.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        synchronize(self.device)
        self.seconds = time.perf_counter() - self.start


def measure_matmul_gflops(device: torch.device, dtype=torch.float32, rounds: int = 5) -> dict:
    """Velocidade de `torch.mm` (1024×768 @ 768×3072) nesta máquina, em GFLOP/s."""
    m, k, n = MATMUL_SHAPE
    a = torch.randn(m, k, device=device, dtype=dtype)
    b = torch.randn(k, n, device=device, dtype=dtype)
    repeats = 200 if device.type == "cuda" else 4
    with torch.inference_mode():
        for _ in range(3):  # aquecimento
            torch.mm(a, b)
        rates = []
        for _ in range(rounds):
            with Stopwatch(device) as watch:
                for _ in range(repeats):
                    torch.mm(a, b)
            rates.append(2 * m * k * n * repeats / watch.seconds / 1e9)
    return {"shape": f"{m}x{k} @ {k}x{n}", "dtype": str(dtype).removeprefix("torch."),
            "gflops_best": max(rates), "gflops_median": float(np.median(rates))}


class FlopCounter:
    """Conta as operações das camadas lineares do modelo (onde está quase todo o trabalho).

    Um `nn.Linear` com `linhas` vetores de entrada custa 2·linhas·entrada·saída FLOPs no forward.
    Se o peso é treinável e há gradiente, o backward custa o dobro (gradiente dos pesos e da
    entrada): 6·linhas·entrada·saída ao todo. Pesos congelados: só o forward. Conta o que o
    código REALMENTE executa, seja qual for a implementação (padding incluído). No último bloco
    da `TrainableTail`, K e V não passam por `nn.Linear`: `count_tail_attention` conta os
    produtos que os substituem. Não conta a atenção em si (QKᵀ e pesos·V), as LayerNorms e os
    embeddings: poucos por cento aqui.
    """

    def __init__(self, model=None):
        """Conta as camadas de `model`; com `model=None`, as de TODOS os modelos (um hook global do
        torch), como no laboratório, em que cada linha pode usar um modelo seu."""
        self.phase = "setup"
        self.flops: dict[str, int] = {}
        if model is None:
            self._handles = [register_module_forward_hook(self._count_any)]
        else:
            self._handles = [m.register_forward_hook(self._count) for m in model.modules() if isinstance(m, nn.Linear)]
        self.call_flops: dict[tuple, int] = {}  # (com gradiente?, (textos, tokens)) -> FLOPs de uma chamada
        self._call = None

    def track_calls(self, module) -> None:
        """Com CUDA graphs, um replay não passa pelos hooks: eles só veem o aquecimento (que roda de verdade
        e entra na conta) e a gravação (que não roda: fica fora da conta). Guardamos os FLOPs de uma
        chamada de `module` por forma do lote, e `add_replays` soma replays × FLOPs por chamada."""
        def before(_, inputs):
            self._call = (torch.is_grad_enabled(), tuple(inputs[0].hidden.shape[:2]))
            self.call_flops[self._call] = 0

        self._handles.append(module.register_forward_pre_hook(before))

    def add_replays(self, key: str, replays, grad: bool) -> None:
        """Soma à fase `key` os FLOPs dos replays (`cuda_steps.stats`: quantos por forma de lote)."""
        flops = sum(n * self.call_flops[(grad, shape)] for shape, n in replays.items())
        self.flops[key] = self.flops.get(key, 0) + flops

    def _count(self, module, inputs, output):
        self._add_linear(inputs[0], module.in_features, module.out_features, module.weight.requires_grad)

    def _count_any(self, module, inputs, output):
        if isinstance(module, nn.Linear):
            self._count(module, inputs, output)
        elif isinstance(module, TrainableTail):
            self._count_tail(module, inputs)

    def count_linear(self, module, in_features: int, out_features: int) -> None:
        """Conta também `module` como uma camada linear `in_features → out_features` que não é um
        `nn.Linear` (ex.: o `Conv1D` do GPT-2 do Hugging Face, com o peso transposto)."""
        def hook(layer, inputs, output):
            self._add_linear(inputs[0], in_features, out_features, layer.weight.requires_grad)

        self._handles.append(module.register_forward_hook(hook))

    def _add_linear(self, x, in_features: int, out_features: int, trainable: bool) -> None:
        flops = 2 * (x.numel() // in_features) * in_features * out_features
        self._add(flops * 3 if torch.is_grad_enabled() and trainable else flops)

    def count_tail_attention(self, module) -> None:
        """Conta também o último bloco de `module`, se for uma `TrainableTail` (veja `_count_tail`)."""
        if isinstance(module, TrainableTail):
            hook = module.register_forward_hook(lambda tail, inputs, output: self._count_tail(tail, inputs))
            self._handles.append(hook)

    def _count_tail(self, tail: TrainableTail, inputs) -> None:
        """Na `TrainableTail`, K e V do último bloco não passam por `nn.Linear`: a conta foi
        reordenada na CPU (veja `classifier.last_block_at_last_token`). Contamos à mão os produtos que os
        substituem: W_kᵀq e W_v(Σ a_t h_t) (2·dim² cada, por texto) e os dois produtos por
        token e cabeça (2·cabeças·tokens·dim cada). Ficam na mesma fase do resto."""
        if len(tail.blocks) == 0 or inputs[0].hidden.device.type != "cpu":
            return  # fora da CPU, K e V passam pelos nn.Linear (caminho direto): os hooks já os contam
        att = tail.blocks[-1].att
        if not (type(att.W_key) is nn.Linear and type(att.W_value) is nn.Linear):
            return  # K e V calculados do jeito direto: os hooks dos nn.Linear já os contam
        batch, tokens, dim = inputs[0].hidden.shape
        flops = 4 * batch * dim * dim + 4 * batch * att.num_heads * tokens * dim
        self._add(flops * (3 if torch.is_grad_enabled() else 1))

    def _add(self, flops: int) -> None:
        if self._call is not None:
            self.call_flops[self._call] += flops
            if torch.cuda.is_available() and torch.cuda.is_current_stream_capturing():
                return  # gravar um grafo não executa nada; os replays são somados por `add_replays`
        key = self.phase
        if key == "training":
            key = "training_steps" if torch.is_grad_enabled() else "training_evals"
        self.flops[key] = self.flops.get(key, 0) + flops

    def remove(self):
        for handle in self._handles:
            handle.remove()
