# Os dois comandos do README:
#   make book   -> instala tudo em .venv e constrói o site (jupyter-book build book)
#   make test   -> instala tudo em .venv, roda o lint (make lint) e todos os testes
# Outros: make lint (ruff: estilo e ordem dos imports), make bench (benchmark de desempenho),
#         make release (versões dos alunos), make linkcheck (links do livro, sem executar notebooks),
#         make dist (wheel e sdist), make test-minimo (versões mínimas das dependências), make clean.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# O torch é instalado ANTES do projeto: sem isso o pip pode puxar uma build CUDA de vários GB.
# Para outra versão/índice: make test TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
BOOK_FLAGS ?= -W -n --keep-going
# Opções do linkcheck (ex.: LINKCHECK_FLAGS=--so-internos para checar só os links internos, sem internet).
LINKCHECK_FLAGS ?=

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install lab book slides lint test test-minimo test-colab bench release linkcheck dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install $(TORCH_SPEC)
	$(BIN)/python -m pip install -e ".[all]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $@

install: $(VENV)/.installed

# Alternativa ao bloco de instalação dos alunos (README, "Para alunos"): instala tudo em .venv
# (o mesmo `make install`, que inclui o extra `aluno`) e abre o JupyterLab nos notebooks.
lab: install
	$(BIN)/jupyter lab notebooks/

book: install
	$(BIN)/jupyter-book build book $(BOOK_FLAGS)
	@echo "Site pronto: _build/html/index.html"

# Só os slides do professor (reveal.js, das páginas de conceitos), sem construir o livro; o `make book` também os publica em slides/.
slides: install
	$(BIN)/python tools/slides.py --saida _build/slides

# O ruff (extra `test`) com a configuração de [tool.ruff] no pyproject.toml; o `make test` roda antes do pytest.
lint: install
	$(BIN)/ruff check .

# --durations: os 15 testes mais lentos no fim do relatório (onde o tempo do CI vai).
test: install lint
	$(BIN)/python -m pytest --durations=15

bench: install
	$(BIN)/python benchmarks/bench_finetune.py --json benchmarks/results/cpu.json

# O linkcheck lê as páginas sem executar os notebooks (veja tools/linkcheck.py).
linkcheck: install
	$(BIN)/python tools/linkcheck.py $(LINKCHECK_FLAGS)

# Um segundo ambiente (.venv-minimo) com as versões MÍNIMAS do pyproject.toml: testes do pacote e um notebook.
test-minimo: install
	$(BIN)/python tools/lower_bounds.py --venv .venv-minimo --torch "$(TORCH_SPEC)"

# A pilha do Google Colab (Python 3.13, torch 2.11, numpy 2.1.3, pandas 2.2.3, transformers 5.15,
# ipywidgets 7.7.1, notebook 6.5.7) num ambiente à parte, fora do repositório (COLAB_VENV): testes do
# pacote e notebooks 01-07; grava benchmarks/results/colab-stack-py313.json. NÃO roda no .ci/run:
# baixa o torch CUDA do PyPI (vários GB) e leva muitos minutos. Precisa do Python 3.13 (COLAB_PYTHON).
COLAB_PYTHON ?= $(HOME)/.pyenv/versions/3.13.0/bin/python
COLAB_VENV ?= ../venv-colab
test-colab:
	$(COLAB_PYTHON) tools/colab_stack.py --python "$(COLAB_PYTHON)" --venv "$(COLAB_VENV)"

dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

release: install
	cd exercises && $(abspath $(BIN))/python publicar.py

clean:
	rm -rf _build book/_build notebooks/data notebooks/gpt2 .pytest_cache dist .venv-minimo .venv-minimo.restricoes.txt
