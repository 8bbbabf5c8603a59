"""Cada notebook mostra, como código, os passos da aula que ensina (não só os resultados).

Para cada notebook, a lista diz o que tem de aparecer no código das células (texto exato,
procurado nas células de código) e na prosa (células markdown). Um passo que some de um
notebook faz este teste falhar, mesmo que o notebook ainda rode.
"""

from __future__ import annotations

import pytest

from tests.test_notebooks import NOTEBOOKS, _read

# notebook -> trechos que precisam estar no CÓDIGO das células
CODE_STEPS: dict[str, list[str]] = {
    "01_dados": [],
    "02_gpt2_pretreinado": [],
    "03_abordagem1_embeddings": [],
    "04_abordagem2_cabeca": [],
    "05_abordagem3_ultimo_bloco": [],
    "06_comparacao": [],
}

# notebook -> trechos que precisam estar na PROSA (markdown)
PROSE_STEPS: dict[str, list[str]] = {
    "01_dados": [],
    "02_gpt2_pretreinado": [],
    "03_abordagem1_embeddings": [],
    "04_abordagem2_cabeca": [],
    "05_abordagem3_ultimo_bloco": [],
    "06_comparacao": [],
}


def _sources(name: str, cell_type: str) -> str:
    return "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == cell_type)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lesson_code_is_visible(name):
    code = _sources(name, "code")
    missing = [step for step in CODE_STEPS.get(name, []) if step not in code]
    assert not missing, f"{name}: passos da aula ausentes do código: {missing}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lesson_prose_is_present(name):
    prose = _sources(name, "markdown")
    missing = [step for step in PROSE_STEPS.get(name, []) if step not in prose]
    assert not missing, f"{name}: trechos ausentes da prosa: {missing}"
