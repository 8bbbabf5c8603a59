#!/usr/bin/env python
"""Benchmark do laboratório (notebook 7): quanto custa a tabela padrão de experimentos.

Roda as linhas de `default_experiments()` (as que o notebook 7 roda por padrão) com a
configuração do GPT-2 small (124M), pelo mesmo `run_experiments` do notebook: uma passada
congelada por grupo de linhas, depois a cauda de cada linha. Imprime o tempo de cada linha
(passada congelada + treino + avaliação), o total e o pico de memória residente (RSS) do
processo; grava tudo num JSON.

Pesos aleatórios por padrão (como `bench_finetune.py`): a velocidade não depende dos valores
dos pesos, e as acurácias impressas não dizem nada sobre o GPT-2. Com `--models-dir PASTA`
(contendo `124M/config.json` e `124M/model.safetensors`) os pesos reais são usados.

Uso (da raiz do repositório):
    python benchmarks/bench_lab.py --json benchmarks/results/lab-cpu-2-nucleos.json
    python benchmarks/bench_lab.py --device cuda --json benchmarks/results/lab-gpu.json
    python benchmarks/bench_lab.py --rows slow --epochs 1          # as linhas lentas, 1 época
    python benchmarks/bench_lab.py --tiny --epochs 1               # validação rápida do script

Nenhum tempo aqui é uma asserção: são medidas, e dependem da máquina e da carga dela.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # roda direto do repositório, mesmo sem `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from version import code_version  # noqa: E402

from llmdefinitions import GPTModel, config_from_settings, get_tokenizer, gpt2_config, load_weights_into_gpt  # noqa: E402
from llmdefinitions import prepare_spam_splits, read_checkpoint  # noqa: E402
from llmdefinitions.course import DEMO_CONFIG  # noqa: E402
from llmdefinitions.data import SPAM_DATA_URL  # noqa: E402
from llmdefinitions.experiments import (  # noqa: E402
    DEFAULT_MODEL, ExperimentLab, default_experiments, run_experiments, slow_experiments,
)

SEED = 123
TARGET_MINUTES, TARGET_RSS_GB = 15, 3  # metas do issue 11 para as linhas padrão numa CPU de 2 núcleos


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Mede a tabela padrão do laboratório (notebook 7).",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", default="default", choices=("default", "slow", "all"),
                        help="quais linhas: as padrão do notebook, as lentas ou todas")
    parser.add_argument("--only", default=None,
                        help="só as linhas cujo nome contém um destes trechos, separados por vírgula (ex.: aleatórios)")
    parser.add_argument("--epochs", type=int, default=5, help="épocas de cada linha (o notebook usa 5)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (padrão do torch se omitido)")
    parser.add_argument("--tiny", action="store_true", help="o modelo de demonstração (emb 64, 2 blocos): para testes")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="pasta com 124M/config.json e 124M/model.safetensors; sem ela, pesos aleatórios")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data")
    parser.add_argument("--spam-zip", default=None, help="zip local do SMS Spam Collection")
    parser.add_argument("--note", default="", help="observação gravada no JSON (ex.: máquina compartilhada)")
    parser.add_argument("--json", type=Path, help="grava os resultados neste arquivo JSON")
    return parser


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda pedido, mas o torch não vê nenhuma GPU CUDA.")
    return torch.device(name)


def build_model(args) -> tuple[GPTModel, str, str]:
    """O GPT-2 de partida: pesos reais se houver, senão aleatórios com semente fixa."""
    if args.tiny:
        config, name = dict(DEMO_CONFIG), "GPT-2 de demonstração (emb 64, 2 blocos)"
    else:
        config, name = gpt2_config(DEFAULT_MODEL), DEFAULT_MODEL
    checkpoint = None if args.models_dir is None or args.tiny else args.models_dir / "124M"
    if checkpoint is not None and (checkpoint / "model.safetensors").is_file():
        settings, params = read_checkpoint(checkpoint)
        return load_weights_into_gpt(GPTModel(config_from_settings(settings)), params).eval(), name, \
            f"pré-treinados ({checkpoint})"
    torch.manual_seed(SEED)
    model = GPTModel(config)
    model.out_head.weight = model.tok_emb.weight  # como no GPT-2: saída amarrada aos embeddings
    return model.eval(), name, f"aleatórios (semente {SEED})"


def peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def machine_info(device: torch.device) -> dict:
    return {
        "platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "torch": torch.__version__, "device": device.type, "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        **code_version(),
    }


def _fmt(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 600 else f"{seconds:.1f} s"


def main(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    url = args.spam_zip if args.spam_zip is not None else SPAM_DATA_URL
    with contextlib.redirect_stdout(io.StringIO()):
        splits = prepare_spam_splits(args.data_dir, url=url, random_state=SEED)
    model, name, weights = build_model(args)
    rows = {"default": default_experiments, "slow": slow_experiments}
    experiments = [exp for key in (("default", "slow") if args.rows == "all" else (args.rows,))
                   for exp in rows[key](epochs=args.epochs)]
    if args.only:
        wanted = [part.strip() for part in args.only.split(",") if part.strip()]
        experiments = [exp for exp in experiments if any(part in exp.name for part in wanted)]
        if not experiments:
            raise SystemExit(f"--only {args.only!r} não corresponde a nenhuma linha.")
    info = machine_info(device)
    print(f"Modelo: {name}, pesos {weights}; {len(experiments)} linhas, {args.epochs} época(s); "
          f"{info['device']}, {info['threads']} thread(s)", flush=True)
    lab = ExperimentLab(splits, tokenizer=get_tokenizer(), device=device, models={DEFAULT_MODEL: model.to(device)})
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    done = []

    def save_partial(index, result):  # o que já foi medido sobrevive a uma interrupção
        done.append(result.as_row())
        if args.json:
            partial = {"partial": True, "machine": info, "note": args.note, "rows_done": done}
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(partial, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    table = run_experiments(experiments, lab=lab, progress=True, on_row=save_partial)
    total = time.perf_counter() - start
    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    print("\nlinha                                    congelado    treino     total   Δmemória  acc teste")
    for row_name, row in table.iterrows():
        if row["skipped"]:
            print(f"{row_name[:40]:<40} {row['skipped']}")
            continue
        print(f"{row_name[:40]:<40} {_fmt(row['frozen_s']):>9} {_fmt(row['train_s']):>9} {_fmt(row['total_s']):>9} "
              f"{row['peak_memory_mb']:>7.0f} MiB {row['test_acc']:>8.1%}")
    peak = peak_rss_mb()
    print(f"\nTotal: {_fmt(total)} ({total / 60:.1f} min; meta < {TARGET_MINUTES} min para as linhas padrão numa CPU "
          f"de 2 núcleos); passadas congeladas completas: {lab.cache.frozen_passes}, avanços: {lab.cache.advances}")
    print(f"Pico de RSS do processo: {peak:.0f} MiB (antes das linhas: {rss_before:.0f} MiB; meta < {TARGET_RSS_GB} GB)")
    if device.type == "cuda":
        print(f"Pico de memória na GPU: {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB")
    results = {
        "machine": info, "note": args.note, "model": name, "weights": weights, "rows": args.rows,
        "epochs": args.epochs, "total_s": total, "peak_rss_mb": peak, "peak_rss_before_rows_mb": rss_before,
        "peak_gpu_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
        "frozen_passes": lab.cache.frozen_passes, "advances": lab.cache.advances, "partial": False,
        "command": " ".join(sys.argv),
        "table": json.loads(table.reset_index().drop(columns=["reference"], errors="ignore")
                            .to_json(orient="records", force_ascii=False)),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Resultados gravados em {args.json}")
    return results


if __name__ == "__main__":
    main()
