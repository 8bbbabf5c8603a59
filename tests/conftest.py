from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Os testes comuns dos exercícios e os ajudantes deles ficam fora dos arquivos test_*: assert detalhado lá também.
pytest.register_assert_rewrite("tests.exercise_helpers", "tests.exercise_suite", "tests.exercise_training_suite")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SPAM_ZIP = SHARED / "data" / "sms_spam_collection.zip"
TIKTOKEN_CACHE = SHARED / "tiktoken_cache"
BOOK_FLAGS = ["-W", "-n", "--keep-going"]  # os mesmos do Makefile (BOOK_FLAGS)

# O cache em disco do trabalho congelado (llmdefinitions/disk_cache.py) numa pasta só desta sessão de
# testes: nada vai para o ~/.cache de quem roda, e cada sessão começa fria.
os.environ.setdefault("LLMDEFINITIONS_CACHE_DIR", tempfile.mkdtemp(prefix="llmdefinitions-cache-"))

# O tokenizador funciona sem internet quando o cache local existe.
if TIKTOKEN_CACHE.is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))


@pytest.fixture(scope="session")
def tokenizer():
    from llmdefinitions import get_tokenizer

    return get_tokenizer()


@pytest.fixture(scope="session")
def spam_zip():
    if not SPAM_ZIP.is_file():
        pytest.skip(f"espelho do dataset ausente: {SPAM_ZIP}")
    return SPAM_ZIP


# O livro é construído uma vez por sessão de testes (alguns minutos): test_book, os testes no
# navegador e os de páginas de demonstração leem o mesmo HTML.
@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    if not SPAM_ZIP.is_file():
        pytest.skip("espelho do dataset ausente")
    out = tmp_path_factory.mktemp("book")
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE),
        "LLMDEFINITIONS_SPAM_ZIP": str(SPAM_ZIP),
        # Sem LLMDEFINITIONS_MODELS_DIR, como `make book`: os avisos do site citam a pasta padrão
        # (gpt2/124M/), não um caminho desta máquina. Nenhum peso lá: modo de demonstração automático.
        "HF_HUB_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        # O modelo de demonstração é minúsculo: com uma thread ele roda várias vezes mais rápido
        # numa máquina de 2 núcleos (medido), e o CI fica bem abaixo de 20 minutos.
        "OMP_NUM_THREADS": "1",
    }
    env.pop("LLMDEFINITIONS_DEMO", None)
    env.pop("LLMDEFINITIONS_MODELS_DIR", None)
    if (REPO_ROOT / "notebooks" / "gpt2" / "124M").exists():
        pytest.skip("notebooks/gpt2/124M existe: o livro não rodaria no modo de demonstração")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", "book", "--path-output", str(out), *BOOK_FLAGS],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    return out / "_build" / "html", log


@pytest.fixture(scope="session")
def built_html(request) -> Path:
    """A pasta HTML do livro de demonstração: a de LLMDEFINITIONS_BUILT_HTML (um livro já construído,
    para iterar sem reconstruir) ou a do `built_book` desta sessão."""
    ready = os.environ.get("LLMDEFINITIONS_BUILT_HTML")
    if ready:
        return Path(ready)
    html, _ = request.getfixturevalue("built_book")
    return html


# Capturas de tela dos testes no navegador (site e JupyterLab): o fim do relatório do pytest diz
# onde ficaram as desta sessão, para o mantenedor (e o CI, que guarda a pasta) encontrá-las.
CAPTURAS_RAIZ = Path(os.environ.get("CAPTURAS_DIR") or REPO_ROOT / "_build" / "capturas")
_INICIO_DA_SESSAO = time.time()


def pytest_terminal_summary(terminalreporter):
    if not CAPTURAS_RAIZ.is_dir():
        return
    novas: dict[Path, int] = {}
    for imagem in CAPTURAS_RAIZ.rglob("*.png"):
        if imagem.stat().st_mtime >= _INICIO_DA_SESSAO:
            novas[imagem.parent] = novas.get(imagem.parent, 0) + 1
    if novas:
        terminalreporter.section("capturas de tela")
        for pasta, quantas in sorted(novas.items()):
            terminalreporter.write_line(f"{quantas} capturas em {pasta}")


# Compartilhados pelos testes do pacote (test_model, test_generation, test_weights, test_pipeline).
@pytest.fixture(scope="module")
def hf_model():
    from tests.checkpoints import make_hf_gpt2

    return make_hf_gpt2(n_layer=2, n_embd=64, n_head=4, n_positions=128)


@pytest.fixture(scope="module")
def models_dir(hf_model, tmp_path_factory):
    from tests.checkpoints import save_hf_checkpoint

    root = tmp_path_factory.mktemp("models")
    save_hf_checkpoint(hf_model, root / "124M")
    return root


@pytest.fixture(scope="module")
def real_splits(spam_zip, tmp_path_factory):
    from llmdefinitions import prepare_spam_splits

    return prepare_spam_splits(tmp_path_factory.mktemp("data"), url=spam_zip)


# Compartilhadas pelos testes dos exercícios (tests/test_exercise_*.py): leem as constantes do
# módulo que as pede (ATIVIDADE, CORRETAS, REGRAS; PONTOS, ALUNOS). Ver tests/exercise_suite.py e
# tests/exercise_training_suite.py.
@pytest.fixture(scope="module")
def casos_rapidos(request, tmp_path_factory):
    from tests.exercise_helpers import rodar_casos_rapidos

    exercicio = request.module
    return rodar_casos_rapidos(exercicio.ATIVIDADE, exercicio.CORRETAS, exercicio.REGRAS,
                               tmp_path_factory.mktemp("rapido"))


@pytest.fixture(scope="module")
def turma_treino(request, tmp_path_factory):
    from tests.exercise_helpers import corrigir_turma_de_treino

    exercicio = request.module
    atividade = exercicio.ATIVIDADE
    return corrigir_turma_de_treino((atividade,), {atividade: exercicio.PONTOS}, exercicio.ALUNOS,
                                    tmp_path_factory.mktemp("turma-treino"))
