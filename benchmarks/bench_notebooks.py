"""Roda cada notebook do curso como script e mede quanto tempo ele leva.

Serve para máquinas sem Jupyter (como a máquina com GPU da equipe, que tem Python, torch,
numpy e pandas, mas não o Jupyter): as células de código de cada notebook são executadas em
ordem, num espaço de nomes novo para cada notebook (como um kernel novo), todos na mesma
pasta temporária (como na construção do livro, onde rodam todos em notebooks/). Os
comandos mágicos do IPython (`%matplotlib inline`, `%pip ...`) viram `pass`; o resto do
código roda exatamente como está no notebook.

Uso (os mesmos modos dos notebooks: `LLMDEFINITIONS_MODELS_DIR`, `LLMDEFINITIONS_SPAM_ZIP`,
`LLMDEFINITIONS_DEVICE`):
    python benchmarks/bench_notebooks.py --json benchmarks/results/notebooks-cpu.json
    python benchmarks/bench_notebooks.py 05_abordagem3_ultimo_bloco   # só um notebook
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# `%pip ...`, `%%time`, `!ls`: comandos do IPython (mas não `!=` nem `% 2` no meio de uma expressão).
MAGIC_LINE = re.compile(r"^(\s*)(?:%{1,2}|!)[A-Za-z].*$", flags=re.M)


def notebook_cells(path: Path) -> list[str]:
    """O código de cada célula, com as linhas mágicas trocadas por `pass` (mesma indentação)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [MAGIC_LINE.sub(r"\1pass", "".join(cell["source"])) for cell in cells if cell["cell_type"] == "code"]


def _display(*objects, **_kwargs) -> None:
    """O `display` do Jupyter fora dele: imprime a representação de texto."""
    for obj in objects:
        print(repr(obj))


def run_notebook(path: Path, workdir: Path) -> dict:
    """Executa as células em ordem; devolve o tempo total, o de cada célula e o erro, se houver."""
    namespace = {"__name__": "__main__", "display": _display}  # `display` é um nome pronto no Jupyter
    cell_times, error = [], None
    previous = Path.cwd()
    os.chdir(workdir)
    start = time.perf_counter()
    try:
        for index, code in enumerate(notebook_cells(path)):
            cell_start = time.perf_counter()
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"{path.name}[{index}]", "exec"), namespace)
            except Exception:  # noqa: BLE001 - o erro é relatado e o notebook é dado como falho
                error = traceback.format_exc(limit=3)
                break
            finally:
                cell_times.append(round(time.perf_counter() - cell_start, 3))
    finally:
        os.chdir(previous)
    seconds = round(time.perf_counter() - start, 2)
    from llmdefinitions.memory import peak_rss_mb  # o pico de memória residente do processo até aqui

    return {"seconds": seconds, "cell_seconds": cell_times, "peak_rss_mb": round(peak_rss_mb()), "error": error}


def machine_description() -> dict:
    import torch

    from llmdefinitions import get_device

    device = get_device()
    info = {"python": platform.python_version(), "torch": torch.__version__, "device": str(device),
            "cpu_cores": os.cpu_count()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    for package in ("numpy", "pandas", "sklearn", "transformers"):
        with contextlib.suppress(ImportError):
            info[package] = __import__(package).__version__
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebooks (sem .ipynb); padrão: todos")
    parser.add_argument("--json", type=Path, help="onde gravar os resultados")
    parser.add_argument("--note", default="", help="observação gravada junto (ex.: qual checkpoint)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (padrão do torch se omitido)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(REPO_ROOT))
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from version import code_version

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    paths = [NOTEBOOKS_DIR / f"{name}.ipynb" for name in args.names] or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    results = {"machine": machine_description(), "code": code_version(), "threads": args.threads,
               "note": args.note, "notebooks": {}}
    # Uma pasta para todos, em ordem, como na construção do livro: o que um notebook grava
    # (dados divididos, escolhas feitas na validação) fica para os seguintes.
    workdir = Path(tempfile.mkdtemp(prefix="notebooks-"))
    for path in paths:
        result = run_notebook(path, workdir)
        results["notebooks"][path.stem] = result
        status = "ok" if result["error"] is None else "ERRO"
        print(f"{path.stem:32s} {result['seconds']:8.1f} s  {status}", flush=True)
        if result["error"]:
            print(result["error"], flush=True)
    total = sum(r["seconds"] for r in results["notebooks"].values())
    print(f"{'total':32s} {total:8.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(r["error"] is None for r in results["notebooks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
