#!/usr/bin/env python
"""Benchmark do laboratório (notebook 7): quanto custa a tabela padrão de experimentos.

Roda as linhas de `default_experiments()` (as que o notebook 7 roda por padrão) com a
configuração do GPT-2 small (124M), pelo mesmo `run_experiments` do notebook: uma passada
congelada por grupo de linhas, depois a cauda de cada linha. Imprime o tempo de cada linha
(passada congelada + treino + avaliação), o total e o pico de memória residente (RSS) do
processo; grava tudo num JSON. Para cada linha, também o **piso**: as operações das camadas
lineares que ela executou (`roofline.FlopCounter`, a passada congelada que ela fez incluída)
divididas pela velocidade de multiplicação de matrizes medida na mesma máquina. É um limite
inferior: a atenção, as multiplicações finas da LoRA e o gradiente da entrada de camadas
congeladas ficam de fora da conta. Nenhuma implementação das mesmas contas desce abaixo dele
nesta máquina.

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
import json
import sys
import time
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # `common` e `version`, ao lado deste script
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from common import (  # noqa: E402
    COLD_CACHE,
    add_engine_arguments,
    add_model_and_data_arguments,
    cold_cache,
    format_seconds,
    load_average,
    machine_info,
    resolve_device,
    spam_splits,
    starting_model,
    write_json,
)
from roofline import FlopCounter, measure_matmul_gflops  # noqa: E402

from llmdefinitions import disk_cache, get_tokenizer  # noqa: E402
from llmdefinitions.experiments import DEFAULT_MODEL, default_experiments, slow_experiments  # noqa: E402
from llmdefinitions.lab import ExperimentLab, run_experiments  # noqa: E402
from llmdefinitions.memory import peak_rss_mb  # noqa: E402

TARGET_MINUTES, TARGET_RSS_GB = 6, 3  # metas do issue 20 para as linhas padrão numa CPU de 2 núcleos


def parse_lab_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mede a tabela padrão do laboratório (notebook 7).",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", default="default", choices=("default", "slow", "all"),
                        help="quais linhas: as padrão do notebook, as lentas ou todas")
    parser.add_argument("--only", default=None,
                        help="só as linhas cujo nome contém um destes trechos, separados por vírgula (ex.: aleatórios)")
    parser.add_argument("--epochs", type=int, default=5, help="épocas de cada linha (o notebook usa 5)")
    add_engine_arguments(parser)
    add_model_and_data_arguments(parser)
    parser.add_argument("--note", default="", help="observação gravada no JSON (ex.: máquina compartilhada)")
    parser.add_argument("--json", type=Path, help="grava os resultados neste arquivo JSON")
    return parser.parse_args(argv)


def chosen_experiments(args) -> list:
    """As linhas pedidas (`--rows`, `--only`), com as épocas de `--epochs`."""
    rows = {"default": default_experiments, "slow": slow_experiments}
    experiments = [exp for key in (("default", "slow") if args.rows == "all" else (args.rows,))
                   for exp in rows[key](epochs=args.epochs)]
    if args.only:
        wanted = [part.strip() for part in args.only.split(",") if part.strip()]
        experiments = [exp for exp in experiments if any(part in exp.name for part in wanted)]
        if not experiments:
            raise SystemExit(f"--only {args.only!r} não corresponde a nenhuma linha.")
    return experiments


def row_floor(flops: int, matmul: dict) -> dict:
    """As operações de uma linha e o piso delas: FLOPs / velocidade de matmul medida."""
    return {"flops": flops, "floor_s": flops / (matmul["gflops_best"] * 1e9)}


def print_table(table) -> None:
    print("\nlinha                                    congelado    treino     total      piso   Δmemória  acc teste")
    for row_name, row in table.iterrows():
        if row["skipped"]:
            print(f"{row_name[:40]:<40} {row['skipped']}")
            continue
        print(f"{row_name[:40]:<40} {format_seconds(row['frozen_s']):>9} {format_seconds(row['train_s']):>9} "
              f"{format_seconds(row['total_s']):>9} {format_seconds(row['floor_s']):>9} "
              f"{row['peak_memory_mb']:>7.0f} MiB {row['test_acc']:>8.1%}")


def main(argv=None) -> dict:
    """Mede com o cache em disco frio: uma pasta nova e vazia (`cold_cache`), apagada no fim."""
    args = parse_lab_args(argv)
    with cold_cache():
        return measure(args)


def measure(args) -> dict:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    splits = spam_splits(args.data_dir, args.spam_zip)
    model, described = starting_model(args.tiny, args.models_dir, device)
    experiments = chosen_experiments(args)
    info = machine_info(device)
    print(f"Modelo: {described['model']}, pesos {described['weights']}; {len(experiments)} linhas, "
          f"{args.epochs} época(s); {info['device']}, {info['threads']} thread(s); cache em disco {COLD_CACHE}",
          flush=True)
    lab = ExperimentLab(splits, tokenizer=get_tokenizer(), device=device, models={DEFAULT_MODEL: model})
    matmul = measure_matmul_gflops(device)
    print(f"matmul {matmul['shape']}: {matmul['gflops_best']:.1f} GFLOP/s (melhor)", flush=True)
    rss_before = peak_rss_mb()
    counter = FlopCounter()  # as camadas lineares de todos os modelos das linhas
    start = time.perf_counter()
    done = []

    def save_partial(index, result):  # o que já foi medido sobrevive a uma interrupção
        flops = sum(counter.flops.values()) - sum(row["flops"] for row in done)  # o que esta linha executou
        done.append({**result.as_row(), **row_floor(flops, matmul)})
        if args.json:
            write_json(args.json, {"partial": True, "machine": info, "note": args.note, "rows_done": done})

    table = run_experiments(experiments, lab=lab, progress=True, on_row=save_partial)
    total = time.perf_counter() - start
    counter.remove()
    for column in ("flops", "floor_s"):  # as mesmas contas que save_partial gravou, linha a linha
        table[column] = [row[column] for row in done]
    info["load_average_end"] = load_average()
    print_table(table)
    peak = peak_rss_mb()
    print(f"\nTotal: {format_seconds(total)} ({total / 60:.1f} min; meta < {TARGET_MINUTES} min para as linhas "
          f"padrão numa CPU de 2 núcleos); passadas congeladas completas: {lab.cache.frozen_passes}, "
          f"avanços: {lab.cache.advances}")
    floor = float(table["floor_s"].sum())
    print(f"Piso (FLOPs das camadas lineares / matmul medido): {format_seconds(floor)} ({floor / 60:.1f} min); "
          f"total/piso = {total / floor:.1f}x")
    print(f"Pico de RSS do processo: {peak:.0f} MiB (antes das linhas: {rss_before:.0f} MiB; "
          f"meta < {TARGET_RSS_GB} GB)")
    peak_gpu = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    if peak_gpu is not None:
        print(f"Pico de memória na GPU: {peak_gpu:.0f} MiB")
    results = {
        "machine": info, "note": args.note, "model": described["model"], "weights": described["weights"],
        "rows": args.rows, "epochs": args.epochs, "total_s": total, "matmul": matmul, "floor_s": floor,
        "peak_rss_mb": peak,
        "peak_rss_before_rows_mb": rss_before, "peak_gpu_mb": peak_gpu,
        "frozen_passes": lab.cache.frozen_passes, "advances": lab.cache.advances, "partial": False,
        "cache": COLD_CACHE, "disk_cache": dict(disk_cache.stats),
        "command": " ".join(sys.argv),
        "table": json.loads(table.reset_index().drop(columns=["reference"], errors="ignore")
                            .to_json(orient="records", force_ascii=False)),
    }
    if args.json:
        write_json(args.json, results)
        print(f"Resultados gravados em {args.json}")
    return results


if __name__ == "__main__":
    main()
