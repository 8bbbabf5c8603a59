"""A pilha do Google Colab num ambiente à parte: instala, roda os testes do pacote e os notebooks, grava o resultado.

Desde 2026-08-25 a imagem do Colab traz Python 3.13, torch 2.11, numpy 2.1.3,
pandas 2.2.3, transformers 5.15, ipywidgets 7.7.1 e notebook 6.5.7 (googlecolab/backend-info).
Este script reproduz essa pilha num ambiente virtual FORA do repositório e confere o curso nela:

1. cria o ambiente com o Python 3.13 (`--python`), instala o torch 2.11 do PyPI (a build CUDA, de vários
   GB: no Linux o PyPI não tem outra para o Python 3.13) e as versões fixas do Colab;
2. instala o projeto (`pip install -e .`) e as ferramentas do extra `test`, uma a uma, sem deixar o
   pip trocar as versões do Colab (arquivo de restrições); o que não instala fica registrado;
3. roda os testes do pacote (os que não precisam do livro nem do nbgrader) e os notebooks 01-07 com o
   mesmo teste do CI (`test_notebook_runs_on_full_code_path`: dataset real, GPT-2 pequeno e aleatório);
4. grava tudo em benchmarks/results/colab-stack-py313.json.

Uso (é o `make test-colab`; pesado demais para o .ci/run):

    ~/.pyenv/versions/3.13.0/bin/python tools/colab_stack.py --venv ../venv-colab
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
OUTPUT = REPO_ROOT / "benchmarks" / "results" / "colab-stack-py313.json"

# As versões da imagem do Colab. `==2.11.*`: o Colab diz só "torch 2.11"; idem transformers 5.15.
COLAB_PINS = {
    "torch": "2.11.*",
    "numpy": "2.1.3",
    "pandas": "2.2.3",
    "transformers": "5.15.*",
    "ipywidgets": "7.7.1",
    "notebook": "6.5.7",
}

# Testes do pacote que não precisam do livro construído nem do nbgrader.
PACKAGE_TESTS = [
    "tests/test_model.py",
    "tests/test_data.py",
    "tests/test_pipeline.py",
    "tests/test_classifier.py",
    "tests/test_training.py",
    "tests/test_evaluation.py",
    "tests/test_generation.py",
    "tests/test_device.py",
    "tests/test_features.py",
    "tests/test_lora.py",
    "tests/test_source.py",
    "tests/test_uncertainty.py",
    "tests/test_user_data.py",
    "tests/test_offline.py",
    "tests/test_experiments.py",
    "tests/test_lab.py",
    "tests/test_weights.py",
    "tests/test_download.py",
    "tests/test_dataset.py",
    "tests/test_config.py",
    "tests/test_tokenizer.py",
    "tests/test_attribution.py",
]
# Os notebooks 01-07 pelo mesmo teste do CI (um caso por notebook).
NOTEBOOK_TESTS = ["tests/test_notebooks.py", "-k", "test_notebook_runs_on_full_code_path"]


def log(message: str) -> None:
    print(f"[colab-stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    log(" ".join(command))
    return subprocess.run(command, text=True, **kwargs)


def pip(venv: Path, *args: str, check: bool = True) -> bool:
    done = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args])
    if check and done.returncode != 0:
        raise SystemExit(f"pip install {' '.join(args)} falhou (código {done.returncode})")
    return done.returncode == 0


def installed_versions(venv: Path) -> dict[str, str]:
    done = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
               capture_output=True, check=True)
    return {item["name"].lower().replace("_", "-"): item["version"] for item in json.loads(done.stdout)}


def build_venv(python: str, venv: Path) -> dict:
    """Cria (ou reaproveita) o ambiente e instala a pilha do Colab, o projeto e o extra `test`."""
    if not (venv / "bin" / "python").exists():
        run([python, "-m", "venv", str(venv)], check=True)
    # O torch primeiro e sozinho: é o download grande (a build CUDA do PyPI).
    pip(venv, f"torch=={COLAB_PINS['torch']}")
    pip(venv, *(f"{name}=={version}" for name, version in COLAB_PINS.items()))
    versions = installed_versions(venv)
    # Daqui em diante o pip não pode trocar nenhuma versão do Colab.
    constraints = venv / "restricoes-colab.txt"
    constraints.write_text("".join(f"{name}=={versions[name]}\n" for name in COLAB_PINS), encoding="utf-8")
    pip(venv, "-c", str(constraints), "-e", str(REPO_ROOT))
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_extra = extras["project"]["optional-dependencies"]["test"]
    failed = [req for req in test_extra if not pip(venv, "-c", str(constraints), req, check=False)]
    return {"test_extra_not_installed": failed}


def junit_cases(path: Path) -> list[dict]:
    """Os casos de um relatório JUnit do pytest: nome, resultado e segundos."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
        cases.append({"test": f"{case.get('classname')}::{case.get('name')}", "outcome": outcome,
                      "seconds": round(float(case.get("time", 0)), 1)})
    return cases


def run_pytest(venv: Path, args: list[str], report: Path) -> list[dict]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMDEFINITIONS_")}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",  # o kernel python3 dos notebooks vem deste ambiente
        VIRTUAL_ENV=str(venv),
        TIKTOKEN_CACHE_DIR=str(SHARED / "tiktoken_cache"),
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
    )
    env.pop("PYTHONPATH", None)
    run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}", *args], cwd=REPO_ROOT, env=env)
    return junit_cases(report) if report.is_file() else []


def count(cases: list[dict]) -> dict:
    totals = {outcome: 0 for outcome in ("passed", "failed", "error", "skipped")}
    for case in cases:
        totals[case["outcome"]] += 1
    return totals


def code_version() -> dict:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import version  # benchmarks/version.py: o mesmo registro dos outros resultados

    return version.code_version()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(Path.home() / ".pyenv/versions/3.13.0/bin/python"),
                        help="o Python 3.13 que cria o ambiente")
    parser.add_argument("--venv", type=Path, default=REPO_ROOT.parent / "venv-colab",
                        help="pasta do ambiente, fora do repositório")
    parser.add_argument("--json", type=Path, default=OUTPUT, help="onde gravar o resultado")
    parser.add_argument("--sem-instalar", action="store_true", help="reaproveita o ambiente como está")
    args = parser.parse_args()
    venv = args.venv.resolve()
    if REPO_ROOT in venv.parents or venv == REPO_ROOT:
        parser.error(f"o ambiente deve ficar fora do repositório: {venv}")

    started = time.monotonic()
    install = {} if args.sem_instalar else build_venv(args.python, venv)
    install_seconds = round(time.monotonic() - started)
    versions = installed_versions(venv)
    python_version = run([str(venv / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, check=True).stdout.strip()

    reports = venv / "relatorios"
    reports.mkdir(exist_ok=True)
    package_cases = run_pytest(venv, PACKAGE_TESTS, reports / "pacote.xml")
    notebook_cases = run_pytest(venv, NOTEBOOK_TESTS, reports / "notebooks.xml")
    notebooks = {}
    for case in notebook_cases:
        name = case["test"].split("[")[-1].rstrip("]")
        notebooks[name] = {"outcome": case["outcome"], "seconds": case["seconds"]}

    record = {
        "what": "pilha do Google Colab (imagem de 2026-08-25): testes do pacote e notebooks 01-07",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **code_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "device": "cpu (LLMDEFINITIONS_DEVICE=cpu nos notebooks; sem GPU)"},
        "python": python_version,
        "colab_pins": {name: {"requested": spec, "installed": versions.get(name)}
                       for name, spec in COLAB_PINS.items()},
        "installed": {name: versions[name] for name in sorted(versions)},
        "install_seconds": install_seconds,
        **install,
        "package_tests": {"files": PACKAGE_TESTS, **count(package_cases),
                          "not_passed": [c["test"] for c in package_cases if c["outcome"] in ("failed", "error")]},
        "notebooks": notebooks,
        "notebooks_passed": sum(n["outcome"] == "passed" for n in notebooks.values()),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"resultado em {args.json}")
    failures = record["package_tests"]["failed"] + record["package_tests"]["error"]
    ok = failures == 0 and len(notebooks) == 7 and record["notebooks_passed"] == 7
    log(f"testes do pacote: {count(package_cases)}; notebooks: {record['notebooks_passed']}/7 "
        f"({'ok' if ok else 'FALHOU'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
