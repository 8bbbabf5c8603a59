"""Testes dos notebooks do curso (notebooks/*.ipynb).

1. Formato: versionados sem saídas, kernel `python3`, células do Colab em sincronia com
   `_config.yml`, título H1 em português logo depois delas, links válidos, nenhuma função
   auxiliar definida em dois notebooks.
2. Execução de ponta a ponta (nbclient, kernel novo) no caminho COMPLETO do código: dataset
   real (espelho local do zip) e um checkpoint GPT-2 aleatório e pequeno no layout exato do
   Hugging Face (`python -m tests.checkpoints`), de modo que `load_course_model` usa o modo
   "real". Cada notebook roda numa cópia, numa pasta temporária: nada é escrito no repositório.
3. Uma execução barata do notebook 2 no modo de demonstração forçado (`LLMDEFINITIONS_DEMO=1`),
   conferindo o aviso em português. (O livro inteiro no modo de demonstração é testado pela
   construção do livro.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SYNC_TOOL = REPO_ROOT / "tools" / "sync_colab.py"
TIKTOKEN_CACHE = REPO_ROOT.parent / "shared" / "tiktoken_cache"

NOTEBOOKS = [
    "01_dados",
    "02_gpt2_pretreinado",
    "03_abordagem1_embeddings",
    "04_abordagem2_cabeca",
    "05_abordagem3_ultimo_bloco",
    "06_comparacao",
    "07_laboratorio",
]
CONCEPT_PAGES = {"objetivos", "fine-tuning", "abordagens", "tipos", "pipeline", "recursos", "etica"}
COLAB_TAGS = ("colab-badge", "colab-setup")
CELL_TIMEOUT_S = 600

# O que cada notebook precisa imprimir para provar que rodou no caminho completo (modo "real").
REAL_MODE_MARKERS = {
    "01_dados": ["Leitura correta: 5.574 mensagens", "Leitura ingênua: 5.572 mensagens", "130 lotes de treino"],
    **{name: ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300"] for name in NOTEBOOKS[1:]},
    "03_abordagem1_embeddings": ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300",
                                 "distilbert-base-uncased pré-treinado"],
    "04_abordagem2_cabeca": ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300",
                             "Mesma cabeça inicial: True", "Taxa escolhida pela validação"],
    "05_abordagem3_ultimo_bloco": ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300",
                                   "Mesma cabeça inicial: True", "Razão medida nesta máquina",
                                   "0 (último token real)", "Padding no uso x posição lida"],
    "06_comparacao": ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300",
                      "repetimos a escolha do notebook 4 pela validação"],
    "07_laboratorio": ["Modo de execução: real", "Treino: 1045 | Validação: 149 | Teste: 300",
                       "passadas congeladas completas", "Arquivo do adaptador", "Treino: 112 | Validação: 16"],
}


def _read(name: str):
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _output_text(nb, without_source: bool = False) -> str:
    """Todo o texto das saídas (streams, text/plain, text/html e erros) de um notebook executado.
    `without_source=True` deixa de fora as células que mostram código do pacote (`show_source`)."""
    parts = []
    for cell in nb.cells:
        if without_source and "show_source(" in cell.source:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif output.get("output_type") == "error":
                parts.append("\n".join(output.get("traceback", [])))
            for mime in ("text/plain", "text/html", "text/markdown"):
                value = output.get("data", {}).get(mime)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


# --------------------------------------------------------------------------- formato

def test_expected_notebooks_exist():
    found = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert found == NOTEBOOKS, "Os nomes dos notebooks são usados no _toc.yml e não podem mudar."
    assert (NOTEBOOKS_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    dirty = [
        index for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{name}: células {dirty} têm saídas ou execution_count. Limpe com "
        f"`jupyter nbconvert --clear-output --inplace notebooks/{name}.ipynb`."
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_kernel_is_python3(name):
    assert _read(name).metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_has_a_unique_id(name):
    """nbformat 4.5: toda célula tem um `id` (sem ele, o nbformat avisa e um dia recusa o arquivo)."""
    raw = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    ids = [cell.get("id") for cell in raw["cells"]]
    assert None not in ids, f"{name}: células sem id"
    assert len(set(ids)) == len(ids), f"{name}: ids repetidos"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_colab_cells_then_portuguese_title(name):
    cells = _read(name).cells
    assert [_tags(cell)[0] for cell in cells[:2]] == list(COLAB_TAGS)
    assert "remove-cell" in _tags(cells[1]), "a instalação do Colab não deve aparecer no site"
    title_cell = cells[2]
    assert title_cell.cell_type == "markdown"
    first_line = title_cell.source.splitlines()[0]
    number = int(name[:2])
    assert re.fullmatch(rf"# {number}\. \S.+", first_line), f"título inesperado: {first_line!r}"
    # Um único H1 por notebook: ele vira o título da página no livro.
    h1 = [line for cell in cells if cell.cell_type == "markdown"
          for line in cell.source.splitlines() if re.match(r"# \S", line)]
    assert h1 == [first_line]


def test_title_words_are_portuguese():
    titles = " ".join(_read(name).cells[2].source.splitlines()[0] for name in NOTEBOOKS)
    words = ("conjunto de dados", "pré-treinado", "Abordagem 1", "Abordagem 2", "Abordagem 3", "Comparando",
             "Laboratório")
    for word in words:
        assert word in titles


def test_colab_cells_in_sync_with_config():
    result = subprocess.run([sys.executable, str(SYNC_TOOL), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_pip_only_in_colab_cell(name):
    for cell in _read(name).cells[2:]:
        if cell.cell_type == "code":
            assert not re.search(r"^\s*[!%]pip\b", cell.source, flags=re.M), cell.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_links_point_to_known_pages(name):
    text = "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == "markdown")
    for page in re.findall(r"\]\(\.\./conceitos/([\w-]+)\.md\)", text):
        assert page in CONCEPT_PAGES, f"página de conceito desconhecida: {page}"
    for notebook in re.findall(r"\]\((\d\d_[\w]+)\.ipynb\)", text):
        assert notebook in NOTEBOOKS, f"link para notebook inexistente: {notebook}"


def test_no_helper_function_defined_in_two_notebooks():
    owners: dict[str, str] = {}
    for name in NOTEBOOKS:
        for cell in _read(name).cells:
            if cell.cell_type != "code":
                continue
            for function in re.findall(r"^\s*def (\w+)\(", cell.source, flags=re.M):
                assert function not in owners, (
                    f"`{function}` está definida em {owners[function]} e em {name}: mova-a para o pacote."
                )
                owners[function] = name


# --------------------------------------------------------------------------- a ferramenta do Colab

def _copy_for_sync(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "_config.yml", root / "_config.yml")
    for name in NOTEBOOKS[:2]:
        shutil.copy(NOTEBOOKS_DIR / f"{name}.ipynb", root / "notebooks")
    return root


def _sync(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SYNC_TOOL), "--root", str(root), *extra], capture_output=True, text=True
    )


def test_sync_colab_inserts_and_updates_cells(tmp_path):
    root = _copy_for_sync(tmp_path)
    path = root / "notebooks" / "01_dados.ipynb"
    nb = nbformat.read(path, as_version=4)
    body = nb.cells[2:]
    nb.cells = body
    nbformat.write(nb, path)
    assert _sync(root, "--check").returncode == 1

    assert _sync(root).returncode == 0
    synced = nbformat.read(path, as_version=4)
    assert [c.source for c in synced.cells[2:]] == [c.source for c in body]
    badge, setup = synced.cells[:2]
    colab = "colab.research.google.com/github/llmdefinitions/finetuning-llms-classificacao"
    assert f"{colab}/blob/main/notebooks/01_dados.ipynb" in badge.source
    assert '"google.colab" in sys.modules' in setup.source
    assert "%pip install -q git+https://github.com/llmdefinitions/finetuning-llms-classificacao" in setup.source
    assert _sync(root, "--check").returncode == 0

    # O endereço mora só em _config.yml: mudá-lo deixa tudo fora de sincronia até rodar a ferramenta.
    config = root / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "github.com/llmdefinitions/finetuning-llms-classificacao", "github.com/outra-org/outro-repo"
        ),
        encoding="utf-8",
    )
    assert _sync(root, "--check").returncode == 1
    assert _sync(root).returncode == 0
    for name in NOTEBOOKS[:2]:
        cells = nbformat.read(root / "notebooks" / f"{name}.ipynb", as_version=4).cells
        assert f"github/outra-org/outro-repo/blob/main/notebooks/{name}.ipynb" in cells[0].source
        assert "git+https://github.com/outra-org/outro-repo" in cells[1].source
        assert sum(COLAB_TAGS[0] in _tags(c) for c in cells) == 1


def test_sync_colab_touches_exercises_only_with_marker(tmp_path):
    root = _copy_for_sync(tmp_path)
    source = root / "exercises" / "source" / "lista1"
    source.mkdir(parents=True)
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lista 1")])
    marked = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("selo antigo", metadata={"tags": ["colab-badge"], "nbgrader": {"x": 1}}),
        nbformat.v4.new_markdown_cell("# Lista 2"),
    ])
    nbformat.write(plain, source / "plain.ipynb")
    nbformat.write(marked, source / "marked.ipynb")
    assert _sync(root).returncode == 0
    assert nbformat.read(source / "plain.ipynb", as_version=4).cells[0].source == "# Lista 1"
    cells = nbformat.read(source / "marked.ipynb", as_version=4).cells
    assert "blob/main/exercises/source/lista1/marked.ipynb" in cells[0].source
    assert cells[0].metadata["nbgrader"] == {"x": 1}  # metadados de quem cuida dos exercícios preservados
    assert COLAB_TAGS[1] in _tags(cells[1]) and cells[2].source == "# Lista 2"


def test_sync_colab_rejects_bad_url(tmp_path):
    root = _copy_for_sync(tmp_path)
    (root / "_config.yml").write_text("repository:\n  url: nao-e-um-endereco\n", encoding="utf-8")
    result = _sync(root, "--check")
    assert result.returncode == 2 and "repository.url" in result.stderr


# --------------------------------------------------------------------------- execução

@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    """Um GPT-2 aleatório (2 blocos, 64 dimensões) em <pasta>/124M, no layout do Hugging Face."""
    pytest.importorskip("transformers")
    models_dir = tmp_path_factory.mktemp("modelos")
    subprocess.run(
        [sys.executable, "-m", "tests.checkpoints", str(models_dir)],
        cwd=REPO_ROOT, check=True, capture_output=True,
    )
    assert (models_dir / "124M" / "config.json").is_file()
    return models_dir


def _kernel_env(spam_zip, models_dir=None, demo=False) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMDEFINITIONS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env["LLMDEFINITIONS_SPAM_ZIP"] = str(spam_zip)
    env["LLMDEFINITIONS_DEVICE"] = "cpu"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # O modelo minúsculo faz operações pequenas: uma thread evita a espera entre threads,
    # que domina o tempo numa máquina de 2 núcleos ocupada.
    env["OMP_NUM_THREADS"] = "1"
    if TIKTOKEN_CACHE.is_dir():
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    if os.environ.get("LLMDEFINITIONS_CACHE_DIR"):  # o cache em disco desta sessão de testes (conftest)
        env["LLMDEFINITIONS_CACHE_DIR"] = os.environ["LLMDEFINITIONS_CACHE_DIR"]
    if models_dir is not None:
        env["LLMDEFINITIONS_MODELS_DIR"] = str(models_dir)
    if demo:
        env["LLMDEFINITIONS_DEMO"] = "1"
    return env


def _execute(name: str, workdir: Path, env: dict[str, str]):
    """Executa uma cópia do notebook em `workdir`, num kernel novo; erros fazem o teste falhar."""
    from nbclient import NotebookClient

    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / f"{name}.ipynb"
    shutil.copy(NOTEBOOKS_DIR / f"{name}.ipynb", copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)
    return nb


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_full_code_path(name, tmp_path, spam_zip, tiny_models_dir):
    nb = _execute(name, tmp_path, _kernel_env(spam_zip, tiny_models_dir))
    text = _output_text(nb)
    for marker in REAL_MODE_MARKERS[name]:
        assert marker in text, f"{name}: faltou {marker!r} nas saídas"
    assert "DEMONSTRAÇÃO" not in _output_text(nb, without_source=True), f"{name}: rodou no modo de demonstração"
    assert (tmp_path / "data" / "train.csv").is_file()  # os dados foram para a pasta temporária


def test_notebook_02_demo_mode_warns_in_portuguese(tmp_path, spam_zip):
    nb = _execute("02_gpt2_pretreinado", tmp_path, _kernel_env(spam_zip, demo=True))
    text = _output_text(nb)
    assert "MODO DE DEMONSTRAÇÃO" in text
    assert "Modo de execução: demo" in text
    assert "[DEMONSTRAÇÃO]" in text  # resultados impressos carregam a etiqueta
    results = [line for line in text.splitlines() if line.startswith(("Respondeu", "Acurácia zero-shot"))]
    assert results and all(line.endswith("[DEMONSTRAÇÃO]") for line in results)


def test_executed_notebooks_do_not_touch_the_repository():
    """Os testes de execução rodam cópias: os originais continuam sem saídas."""
    for name in NOTEBOOKS:
        raw = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
        assert all(not cell.get("outputs") for cell in raw["cells"] if cell["cell_type"] == "code")


def test_notebook_01_without_dataset_uses_labelled_course_sample(tmp_path):
    """Sem o dataset (e sem internet), o notebook 1 roda com a amostra do curso, sinalizada."""
    env = _kernel_env(tmp_path / "zip-que-nao-existe.zip", demo=True)
    nb = _execute("01_dados", tmp_path, env)
    text = _output_text(nb)
    assert "amostra pequena em vez do conjunto de dados real" in text
    assert "Leitura correta: 200 mensagens [DEMONSTRAÇÃO]" in text
    # a amostra não tem aspas problemáticas nem repetições: as frases da execução dizem isso
    for sentence in ("Nenhuma linha fundida", "Nenhuma mensagem se repete", "Nenhum vazamento nesta divisão",
                     "deduplicar não muda nada aqui"):
        assert sentence in text, sentence
    assert "/sample_sms.tsv" not in text  # o caminho da amostra (pasta de instalação) não aparece
    assert (tmp_path / "data" / "train.csv").is_file()
