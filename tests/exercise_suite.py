"""Os testes que todo exercício tem: cada `tests/test_exercise_<atividade>.py` dos exercícios 1 a 6
os traz com `from tests.exercise_suite import *` (o pytest coleta os testes importados, com estes
nomes); os exercícios 7 e 8 recebem dois deles, com outros nomes, de `tests/exercise_training_suite.py`.

Os testes leem as constantes do próprio arquivo do exercício (`request.module`): ATIVIDADE, REGRAS e
CORRETAS (nome -> soluções corretas; a fixture `casos_rapidos`, em tests/conftest.py, roda todas);
nos exercícios 1 a 6 também ALTERNATIVAS, ALTERNATIVAS_2 e, se houver, DISPENSADAS (respostas que só
precisam da segunda alternativa).

Sem nbgrader, num processo IPython (ver tests/exercise_helpers.py): a solução do professor e as
corretas ganham todos os pontos, e cada regra do enunciado tem uma resposta que quebra só ela e perde
exatamente os pontos das células que a testam. Nos exercícios 1 a 6, `ERRADAS` (respostas que só passam
nos testes visíveis) e `ALTERNATIVAS` também entram na correção da turma com o nbgrader
(tests/test_corrigir.py).
"""

from __future__ import annotations

from tests.exercise_helpers import corretas_que_perderam_pontos, perdas_de_pontos_erradas, respostas_sem_alternativa

__all__ = [
    "test_cada_resposta_tem_duas_alternativas_independentes",
    "test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos",
    "test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos",
]


def test_cada_resposta_tem_duas_alternativas_independentes(request):
    exercicio = request.module
    problemas = respostas_sem_alternativa(exercicio.ATIVIDADE, exercicio.ALTERNATIVAS, exercicio.ALTERNATIVAS_2,
                                          dispensadas=getattr(exercicio, "DISPENSADAS", frozenset()))
    assert not problemas, "\n".join(problemas)


def test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos(casos_rapidos):
    falhas = corretas_que_perderam_pontos(*casos_rapidos)
    assert not falhas, "\n".join(falhas)


def test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos(
        request, casos_rapidos):
    atividade = request.module.ATIVIDADE
    erros = perdas_de_pontos_erradas(*casos_rapidos, [atividade], {atividade: request.module.REGRAS})
    assert not erros, "\n".join(erros)
