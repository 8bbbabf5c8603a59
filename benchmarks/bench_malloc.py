"""Quanto `keep_freed_memory` (llmdefinitions/device.py) muda o tempo e as faltas de página.

Roda o mesmo comando várias vezes, alternando o ajuste da glibc ligado (o padrão do pacote) e
desligado (`LLMDEFINITIONS_KEEP_FREED_MEMORY=0`), e imprime, para cada rodada, o tempo de parede e as
faltas de página menores (páginas novas que o kernel teve de entregar zeradas) do processo inteiro,
lidas do próprio sistema operacional (`os.wait4`). Alternar A B A B... evita que uma mudança de
velocidade da máquina no meio da medição pese só de um lado.

Uso (da raiz do repositório; o comando depois de `--` é o que se mede):
    python benchmarks/bench_malloc.py --rounds 3 -- python benchmarks/bench_finetune.py --paths ours --threads 2
    python benchmarks/bench_malloc.py --json benchmarks/results/malloc-cpu-2-nucleos.json -- COMANDO
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # `common` e `bench_notebooks`, ao lado deste script
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from bench_notebooks import cpu_model  # noqa: E402
from common import machine_info, write_json  # noqa: E402

from llmdefinitions.device import KEEP_FREED_MEMORY_ENV_VAR  # noqa: E402

SETTINGS = {"ligado": "1", "desligado": "0"}


def run_once(command: list[str], keep: str) -> dict:
    """Roda `command` uma vez com o ajuste `keep` ("1" ou "0"); tempo de parede e faltas de página."""
    env = {**os.environ, KEEP_FREED_MEMORY_ENV_VAR: keep}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"o comando falhou (saída {os.waitstatus_to_exitcode(status)}): {' '.join(command)}")
    return {"seconds": seconds, "minor_faults": usage.ru_minflt, "peak_rss_mb": usage.ru_maxrss / 1024}


def summarize(runs: list[dict]) -> dict:
    """Mediana, mínimo e máximo de cada medida."""
    return {key: {"median": statistics.median(r[key] for r in runs), "min": min(r[key] for r in runs),
                  "max": max(r[key] for r in runs)} for key in runs[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rodadas; cada uma roda o comando ligado e desligado")
    parser.add_argument("--json", type=Path, help="grava as medições neste arquivo JSON")
    parser.add_argument("--note", default="", help="observação gravada no JSON (ex.: a máquina)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="o comando a medir, depois de --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("diga o comando a medir depois de --")
    runs = {name: [] for name in SETTINGS}
    for round_number in range(1, args.rounds + 1):
        for name, keep in SETTINGS.items():
            result = run_once(command, keep)
            runs[name].append(result)
            print(f"rodada {round_number}, {name:9s}: {result['seconds']:7.1f} s, "
                  f"{result['minor_faults']:>10,} faltas de página, pico RSS {result['peak_rss_mb']:,.0f} MB",
                  flush=True)
    summary = {name: summarize(values) for name, values in runs.items()}
    on, off = summary["ligado"], summary["desligado"]
    print(f"mediana: ligado {on['seconds']['median']:.1f} s, desligado {off['seconds']['median']:.1f} s "
          f"(desligado/ligado = {off['seconds']['median'] / on['seconds']['median']:.2f}); faltas de página "
          f"{on['minor_faults']['median']:,.0f} contra {off['minor_faults']['median']:,.0f}")
    if args.json:
        record = {"machine": machine_info(torch.device("cpu"), cpu_model=cpu_model()), "note": args.note,
                  "command": command, "rounds": args.rounds, "runs": runs, "summary": summary}
        write_json(args.json, record)
        print(f"Gravado em {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
