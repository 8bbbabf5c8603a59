"""Testa os limites inferiores do pyproject.toml: um ambiente com as versões MAIS ANTIGAS permitidas.

O pyproject.toml só declara mínimos (`numpy>=1.24`, ...). Um mínimo que nunca foi instalado
é um palpite. Este script:

1. lê todas as dependências (as do pacote e as dos extras) e fixa cada uma no seu mínimo
   (`numpy==1.24`), exceto o torch, que vem da versão local de CPU (`--torch`);
2. cria um ambiente novo (`--venv`), instala o torch e depois o projeto com essas versões;
3. roda os testes do pacote e um notebook de ponta a ponta nesse ambiente.

Sai com código diferente de zero se a instalação ou algum teste falhar. Uso:
    python tools/lower_bounds.py                       # ambiente em .venv-minimo
    python tools/lower_bounds.py --apenas-instalar     # só confere que os mínimos se instalam
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[1]

# Os testes do pacote (rápidos) e um notebook no caminho completo do código.
PACKAGE_TESTS = [
    "tests/test_model.py", "tests/test_data.py", "tests/test_pipeline.py", "tests/test_features.py",
    "tests/test_classifier.py", "tests/test_training.py", "tests/test_evaluation.py", "tests/test_generation.py",
    "tests/test_device.py", "tests/test_weights.py", "tests/test_download.py", "tests/test_dataset.py",
    "tests/test_config.py", "tests/test_tokenizer.py", "tests/test_encoder.py", "tests/test_attribution.py",
    "tests/test_source.py", "tests/test_offline.py", "tests/test_checkpoint.py", "tests/test_course.py",
    "tests/test_memory.py", "tests/test_model_card.py",
]
NOTEBOOK_TEST = ["tests/test_notebooks.py", "-k", "test_notebook_runs_on_full_code_path and 04_abordagem2"]


def lower_bound_pins(pyproject: Path = REPO_ROOT / "pyproject.toml") -> dict[str, str]:
    """`nome -> versão mínima` de cada dependência (pacote e extras), sem o torch e sem o próprio projeto."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for text in requirements:
        requirement = Requirement(text)
        if requirement.name in {project["name"], "torch"}:
            continue
        minimums = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(minimums) != 1:
            raise SystemExit(f"{text!r}: toda dependência precisa de exatamente um limite inferior (>=).")
        pins[requirement.name] = minimums[0]
    return pins


def _run(command: list[str], **kwargs) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=REPO_ROOT / ".venv-minimo")
    parser.add_argument("--torch", default="torch==2.13.0", help="como instalar o torch (padrão: a build local de CPU)")
    parser.add_argument("--apenas-instalar", action="store_true", help="instala e lista as versões, sem rodar testes")
    args = parser.parse_args(argv)

    pins = lower_bound_pins()
    constraints = args.venv.with_suffix(".restricoes.txt")
    python = args.venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(args.venv)])
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())), encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "--quiet", *args.torch.split()])
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints), "-e", f"{REPO_ROOT}[all]"])
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], capture_output=True)

    installed = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    versions = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
                for line in installed.splitlines() if "==" in line}
    print("\nVersões mínimas instaladas (pedida -> instalada):")
    for name, version in sorted(pins.items()):
        print(f"  {name:20s} {version:10s} -> {versions.get(name.lower().replace('_', '-'), '?')}")
    print(f"  {'torch':20s} {'(local)':10s} -> {versions.get('torch', '?')}", flush=True)
    if args.apenas_instalar:
        return 0

    env_bin = str(args.venv / "bin")
    env = {"PATH": f"{env_bin}:/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    for name in ("TIKTOKEN_CACHE_DIR", "HF_HUB_OFFLINE", "HOME", "TMPDIR", "LANG"):
        if name in os.environ:
            env[name] = os.environ[name]
    pytest = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    _run(pytest + PACKAGE_TESTS, cwd=REPO_ROOT, env=env)
    _run(pytest + NOTEBOOK_TEST, cwd=REPO_ROOT, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
