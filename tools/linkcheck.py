"""Confere os links do livro sem executar os notebooks (é o que `make linkcheck` roda).

O Jupyter Book v1 executaria todos os notebooks antes de checar os links. Para evitar isso,
escrevemos ao lado do `_config.yml` uma cópia dele com `execute_notebooks: "off"` (ao lado,
para que os caminhos relativos continuem valendo), rodamos o construtor `linkcheck` do
Sphinx com essa cópia e a apagamos no fim. Sai com código diferente de zero se algum link
estiver quebrado (ou se a construção tiver avisos, como no `make book`).

Uso:
    python tools/linkcheck.py                 # todos os links (precisa de internet)
    python tools/linkcheck.py --so-internos   # só referências internas (funciona sem internet)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "_config.yml"
TEMP_CONFIG = REPO_ROOT / "_config_linkcheck.yml"  # ignorado pelo git; apagado no fim
REPORT_DIR = REPO_ROOT / "_build" / "linkcheck"


def linkcheck_config(only_internal: bool) -> dict:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["linkcheck_report_timeouts_as_broken"] = False
    if only_internal:
        sphinx_config["linkcheck_ignore"] = [r"https?://.*"]
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--so-internos", action="store_true", help="ignora links externos (sem internet)")
    args = parser.parse_args(argv)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    TEMP_CONFIG.write_text(yaml.safe_dump(linkcheck_config(args.so_internos), allow_unicode=True), encoding="utf-8")
    try:
        result = subprocess.run(
            [str(jupyter_book), "build", "book", "--builder", "linkcheck", "--config", str(TEMP_CONFIG),
             "--path-output", str(REPORT_DIR), "-W", "-n", "--keep-going"],
            cwd=REPO_ROOT,
        )
    finally:
        TEMP_CONFIG.unlink(missing_ok=True)
    print(f"Relatório: {REPORT_DIR}/_build/html/output.txt")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
