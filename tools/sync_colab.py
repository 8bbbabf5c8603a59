"""Mantém as duas primeiras células de cada notebook: o selo "Abrir no Colab" e a instalação no Colab.

O endereço do repositório fica num único lugar, `repository.url` em `_config.yml`
(e o ramo em `repository.branch`). Esta ferramenta (re)escreve, em cada notebook:

1. uma célula Markdown (etiqueta `colab-badge`) com o selo que abre o notebook no Colab;
2. uma célula de código (etiqueta `colab-setup`) que instala o pacote `llmdefinitions`
   a partir do repositório, mas só quando o notebook roda no Google Colab. Ela leva também
   a etiqueta `remove-cell`: o Jupyter Book a executa (não faz nada fora do Colab), mas não
   a mostra no site.

As mesmas funções (`read_repository`, `colab_url`, `badge_source` e `setup_source`) geram as
células do Colab dos exercícios em `exercises/publicar.py`: o código da instalação existe só aqui.

Notebooks tratados:
- `notebooks/*.ipynb`: as células são inseridas se faltarem e atualizadas se mudaram;
- `exercises/source/**.ipynb` e `exercises/release/**.ipynb` (se existirem): só são
  atualizados os notebooks cuja primeira célula já tem a etiqueta `colab-badge`
  (quem cuida dos exercícios decide se quer as células; nada é inserido ali).

Uso (a partir de qualquer pasta):
    python tools/sync_colab.py           # reescreve o que estiver desatualizado
    python tools/sync_colab.py --check   # só confere; sai com código 1 se algo estiver fora de sincronia
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat
import yaml
from nbformat.corpus.words import generate_corpus_id

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = "_config.yml"
BADGE_TAG = "colab-badge"
SETUP_TAG = "colab-setup"
REMOVE_FROM_SITE_TAG = "remove-cell"  # etiqueta do Jupyter Book: a célula não aparece no site
NBFORMAT_MINOR = 5  # versão com ids de célula

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")


class SyncError(RuntimeError):
    """Configuração ausente ou inválida."""


# --------------------------------------------------------------------------- configuração

def read_repository(root: Path = REPO_ROOT) -> tuple[str, str, str, str]:
    """Lê `_config.yml` e devolve `(url, owner, repo, branch)`."""
    config_path = root / CONFIG_FILE
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as err:
        raise SyncError(f"Não encontrei {config_path}.") from err
    repository = config.get("repository") or {}
    url = str(repository.get("url", "")).strip()
    match = GITHUB_URL.match(url)
    if not match:
        raise SyncError(
            f"repository.url em {config_path} deve ser um endereço https://github.com/<dono>/<repo>; "
            f"valor atual: {url!r}."
        )
    branch = str(repository.get("branch") or "main").strip()
    return url.rstrip("/"), match["owner"], match["repo"], branch


# --------------------------------------------------------------------------- células esperadas

def colab_url(owner: str, repo: str, branch: str, relative_path: str) -> str:
    """Endereço que abre no Colab o notebook `relative_path` (relativo à raiz) do repositório."""
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{relative_path}"


def badge_source(link: str) -> str:
    """A célula Markdown do selo "Abrir no Colab" que leva a `link`."""
    return f"[![Abrir no Colab]({COLAB_BADGE_IMAGE})]({link})"


def setup_source(url: str) -> str:
    """A célula que instala o pacote do curso a partir de `url`, só quando roda no Google Colab.

    É a única definição dessa célula: os notebooks da aula (esta ferramenta) e os exercícios
    (`exercises/publicar.py`) usam esta função.
    """
    return (
        "# Só no Google Colab: instala o pacote do curso. Em outros ambientes não faz nada.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f"    %pip install -q git+{url}"
    )


def expected_cells(url: str, owner: str, repo: str, branch: str, relative_path: str) -> list:
    badge = nbformat.v4.new_markdown_cell(
        badge_source(colab_url(owner, repo, branch, relative_path)), metadata={"tags": [BADGE_TAG]}
    )
    badge["id"] = BADGE_TAG
    setup = nbformat.v4.new_code_cell(setup_source(url), metadata={"tags": [SETUP_TAG, REMOVE_FROM_SITE_TAG]})
    setup["id"] = SETUP_TAG
    return [badge, setup]


def _has_tag(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def _same_cell(actual, expected) -> bool:
    if actual.get("cell_type") != expected["cell_type"] or actual.get("source") != expected["source"]:
        return False
    if not all(_has_tag(actual, tag) for tag in expected["metadata"]["tags"]):
        return False
    if actual["cell_type"] == "code" and (actual.get("outputs") or actual.get("execution_count") is not None):
        return False
    return True


# --------------------------------------------------------------------------- um notebook

def synced_notebook(nb, cells: list):
    """Cópia de `nb` com as duas células do Colab no início (e em nenhum outro lugar)."""
    new_nb = copy.deepcopy(nb)
    body = [
        cell for cell in new_nb.cells if not (_has_tag(cell, BADGE_TAG) or _has_tag(cell, SETUP_TAG))
    ]
    new_cells = []
    old = {BADGE_TAG: None, SETUP_TAG: None}
    for cell in new_nb.cells:
        for tag in old:
            if _has_tag(cell, tag) and old[tag] is None:
                old[tag] = cell
    for expected, tag in zip(cells, (BADGE_TAG, SETUP_TAG)):
        cell = copy.deepcopy(expected)
        if old[tag] is not None:  # preserva metadados extras (ex.: de quem cuida dos exercícios)
            expected_tags = cell["metadata"]["tags"]
            cell["metadata"] = copy.deepcopy(old[tag].get("metadata", {}))
            old_tags = cell["metadata"].get("tags", [])
            cell["metadata"]["tags"] = old_tags + [t for t in expected_tags if t not in old_tags]
            cell["id"] = old[tag].get("id", cell["id"])
        new_cells.append(cell)
    new_nb.cells = new_cells + body
    return new_nb


def is_in_sync(nb, cells: list) -> bool:
    if len(nb.cells) < 2:
        return False
    if not all(_same_cell(actual, expected) for actual, expected in zip(nb.cells[:2], cells)):
        return False
    # as etiquetas não podem aparecer de novo mais adiante
    return not any(_has_tag(c, BADGE_TAG) or _has_tag(c, SETUP_TAG) for c in nb.cells[2:])


def _read(path: Path):
    nb = nbformat.read(path, as_version=4)
    if nb.nbformat_minor < NBFORMAT_MINOR:  # formato antigo, sem ids de célula: completa
        nb.nbformat_minor = NBFORMAT_MINOR
        for cell in nb.cells:
            cell.setdefault("id", generate_corpus_id())
    return nb


def _write(nb, path: Path) -> None:
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- quais notebooks

def notebooks_to_sync(root: Path = REPO_ROOT) -> list[tuple[Path, bool]]:
    """Lista `(caminho, pode_inserir)`: em notebooks/ sempre; nos exercícios só com a etiqueta."""
    found = [(path, True) for path in sorted((root / "notebooks").glob("*.ipynb"))]
    for folder in ("exercises/source", "exercises/release"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            nb = _read(path)
            if nb.cells and _has_tag(nb.cells[0], BADGE_TAG):
                found.append((path, False))
    return found


def sync(root: Path = REPO_ROOT, check: bool = False) -> list[Path]:
    """Sincroniza (ou, com `check`, só confere) e devolve os notebooks fora de sincronia."""
    url, owner, repo, branch = read_repository(root)
    out_of_sync = []
    for path, _ in notebooks_to_sync(root):
        relative = path.relative_to(root).as_posix()
        cells = expected_cells(url, owner, repo, branch, relative)
        nb = _read(path)
        if is_in_sync(nb, cells):
            continue
        out_of_sync.append(path)
        if not check:
            _write(synced_notebook(nb, cells), path)
    return out_of_sync


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Sincroniza as células do Colab dos notebooks com repository.url de _config.yml."
    )
    parser.add_argument("--check", action="store_true", help="só confere; código de saída 1 se algo mudaria")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="raiz do repositório")
    args = parser.parse_args(argv)
    try:
        changed = sync(args.root.resolve(), check=args.check)
    except SyncError as err:
        print(f"Erro: {err}", file=sys.stderr)
        return 2
    root = args.root.resolve()
    if args.check:
        if changed:
            print("Notebooks com as células do Colab fora de sincronia (rode python tools/sync_colab.py):")
            for path in changed:
                print(f"  - {path.relative_to(root)}")
            return 1
        print("Células do Colab em sincronia em todos os notebooks.")
        return 0
    for path in changed:
        print(f"Atualizado: {path.relative_to(root)}")
    if not changed:
        print("Nada a fazer: as células do Colab já estavam em sincronia.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
