"""Entregas fictícias a partir das soluções: para os testes da correção e para o benchmark.

Um aluno fictício é o notebook-fonte com cada célula de resposta modificada de um jeito
(ex.: uma função que nunca volta, prints e avisos a mais). Estas funções fazem a parte comum:
achar as células de resposta e as funções que cada uma define.
"""

from __future__ import annotations

import copy
import re
from typing import Callable


def metadados_nbgrader(celula) -> dict:
    """Os metadados do nbgrader de uma célula (vazio se ela não tiver)."""
    return celula.get("metadata", {}).get("nbgrader", {})


def funcoes_definidas(fonte: str) -> list[str]:
    """Nomes das funções definidas no nível de cima do código (`def nome(`)."""
    return re.findall(r"^def (\w+)\(", fonte, flags=re.M)


def modificar_respostas(nb, com_funcoes: Callable[[str, list[str]], str],
                        sem_funcoes: Callable[[str], str] = lambda fonte: fonte):
    """Uma cópia de `nb` em que cada célula de código de resposta vira
    `com_funcoes(fonte, nomes_das_funcoes)`, ou `sem_funcoes(fonte)` se ela não define funções."""
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if celula.cell_type == "code" and metadados_nbgrader(celula).get("solution"):
            nomes = funcoes_definidas(celula.source)
            celula.source = com_funcoes(celula.source, nomes) if nomes else sem_funcoes(celula.source)
    return novo
