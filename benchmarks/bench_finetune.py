#!/usr/bin/env python
"""Benchmark: o fine-tuning da aula (ingênuo) contra o caminho do projeto.

Na aula, treinar o último bloco do GPT-2 small (abordagem 3) levou 60,93 min no computador da
aula (a aula não diz qual). Quase todo esse tempo é gasto recalculando, a cada passo, a saída dos 11 blocos
congelados, que nunca muda. Este script mede, na mesma máquina e na mesma execução:

1. `naive`: o laço como a aula o roda (padding fixo, modelo inteiro a cada passo);
2. `ours`: o padrão do projeto (saídas congeladas calculadas uma vez + `TrainableTail`);
3. `approach2`: só a cabeça treinada, sobre o vetor do último token pré-calculado;
4. `approach1`: features congeladas + RandomForest (e regressão logística) do scikit-learn.

Cada caminho roda num subprocesso próprio (`--only NOME`), para que o pico de memória
(RSS) medido seja só dele. O processo principal junta os resultados, compara as previsões
de `naive` e `ours` (devem coincidir: a função calculada é a mesma) e estima o "piso" de
cada caminho: as operações de ponto flutuante (FLOPs) necessárias divididas pela
velocidade de multiplicação de matrizes medida nesta máquina.

Uso (da raiz do repositório):
    python benchmarks/bench_finetune.py --json benchmarks/results/cpu.json
    python benchmarks/bench_finetune.py --epochs 1 --naive-epochs 1      # validação rápida
    python benchmarks/bench_finetune.py --naive-epochs 1                  # ingênuo extrapolado
    python benchmarks/bench_finetune.py --device cuda --amp bf16
    python benchmarks/bench_finetune.py --sweep-threads 1,2               # só o pré-cálculo
    python benchmarks/bench_finetune.py --paths ours --naive-from benchmarks/results/cpu-2-nucleos.json
                                                                          # ingênuo já medido
    python benchmarks/bench_finetune.py --tiny --epochs 1 --limit-train 64 --limit-val 16 --limit-test 16

Nenhum tempo aqui é uma asserção: são medidas, e dependem da máquina e da carga dela.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # `common` e `version`, ao lado deste script
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import hf_path  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import (  # noqa: E402
    COLD_CACHE,
    REPO_ROOT,
    SEED,
    add_engine_arguments,
    add_model_and_data_arguments,
    cold_cache,
    format_seconds,
    machine_info,
    resolve_device,
    spam_splits,
    starting_model,
    write_json,
)
from roofline import FlopCounter, Stopwatch, measure_matmul_gflops, synchronize  # noqa: E402

from llmdefinitions import (  # noqa: E402
    PAD_TOKEN_ID,
    HiddenBatch,
    ResidentLoader,
    TrainableTail,
    calc_accuracy_loader,
    create_dataloaders,
    cuda_steps,
    disk_cache,
    extract_features,
    features,
    frozen_outputs_loader,
    get_tokenizer,
    precompute_frozen_outputs,
    prepare_head_only,
    prepare_last_block,
    train_classifier_graphed,
    train_classifier_simple,
)
from llmdefinitions.memory import peak_rss_mb  # noqa: E402

# --------------------------------------------------------------------------- constantes

LECTURE_MINUTES = 60.93  # o treino da abordagem 3 na aula, no computador da aula (não diz qual)
# Configurações do treino da aula (as mesmas para todos os caminhos).
LEARNING_RATE, WEIGHT_DECAY = 5e-5, 0.1
EVAL_FREQ, EVAL_ITER = 50, 5
FROZEN_BATCH_SIZE = 32  # lote do pré-cálculo (até 32 textos distintos do mesmo tamanho)
PATHS = ("naive", "ours", "approach2", "approach1", "hf")
PATH_LABELS = {
    "naive": "ingênuo (aula)",
    "ours": "projeto (abord. 3)",
    "approach2": "abordagem 2",
    "approach1": "abordagem 1 (RF)",
    "hf": "Hugging Face (abord. 3)",
}


# --------------------------------------------------------------------------- linha de comando

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Mede o fine-tuning da aula (ingênuo) contra o caminho do projeto.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run = parser.add_argument_group("o que rodar")
    run.add_argument("--paths", default=",".join(PATHS),
                     help=f"caminhos a medir, separados por vírgula ({', '.join(PATHS)})")
    run.add_argument("--only", choices=PATHS + ("precompute",),
                     help="roda um só caminho neste processo (é o que cada subprocesso faz)")
    run.add_argument("--sweep-threads", nargs="?", const="1,2", default=None, metavar="LISTA",
                     help="só mede o pré-cálculo congelado para cada número de threads (ex.: 1,2)")
    run.add_argument("--json", type=Path, help="grava os resultados neste arquivo JSON")
    run.add_argument("--in-process", action="store_true",
                     help="roda os caminhos no próprio processo (testes rápidos); "
                          "o pico de RSS deixa de ser por caminho")
    run.add_argument("--verbose", action="store_true", help="mostra as linhas do laço de treino")
    run.add_argument("--naive-from", type=Path, default=None, metavar="JSON",
                     help="não roda o ingênuo: reaproveita a medição dele gravada num JSON anterior deste script "
                          "(mesmas configurações; a razão diz de onde veio)")

    train = parser.add_argument_group("treino")
    train.add_argument("--epochs", type=int, default=5, help="épocas dos caminhos do projeto")
    train.add_argument("--naive-epochs", type=int, default=None,
                       help="épocas do ingênuo (padrão: = --epochs); menos épocas => também extrapola")
    train.add_argument("--hf-epochs", type=int, default=None,
                       help="épocas do caminho hf (padrão: = --epochs); menos épocas => também extrapola")
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--adamw", default="fused", choices=("fused", "foreach", "for-loop"),
                       help="implementação do AdamW (a mesma conta; 'fused' faz tudo num só kernel por passo), "
                            "igual para todos os caminhos")

    engine = parser.add_argument_group("motor")
    add_engine_arguments(engine)
    engine.add_argument("--amp", default="off", choices=("off", "bf16", "fp16"),
                        help="torch.autocast no pré-cálculo, no treino e na avaliação")
    engine.add_argument("--pin-memory", default="auto", choices=("auto", "on", "off"),
                        help="pin_memory dos loaders de saídas pré-calculadas (auto = só em CUDA)")
    engine.add_argument("--batch-tokens", type=int, default=None,
                        help="tokens por lote da passada congelada fora da CPU, contando o padding "
                             f"(padrão do pacote: {features.DEVICE_BATCH_TOKENS}; 0 = só textos do mesmo tamanho)")
    engine.add_argument("--cuda-graphs", default="on", choices=("on", "off"),
                        help="em CUDA, os caminhos do projeto treinam com train_classifier_graphed (cada passo "
                             "num CUDA graph, saídas congeladas residentes na GPU); off = train_classifier_simple")
    engine.add_argument("--bucket-tokens", type=int, default=None,
                        help="com --cuda-graphs on: lotes de treino completados até múltiplos deste número de tokens "
                             f"(um grafo por comprimento; padrão do pacote: {cuda_steps.BUCKET_TOKENS})")
    engine.add_argument("--no-cudnn-sdpa", action="store_true",
                        help="desliga o backend cuDNN da atenção (SDPA) em CUDA; com --amp bf16 numa H100, "
                             "ele deixou o treino do projeto ~5x mais lento (lotes de comprimentos variados)")

    data = parser.add_argument_group("modelo e dados")
    add_model_and_data_arguments(data)
    for split in ("train", "val", "test"):
        data.add_argument(f"--limit-{split}", type=int, default=None, help=f"usa só os N primeiros textos de {split}")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.naive_epochs is None:
        args.naive_epochs = args.epochs
    args.hf_epochs = args.epochs if args.hf_epochs is None else args.hf_epochs
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = sorted(set(args.paths) - set(PATHS))
    if unknown:
        raise SystemExit(f"Caminhos desconhecidos: {unknown}. Opções: {', '.join(PATHS)}.")
    if args.epochs < 1 or args.naive_epochs < 1 or args.hf_epochs < 1:
        raise SystemExit("--epochs, --naive-epochs e --hf-epochs precisam ser >= 1.")
    args.paths = hf_path.available_paths(args.paths)
    return args


def child_argv(args: argparse.Namespace, only: str, json_path: Path, **overrides) -> list[str]:
    """Linha de comando de um subprocesso: as mesmas opções, um caminho só."""
    values = {**vars(args), **overrides}
    argv = [sys.executable, str(Path(__file__).resolve()), "--only", only, "--json", str(json_path),
            "--epochs", str(values["epochs"]), "--naive-epochs", str(values["naive_epochs"]),
            "--hf-epochs", str(values["hf_epochs"]),
            "--batch-size", str(values["batch_size"]), "--adamw", values["adamw"], "--device", values["device"],
            "--amp", values["amp"], "--pin-memory", values["pin_memory"], "--cuda-graphs", values["cuda_graphs"],
            "--data-dir", str(values["data_dir"])]
    for option in ("threads", "batch_tokens", "bucket_tokens", "models_dir", "spam_zip", "limit_train", "limit_val",
                   "limit_test"):
        if values[option] is not None:
            argv += ["--" + option.replace("_", "-"), str(values[option])]
    for flag in ("tiny", "verbose", "no_cudnn_sdpa"):
        argv += ["--" + flag.replace("_", "-")] * bool(values[flag])
    return argv


# --------------------------------------------------------------------------- motor: dispositivo, threads, AMP

def configure_engine(args) -> torch.device:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.no_cudnn_sdpa:
        torch.backends.cuda.enable_cudnn_sdp(False)
    if args.batch_tokens is not None:
        features.DEVICE_BATCH_TOKENS = args.batch_tokens
    if args.bucket_tokens is not None:
        cuda_steps.BUCKET_TOKENS = args.bucket_tokens
    return resolve_device(args.device)


def amp_dtype(args):
    return {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.amp]


def autocast(args, device: torch.device):
    """`torch.autocast` com o dtype pedido, ou um contexto que não faz nada (`--amp off`)."""
    dtype = amp_dtype(args)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def adamw_options(args, device: torch.device) -> dict:
    """Opções do `torch.optim.AdamW` para `--adamw`: a mesma atualização, três implementações.
    'for-loop' passa parâmetro a parâmetro, operação a operação (o padrão do torch na CPU);
    'foreach' junta os parâmetros em cada operação; 'fused' faz a atualização inteira num kernel."""
    if args.adamw == "fused" and device.type not in ("cpu", "cuda"):
        return {"foreach": True}
    return {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}[args.adamw]


def use_pin_memory(args, device: torch.device) -> bool:
    return args.pin_memory == "on" or (args.pin_memory == "auto" and device.type == "cuda")


# --------------------------------------------------------------------------- modelo e dados

def weights_fingerprint(model) -> float:
    """Um número que muda se os pesos mudarem: confere que os caminhos partem do mesmo modelo.
    (Somas sem cópias dos tensores, para não inflar o pico de memória que medimos.)"""
    with torch.no_grad():
        return sum((i + 1) * p.sum().item() for i, p in enumerate(model.parameters()))


def load_splits(args):
    """(train_df, val_df, test_df) do conjunto de dados real, opcionalmente cortados para testes rápidos."""
    splits = spam_splits(args.data_dir, args.spam_zip)
    limits = (args.limit_train, args.limit_val, args.limit_test)
    return tuple(df if limit is None else df.iloc[:limit].reset_index(drop=True)
                 for df, limit in zip(splits, limits))


# --------------------------------------------------------------------------- instrumentação

class ForwardRecorder:
    """Observa as chamadas de `forward` do módulo treinado sem mudar o que ele calcula.

    Separa as chamadas com gradiente (passos de treino) das sem gradiente (avaliações),
    conta lotes e tokens (com padding e reais) e mede o tempo gasto nas avaliações.
    Com `capture=True`, guarda os logits (lote, classes) de cada texto.
    """

    def __init__(self, module, device: torch.device):
        self.device = device
        self.capture = False
        self.reset()
        self._handles = [module.register_forward_pre_hook(self._before),
                         module.register_forward_hook(self._after)]

    def reset(self):
        self.counts = {"train_batches": 0, "train_tokens": 0, "eval_batches": 0, "eval_tokens": 0}
        # Somas de tensores, lidas só no fim: ler um número da GPU a cada passo a faria esperar.
        self.real_tokens = {"train": 0, "eval": 0}
        self.eval_seconds = 0.0
        self.logits = []

    def work(self) -> dict:
        """Contadores até aqui: lotes, tokens (com padding), tokens reais, tempo das avaliações."""
        real = {f"{kind}_real_tokens": int(total) for kind, total in self.real_tokens.items()}
        return {**self.counts, **real, "eval_seconds": self.eval_seconds}

    @staticmethod
    def _lengths(batch) -> torch.Tensor:
        if isinstance(batch, HiddenBatch):
            return batch.lengths
        return (batch != PAD_TOKEN_ID).sum(dim=1)

    def _before(self, module, inputs):
        batch = inputs[0]
        shape = batch.hidden.shape if isinstance(batch, HiddenBatch) else batch.shape
        kind = "train" if torch.is_grad_enabled() else "eval"
        self.counts[f"{kind}_batches"] += 1
        self.counts[f"{kind}_tokens"] += int(shape[0] * shape[1])
        self.real_tokens[kind] = self._lengths(batch).sum() + self.real_tokens[kind]
        if kind == "eval":
            synchronize(self.device)
            self._start = time.perf_counter()

    def _after(self, module, inputs, output):
        if torch.is_grad_enabled():
            return
        synchronize(self.device)
        self.eval_seconds += time.perf_counter() - self._start
        if self.capture:
            if output.dim() == 3:  # modelo completo: um logit por posição -> o do último token real
                positions = self._lengths(inputs[0]).to(output.device) - 1
                output = output[torch.arange(output.shape[0], device=output.device), positions]
            self.logits.append(output.detach().float().cpu())

    def remove(self):
        for handle in self._handles:
            handle.remove()


def frozen_token_counts(datasets) -> dict:
    """Tokens reais dos textos, e tokens que o pré-cálculo processa: ele passa os conjuntos juntos
    e cada texto distinto uma vez só, sem padding (textos repetidos, mesmo em conjuntos diferentes,
    não voltam a passar)."""
    texts = [ids for dataset in datasets for ids in dataset.encoded_texts]
    distinct = {tuple(ids) for ids in texts}
    return {"real_tokens": sum(len(ids) for ids in texts), "tokens": sum(len(ids) for ids in distinct)}


def split_sets(loaders) -> dict:
    """Os conjuntos de dados dos três loaders (treino, validação, teste), num dicionário: passam juntos
    pela parte congelada, como nos notebooks."""
    return {split: loader.dataset for split, loader in zip(("train", "val", "test"), loaders)}


def loop_schedule(n_train_batches: int, n_val_batches: int, epochs: int) -> dict:
    """Quantos passos e lotes de avaliação `train_classifier_simple` faz (com EVAL_FREQ/EVAL_ITER).

    Avalia as perdas nos passos 0, EVAL_FREQ, 2·EVAL_FREQ... e as acurácias no fim de cada época;
    cada avaliação usa até EVAL_ITER lotes do treino e EVAL_ITER da validação.
    """
    steps = epochs * n_train_batches
    per_evaluation = min(EVAL_ITER, n_train_batches) + min(EVAL_ITER, n_val_batches)
    loss_evaluations = len(range(0, steps, EVAL_FREQ))
    return {"train_batches": steps, "eval_batches": (loss_evaluations + epochs) * per_evaluation}


# --------------------------------------------------------------------------- os caminhos

def prepare_path(args, device, approach: int, padding: str = "dynamic"):
    """Modelo de partida (o mesmo em todos os caminhos), preparado para a abordagem, e os dados.
    (Para os caminhos do projeto, o padding dos loaders de texto não importa: o pré-cálculo
    usa os textos tokenizados, com o mesmo truncamento do treino.)"""
    model, info = starting_model(args.tiny, args.models_dir, device)
    if approach == 2:
        prepare_head_only(model, seed=SEED)
    elif approach == 3:
        prepare_last_block(model, seed=SEED)
    loaders = create_dataloaders(*load_splits(args), get_tokenizer(), batch_size=args.batch_size,
                                 padding=padding, seed=SEED)
    return model, info, loaders


def train_and_evaluate(args, device, trainable, model, loaders, epochs: int, flops: FlopCounter,
                       graphed: bool = False) -> dict:
    """O treino da aula (`train_classifier_simple`: AdamW lr 5e-5, avaliação a cada 50 passos em 5
    lotes) e depois `calc_accuracy_loader` nos loaders completos. Guarda os logits do teste.

    O otimizador recebe `model.parameters()` no ingênuo (como na aula) e só os parâmetros
    treináveis nos caminhos do projeto (como no laboratório): a mesma atualização (o AdamW pula
    quem não tem gradiente), sem percorrer os ~150 tensores congelados a cada passo.

    Com `graphed` (CUDA, `--cuda-graphs on`), o laço é `train_classifier_graphed`: o mesmo laço, com
    cada passo e cada avaliação num CUDA graph (também a avaliação final, por `GraphedForward`); o
    trabalho dos passos vem de `cuda_steps.stats`."""
    torch.manual_seed(SEED)
    params = model.parameters() if trainable is model else [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                                  **adamw_options(args, device))
    graphed = graphed and cuda_steps.graphs_apply(trainable, loaders[:2], optimizer, device)
    evaluated = cuda_steps.GraphedForward(trainable, args.batch_size) if graphed else trainable
    recorder = ForwardRecorder(evaluated, device)
    flops.count_tail_attention(trainable)
    if graphed:
        flops.track_calls(trainable)
    loop_output = sys.stdout if args.verbose else io.StringIO()  # linhas "Ep 1 (Step ...)" só com --verbose
    flops.phase = "training"
    before = graph_counts()
    train = train_classifier_graphed if graphed else train_classifier_simple
    with Stopwatch(device) as training, autocast(args, device), contextlib.redirect_stdout(loop_output):
        history = train(evaluated, loaders[0], loaders[1], optimizer, device, num_epochs=epochs,
                        eval_freq=EVAL_FREQ, eval_iter=EVAL_ITER, progress=False)
    loop, graph_work = recorder.work(), graph_stats(before) if graphed else None
    if graphed:
        steps = cuda_steps.stats["steps"] - before["steps"]
        loop.update(train_batches=sum(steps.values()), train_real_tokens=graph_work["real_tokens"],
                    train_tokens=sum(rows * length * n for (rows, length), n in steps.items()))
        flops.add_replays("training_steps", cuda_steps.stats["step_replays"] - before["step_replays"], grad=True)
        flops.add_replays("training_evals", cuda_steps.stats["eval_replays"] - before["eval_replays"], grad=False)
    recorder.reset()
    flops.phase = "final_eval"
    accuracy, before = {}, graph_counts()
    with Stopwatch(device) as final_eval, autocast(args, device):
        for split, loader in zip(("train", "val", "test"), loaders):
            recorder.capture = split == "test"
            accuracy[split] = calc_accuracy_loader(loader, evaluated, device)
    flops.add_replays("final_eval", cuda_steps.stats["eval_replays"] - before["eval_replays"], grad=False)
    recorder.remove()
    names = ("train_losses", "val_losses", "train_accs", "val_accs", "examples_seen")
    return {
        "epochs": epochs,
        "trainer": train.__name__,
        "cuda_graphs": graph_work,
        "optimizer_params": "model.parameters() (aula)" if trainable is model else "só os treináveis (projeto)",
        "phases": {"training_s": training.seconds, "final_eval_s": final_eval.seconds},
        "loop": loop,
        "final_eval_work": recorder.work(),
        "schedule": {"n_train_batches": len(loaders[0]), "n_val_batches": len(loaders[1]),
                     "expected": loop_schedule(len(loaders[0]), len(loaders[1]), epochs)},
        "accuracy": accuracy,
        "history": dict(zip(names, history)),
        "test_logits": torch.cat(recorder.logits).tolist(),
        "test_predictions": torch.cat(recorder.logits).argmax(dim=1).tolist(),
    }


def graph_counts() -> dict:
    """Uma cópia de `cuda_steps.stats` (os contadores só crescem: diferenças dão o que uma fase fez)."""
    return {key: value.copy() if isinstance(value, dict) else value for key, value in cuda_steps.stats.items()}


def graph_stats(before: dict) -> dict:
    """O que `cuda_steps` fez desde `before`: grafos gravados (treino e avaliação), passos comuns de
    aquecimento, passos e avaliações repetidas por forma de lote ("textos x tokens"), tokens reais treinados."""
    now = cuda_steps.stats

    def by_shape(key):
        return {f"{rows}x{length}": n for (rows, length), n in sorted((now[key] - before[key]).items())}

    return {"graphs": now["graphs"] - before["graphs"], "warm_up_steps": now["warm_up_steps"] - before["warm_up_steps"],
            "steps_by_shape": by_shape("steps"), "eval_replays_by_shape": by_shape("eval_replays"),
            "real_tokens": now["real_tokens"] - before["real_tokens"], "bucket_tokens": cuda_steps.BUCKET_TOKENS}


def run_naive(args, device) -> dict:
    """Abordagem 3 como na aula: padding fixo e o modelo inteiro (12 blocos) em todo passo."""
    with Stopwatch(device) as setup:
        model, info, loaders = prepare_path(args, device, approach=3, padding="fixed")
    flops = FlopCounter(model)
    result = {**info, "setup_s": setup.seconds, "peak_rss_setup_mb": peak_rss_mb(),
              "weights_fingerprint": weights_fingerprint(model),
              "max_length": loaders[0].dataset.max_length, "token_position": "last_real"}
    print(f"[naive] {args.naive_epochs} época(s), o modelo inteiro a cada passo...", flush=True)
    result.update(train_and_evaluate(args, device, model, model, loaders, args.naive_epochs, flops))
    result["total_s"] = sum(result["phases"].values())
    result["flops"] = flops.flops
    return result


def run_cached(args, device, approach: int) -> dict:
    """Abordagens 2 e 3 do jeito do projeto: a parte congelada roda UMA vez por texto
    (`precompute_frozen_outputs`); o treino só passa pela parte treinável (`TrainableTail`)."""
    n_trainable_blocks = 1 if approach == 3 else 0
    with Stopwatch(device) as setup:
        model, info, text_loaders = prepare_path(args, device, approach)
    flops = FlopCounter(model)
    result = {**info, "setup_s": setup.seconds, "peak_rss_setup_mb": peak_rss_mb(),
              "weights_fingerprint": weights_fingerprint(model), "n_trainable_blocks": n_trainable_blocks}

    flops.phase = "precompute"
    with Stopwatch(device) as watch, autocast(args, device):
        frozen = list(precompute_frozen_outputs(model, split_sets(text_loaders), device, n_trainable_blocks,
                                                batch_size=FROZEN_BATCH_SIZE).values())
    precompute = {"frozen_pass_s": watch.seconds}

    graphed = args.cuda_graphs == "on" and device.type == "cuda" and args.amp == "off"
    pin = use_pin_memory(args, device) and not graphed
    loaders = (
        frozen_outputs_loader(frozen[0], args.batch_size, shuffle=True, drop_last=True, seed=SEED, pin_memory=pin),
        frozen_outputs_loader(frozen[1], args.batch_size, pin_memory=pin),
        frozen_outputs_loader(frozen[2], args.batch_size, pin_memory=pin),
    )
    if graphed:  # as saídas congeladas inteiras na GPU, uma vez (entra no tempo do pré-cálculo)
        with Stopwatch(device) as watch:
            loaders = tuple(ResidentLoader(loader, device) for loader in loaders)
        precompute["to_gpu_s"] = watch.seconds
    tail = TrainableTail(model, n_trainable_blocks)
    result.update(train_and_evaluate(args, device, tail, model, loaders, args.epochs, flops, graphed))
    result["phases"] = {"precompute_s": sum(precompute.values()), **result["phases"]}
    result.update(total_s=sum(result["phases"].values()), precompute_parts=precompute, pin_memory=pin,
                  frozen_forward=frozen_token_counts([loader.dataset for loader in text_loaders]),
                  # um texto em dois conjuntos guarda um tensor só: conta uma vez
                  frozen_outputs_mb=features.join_outputs(dict(enumerate(frozen)))[0].nbytes() / 2**20,
                  flops=flops.flops)
    return result


def run_features(args, device) -> dict:
    """Abordagem 1: um vetor por texto (último token real) + classificadores do scikit-learn."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with Stopwatch(device) as setup:
        model, info, loaders = prepare_path(args, device, approach=1)
    rss_setup = peak_rss_mb()
    flops = FlopCounter(model)
    flops.phase = "extract"
    with Stopwatch(device) as extract, autocast(args, device):
        features = list(extract_features(model, split_sets(loaders), device, token_position="last_real",
                                         batch_size=FROZEN_BATCH_SIZE).values())
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = features

    accuracy, phases = {}, {"extract_s": extract.seconds}
    classifiers = {
        "random_forest": RandomForestClassifier(n_estimators=100, random_state=SEED),
        "logistic_regression": LogisticRegression(max_iter=2000),
    }
    for name, clf in classifiers.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(X_train, y_train)
            phases[f"fit_{name}_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        accuracy[name] = {"train": clf.score(X_train, y_train), "val": clf.score(X_val, y_val),
                          "test": clf.score(X_test, y_test),
                          "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught)}
        phases[f"score_{name}_s"] = time.perf_counter() - t0
    return {
        **info,
        "phases": phases,
        # A abordagem 1 da aula: extrair + RandomForest (a regressão logística vem à parte).
        "total_s": extract.seconds + phases["fit_random_forest_s"] + phases["score_random_forest_s"],
        "total_logistic_regression_s": extract.seconds + phases["fit_logistic_regression_s"]
                                       + phases["score_logistic_regression_s"],
        "setup_s": setup.seconds,
        "peak_rss_setup_mb": rss_setup,
        "frozen_forward": frozen_token_counts([loader.dataset for loader in loaders]),
        "flops": flops.flops,  # só a extração; o scikit-learn não entra na conta
        "accuracy": accuracy["random_forest"],
        "accuracy_logistic_regression": accuracy["logistic_regression"],
    }


def run_precompute_only(args, device) -> dict:
    """Só o pré-cálculo congelado da abordagem 3 (para comparar números de threads)."""
    model, info, loaders = prepare_path(args, device, approach=3)
    with Stopwatch(device) as watch, autocast(args, device):
        precompute_frozen_outputs(model, split_sets(loaders), device, n_trainable_blocks=1,
                                  batch_size=FROZEN_BATCH_SIZE)
    tokens = frozen_token_counts([loader.dataset for loader in loaders])["real_tokens"]
    return {**info, "total_s": watch.seconds, "real_tokens": tokens, "tokens_per_s": tokens / watch.seconds}


def run_one_path(args) -> dict:
    """O que um subprocesso faz: prepara o motor, roda um caminho e anota memória e ambiente."""
    device = configure_engine(args)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    cache_before = dict(disk_cache.stats)
    runners = {
        "naive": lambda: run_naive(args, device),
        "ours": lambda: run_cached(args, device, approach=3),
        "approach2": lambda: run_cached(args, device, approach=2),
        "approach1": lambda: run_features(args, device),
        "precompute": lambda: run_precompute_only(args, device),
        "hf": lambda: hf_path.run_hf(args, device),
    }
    result = runners[args.only]()
    result["config"] = {k: result["config"][k] for k in ("emb_dim", "n_layers", "n_heads")}
    result.update(path=args.only, device=str(device), threads=torch.get_num_threads(), amp=args.amp, adamw=args.adamw,
                  peak_rss_mb=peak_rss_mb(), batch_tokens=features.DEVICE_BATCH_TOKENS,
                  disk_cache={name: disk_cache.stats[name] - cache_before[name] for name in cache_before})
    if device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


# --------------------------------------------------------------------------- o processo principal

def run_child(args, only: str, workdir: Path, **overrides) -> dict:
    """Roda um caminho num subprocesso deste mesmo script e lê o JSON que ele grava. O cache em
    disco do pacote é uma pasta nova e vazia para cada caminho (`cold_cache`): a passada congelada
    é calculada de verdade, nunca lida de uma execução anterior."""
    json_path = workdir / f"{only}-{len(list(workdir.iterdir()))}.json"
    command = child_argv(args, only, json_path, **overrides)
    with cold_cache(workdir):
        if args.in_process:
            return json.loads(json.dumps(run_one_path(parse_args(command[2:]))))
        completed = subprocess.run(command, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"O caminho '{only}' falhou (código {completed.returncode}): {' '.join(command)}")
    return json.loads(json_path.read_text(encoding="utf-8"))


def compare_runs(naive: dict, ours: dict) -> dict:
    """Mesma função, dois jeitos de calcular: as previsões devem coincidir (a menos de
    arredondamentos de ponto flutuante, que podem trocar um caso com logits quase empatados).
    Um ingênuo reaproveitado de um JSON (`--naive-from`) não traz logits: compara-se o que ele
    guardou (previsões, se houver; perdas e acurácias)."""
    if "test_logits" in naive and "test_logits" in ours:
        a, b = np.asarray(naive["test_logits"]), np.asarray(ours["test_logits"])
        pred_a, pred_b, logit_diff = a.argmax(1), b.argmax(1), float(np.abs(a - b).max())
    elif "test_predictions" in naive and "test_predictions" in ours:
        pred_a, pred_b, logit_diff = np.asarray(naive["test_predictions"]), np.asarray(ours["test_predictions"]), None
    else:
        pred_a = pred_b = logit_diff = None
    differing = None if pred_a is None else int((pred_a != pred_b).sum())
    test_n = None if pred_a is None else len(pred_a)

    def max_diff(key):
        x, y = naive["history"][key], ours["history"][key]
        return float(np.max(np.abs(np.subtract(x, y)))) if len(x) == len(y) and x else None

    return {
        "epochs_compared": naive["epochs"],
        "same_initial_weights": math.isclose(naive["weights_fingerprint"], ours["weights_fingerprint"], rel_tol=1e-12),
        "test_n": test_n,
        "test_agreement": None if differing is None else 1 - differing / test_n,
        "test_n_different": differing,
        "test_max_abs_logit_diff": logit_diff,
        "train_loss_max_abs_diff": max_diff("train_losses"),
        "val_loss_max_abs_diff": max_diff("val_losses"),
        "same_accuracies": naive["accuracy"] == ours["accuracy"],
    }


def extrapolate_naive(naive: dict, epochs: int) -> dict:
    """Tempo do ingênuo com `epochs` épocas, EXTRAPOLADO de uma execução mais curta:
    tempo por passo × passos + tempo por lote de avaliação × lotes de avaliação + avaliação final
    (medida; não depende das épocas). Todos os lotes do ingênuo têm o mesmo tamanho (padding
    fixo), por isso a conta é boa; ainda assim, é uma estimativa."""
    loop = naive["loop"]
    step_s = (naive["phases"]["training_s"] - loop["eval_seconds"]) / loop["train_batches"]
    eval_batch_s = loop["eval_seconds"] / loop["eval_batches"]
    sched = naive["schedule"]
    full = loop_schedule(sched["n_train_batches"], sched["n_val_batches"], epochs)
    training_s = step_s * full["train_batches"] + eval_batch_s * full["eval_batches"]
    # FLOPs por passo e por lote de avaliação são constantes no ingênuo: escalamos pelos contadores.
    flops = naive["flops"]
    return {
        "label": f"EXTRAPOLADO de {naive['epochs']} época(s) medidas para {epochs}",
        "epochs": epochs,
        "step_s": step_s,
        "eval_batch_s": eval_batch_s,
        "schedule": full,
        "phases": {"training_s": training_s, "final_eval_s": naive["phases"]["final_eval_s"]},
        "total_s": training_s + naive["phases"]["final_eval_s"],
        "flops": {"training_steps": flops["training_steps"] / loop["train_batches"] * full["train_batches"],
                  "training_evals": flops["training_evals"] / loop["eval_batches"] * full["eval_batches"],
                  "final_eval": flops["final_eval"]},
    }


def add_floor(entry: dict, gflops: float) -> None:
    """Piso = FLOPs / velocidade medida de matmul: o tempo mínimo do trabalho, se a máquina
    só multiplicasse matrizes na velocidade do teste. total/piso mostra o quanto sobra."""
    if "flops" not in entry:
        return
    flops = sum(entry["flops"].values())
    entry["floor_s"] = flops / (gflops * 1e9)
    entry["total_over_floor"] = entry["total_s"] / entry["floor_s"] if entry["floor_s"] else None


def finetune_machine_info(args, device: torch.device) -> dict:
    """A máquina (`common.machine_info`) e as opções do motor que mudam os tempos."""
    return machine_info(device, amp=args.amp, rss_per_path=not args.in_process,
                        cudnn_sdpa=not args.no_cudnn_sdpa if device.type == "cuda" else None,
                        pin_memory=use_pin_memory(args, device))


def run_benchmark(args) -> dict:
    device = configure_engine(args)
    matmul_dtype = amp_dtype(args) if device.type == "cuda" and args.amp != "off" else torch.float32
    results = {"machine": finetune_machine_info(args, device), "matmul": measure_matmul_gflops(device, matmul_dtype),
               "settings": {"epochs": args.epochs, "naive_epochs": args.naive_epochs, "batch_size": args.batch_size,
                            "eval_freq": EVAL_FREQ, "eval_iter": EVAL_ITER, "learning_rate": LEARNING_RATE,
                            "weight_decay": WEIGHT_DECAY, "seed": SEED, "tiny": args.tiny, "adamw": args.adamw,
                            "limits": [args.limit_train, args.limit_val, args.limit_test],
                            "batch_tokens": features.DEVICE_BATCH_TOKENS,  # já trocado por --batch-tokens
                            "cuda_graphs": args.cuda_graphs,
                            "command": " ".join(sys.argv)},
               "cache": f"{COLD_CACHE}: uma pasta nova para cada caminho",
               "lecture_minutes": LECTURE_MINUTES, "paths": {}}
    splits = load_splits(args)  # baixa/extrai uma vez; os subprocessos reaproveitam
    results["data"] = {"train": len(splits[0]), "val": len(splits[1]), "test": len(splits[2])}
    gflops = results["matmul"]["gflops_best"]

    if args.naive_from is not None:
        results["paths"]["naive"] = load_previous_naive(args, results)
    with tempfile.TemporaryDirectory(prefix="bench_finetune_") as tmp:
        workdir = Path(tmp)
        for path in [p for p in args.paths if p not in results["paths"]]:
            print(f"\n=== {path}: {PATH_LABELS[path]} ===", flush=True)
            results["paths"][path] = run_child(args, path, workdir)
            if args.json:  # resultado parcial: uma execução interrompida não perde o que já mediu
                partial = {name: {k: v for k, v in entry.items() if k != "test_logits"}
                           for name, entry in results["paths"].items()}
                write_json(args.json, {**results, "paths": partial, "partial": True})
        check = None
        naive_epochs = results["paths"]["naive"]["epochs"] if "naive" in results["paths"] else None
        if "ours" in results["paths"] and naive_epochs not in (None, args.epochs):
            print(f"\n=== ours_check: o projeto com {naive_epochs} época(s), só para comparar previsões ===",
                  flush=True)
            check = run_child(args, "ours", workdir, epochs=naive_epochs)

    paths = results["paths"]
    for entry in paths.values():
        add_floor(entry, gflops)
    naive, ours = paths.get("naive"), paths.get("ours")
    if naive is not None and naive["epochs"] != args.epochs:
        results["naive_extrapolated"] = extrapolate_naive(naive, args.epochs)
        add_floor(results["naive_extrapolated"], gflops)
    if naive is not None and ours is not None:
        reference = check if check is not None else ours
        results["correctness"] = compare_runs(naive, reference)
        results["correctness"]["reference"] = "ours_check" if check is not None else "ours"
        measured = naive["epochs"] == ours["epochs"]
        basis = naive if measured else results["naive_extrapolated"]
        ours_loop = ours["phases"]["precompute_s"] + ours["phases"]["training_s"]
        basis_label = "medido" if measured else results["naive_extrapolated"]["label"]
        if "reused_from" in naive:
            basis_label += f"; ingênuo de {naive['reused_from']['file']} (medido em {naive['reused_from']['date']})"
        results["ratio"] = {
            "basis": basis_label,
            "naive_over_ours": basis["total_s"] / ours["total_s"],
            "training_naive_over_ours": basis["phases"]["training_s"] / ours_loop,
        }
        results["ratio_naive_over_ours"] = results["ratio"]["naive_over_ours"]
    hf_path.add_results(results, args, check)
    for entry in [*paths.values(), check or {}]:  # logits crus não vão para o JSON final
        entry.pop("test_logits", None)
    results["partial"] = False
    return results


SETTINGS_THAT_MUST_MATCH = ("batch_size", "eval_freq", "eval_iter", "learning_rate", "weight_decay", "seed", "tiny",
                            "limits")


def load_previous_naive(args, results: dict) -> dict:
    """O caminho ingênuo de um JSON anterior deste script (`--naive-from`), para não repetir a
    medição mais longa. Só vale com as mesmas configurações e os mesmos dados; a origem fica
    anotada (`reused_from`) e aparece na razão. Os tempos são os daquela máquina, naquele dia."""
    try:
        previous = json.loads(Path(args.naive_from).read_text(encoding="utf-8"))
        naive = previous["paths"]["naive"]
    except (OSError, ValueError, KeyError) as err:
        raise SystemExit(f"--naive-from {args.naive_from}: não encontrei a medição do ingênuo ({err}).") from err
    different = [key for key in SETTINGS_THAT_MUST_MATCH
                 if previous["settings"].get(key) != results["settings"].get(key)]
    if previous.get("data") != results["data"]:
        different.append("data")
    if different:
        raise SystemExit(f"--naive-from {args.naive_from}: configurações diferentes desta execução: {different}.")
    naive["reused_from"] = {"file": str(args.naive_from), "date": previous["machine"]["date"],
                            "machine": previous["machine"]}
    print(f"=== naive: reaproveitado de {args.naive_from} (medido em {previous['machine']['date']}, "
          f"{naive['epochs']} época(s), {format_seconds(naive['total_s'])}) ===", flush=True)
    return naive


def run_thread_sweep(args) -> dict:
    counts = [int(x) for x in args.sweep_threads.split(",") if x.strip()]
    sweep = []
    with tempfile.TemporaryDirectory(prefix="bench_finetune_") as tmp:
        for threads in counts:
            print(f"\n=== pré-cálculo congelado com {threads} thread(s) ===", flush=True)
            result = run_child(args, "precompute", Path(tmp), threads=threads)
            sweep.append({"threads": threads, "precompute_s": result["total_s"], "tokens_per_s": result["tokens_per_s"],
                          "peak_rss_mb": result["peak_rss_mb"], "model": result["model"]})
    return {"machine": finetune_machine_info(args, resolve_device(args.device)), "thread_sweep": sweep}


# --------------------------------------------------------------------------- relatório

def _row(cells, widths) -> str:
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def format_summary(results: dict) -> str:
    machine, matmul = results["machine"], results["matmul"]
    lines = ["", "=" * 100, "RESUMO DO BENCHMARK (tempos de parede; máquina compartilhada = números com ruído)",
             "=" * 100]
    first = next(iter(results["paths"].values()), {})
    lines.append(f"Modelo: {first.get('model', '?')}, pesos {first.get('weights', '?')}")
    lines.append(f"Dados: treino {results['data']['train']} | validação {results['data']['val']} | "
                 f"teste {results['data']['test']}")
    lines.append(f"Máquina: {machine['device']}{' (' + machine['gpu'] + ')' if machine['gpu'] else ''}, "
                 f"{machine['threads']} thread(s), {machine['cpu_count']} CPUs lógicas, torch {machine['torch']}, "
                 f"AMP {machine['amp']}" + ("" if machine["cudnn_sdpa"] in (None, True) else ", SDPA sem cuDNN"))
    lines.append(f"matmul {matmul['shape']} {matmul['dtype']}: {matmul['gflops_best']:.1f} GFLOP/s (melhor), "
                 f"{matmul['gflops_median']:.1f} (mediana)")
    if "cache" in results:
        lines.append(f"Cache em disco: {results['cache']} (a passada congelada é calculada em cada caminho)")
    lines.append("")
    header = ["caminho", "épocas", "pré-cálculo", "treino", "aval. final", "total", "pico RSS", "piso", "total/piso",
              "acc teste"]
    widths = [24, 6, 11, 10, 11, 10, 10, 9, 10, 9]
    lines += [_row(header, widths), _row(["-" * w for w in widths], widths)]
    rows = [(name, entry) for name, entry in results["paths"].items()]
    if "naive_extrapolated" in results:
        rows.insert(1, ("naive_extrapolated", results["naive_extrapolated"]))
    if "hf_extrapolated" in results:
        rows.append(("hf_extrapolated", results["hf_extrapolated"]))
    for name, entry in rows:
        phases = entry["phases"]
        if name == "approach1":
            pre, train = phases["extract_s"], phases["fit_random_forest_s"]
            final = phases["score_random_forest_s"]
        else:
            pre, train, final = phases.get("precompute_s"), phases["training_s"], phases["final_eval_s"]
        label = {"naive_extrapolated": "ingênuo EXTRAPOLADO", "hf_extrapolated": "HF EXTRAPOLADO"}.get(name,
                                                                                                 PATH_LABELS.get(name))
        acc = entry.get("accuracy", {}).get("test")
        lines.append(_row([
            label, entry.get("epochs", "-"), format_seconds(pre), format_seconds(train), format_seconds(final),
            format_seconds(entry["total_s"]),
            f"{entry['peak_rss_mb']:.0f} MiB" if "peak_rss_mb" in entry else "-",
            format_seconds(entry.get("floor_s")),
            f"{entry['total_over_floor']:.1f}x" if entry.get("total_over_floor") else "-",
            f"{acc * 100:.1f}%" if acc is not None else "-",
        ], widths))
    if not machine.get("rss_per_path", True):
        lines.append("(--in-process: o pico de RSS é o acumulado do processo, não o de cada caminho)")
    lines.append("(abordagem 1: 'pré-cálculo' = extract_features, 'treino' = fit do RandomForest, "
                 "'aval. final' = score; o piso conta só a extração)")
    if "approach1" in results["paths"]:
        a1 = results["paths"]["approach1"]
        lr = a1["accuracy_logistic_regression"]
        lines.append(f"abordagem 1 com regressão logística: total {format_seconds(a1['total_logistic_regression_s'])}, "
                     f"acc teste {lr['test'] * 100:.1f}%")
    if "ours" in results["paths"]:
        ours = results["paths"]["ours"]
        loop = ours["loop"]
        lines.append(f"projeto: saídas congeladas guardadas = {ours['frozen_outputs_mb']:.0f} MiB; no laço, "
                     f"{loop['train_real_tokens'] / max(loop['train_tokens'], 1) * 100:.0f}% dos tokens dos lotes "
                     "são reais (o resto é padding até o maior texto do lote)")
        graphs = ours.get("cuda_graphs")
        if graphs:
            lines.append(f"projeto: train_classifier_graphed ({graphs['graphs']} CUDA graphs: passos nos lotes "
                         f"{', '.join(graphs['steps_by_shape'])}, avaliações nos lotes "
                         f"{', '.join(graphs['eval_replays_by_shape'])}; {graphs['warm_up_steps']} passos comuns "
                         f"de aquecimento; lotes completados até múltiplos de {graphs['bucket_tokens']} tokens)")
    if "naive" in results["paths"]:
        naive = results["paths"]["naive"]
        lines.append(f"ingênuo: padding fixo em {naive['max_length']} tokens; token classificado = último REAL "
                     "('last_real', a mesma função do projeto; a posição 'last' da aula lê um token de padding)")
        if "naive_extrapolated" in results:
            ext = results["naive_extrapolated"]
            lines.append(f"  {ext['label']}: {ext['step_s']:.2f} s/passo × {ext['schedule']['train_batches']} passos "
                         f"+ {ext['eval_batch_s']:.2f} s/lote × {ext['schedule']['eval_batches']} lotes de avaliação "
                         "+ avaliação final medida")
    if "naive_over_ours" in results.get("ratio", {}):  # a razão do hf pode vir sozinha
        ratio = results["ratio"]
        lines.append("")
        lines.append(f"ingênuo / projeto: {ratio['naive_over_ours']:.1f}x no total, "
                     f"{ratio['training_naive_over_ours']:.1f}x só o treino (pré-cálculo + laço) [{ratio['basis']}]")
        lines.append(f"(na aula, o treino ingênuo levou {LECTURE_MINUTES} min no computador da aula)")
        naive_adamw = results["paths"]["naive"].get("adamw", "for-loop")  # JSONs antigos: o padrão do torch na CPU
        if naive_adamw != results["paths"]["ours"].get("adamw"):
            lines.append(f"(AdamW: '{naive_adamw}' no ingênuo, '{results['paths']['ours'].get('adamw')}' no projeto; "
                         "no ingênuo o passo é dominado pelos 12 blocos, não pelo otimizador)")
    if "correctness" in results:
        c = results["correctness"]

        def num(x):
            return "-" if x is None else f"{x:.2e}"

        if c["test_agreement"] is None:
            agreement = "previsões no teste: o ingênuo reaproveitado não as guardou"
        else:
            agreement = (f"previsões no teste iguais em {c['test_agreement'] * 100:.2f}% "
                         f"({c['test_n_different']} de {c['test_n']} diferentes)")
        lines.append(f"Conferência ({c['epochs_compared']} época(s), {c['reference']}): mesmos pesos iniciais = "
                     f"{c['same_initial_weights']}; {agreement}; max |Δlogit| = "
                     f"{num(c['test_max_abs_logit_diff'])}; "
                     f"max |Δ perda treino| = {num(c['train_loss_max_abs_diff'])}; "
                     f"max |Δ perda val| = {num(c['val_loss_max_abs_diff'])}; "
                     f"acurácias iguais = {c['same_accuracies']}")
    lines += hf_path.summary_lines(results)
    lines.append("=" * 100)
    return "\n".join(lines)


def format_sweep(results: dict) -> str:
    lines = ["", "Pré-cálculo congelado (abordagem 3) por número de threads:",
             "threads  tempo      tokens/s   pico RSS"]
    for row in results["thread_sweep"]:
        lines.append(f"{row['threads']:>7}  {format_seconds(row['precompute_s']):>9}  {row['tokens_per_s']:>9.0f}  "
                     f"{row['peak_rss_mb']:>6.0f} MiB")
    return "\n".join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.only:
        result = run_one_path(args)
        if args.json:
            write_json(args.json, result)
        print(f"[{args.only}] total {format_seconds(result['total_s'])}, "
              f"pico RSS {result['peak_rss_mb']:.0f} MiB", flush=True)
        return result
    if args.sweep_threads:
        results = run_thread_sweep(args)
        print(format_sweep(results))
    else:
        results = run_benchmark(args)
        print(format_summary(results))
    if args.json:
        write_json(args.json, results)
        print(f"Resultados gravados em {args.json}")
    return results


if __name__ == "__main__":
    main()
