"""Os testes que os exercícios 7 e 8 (treino) têm em comum: cada arquivo os traz com
`from tests.exercise_training_suite import *` (o pytest coleta os testes importados, com estes nomes)
e define as constantes que eles leem do próprio módulo (`request.module`): ATIVIDADE, PONTOS
(grade_id -> pontos), ALUNOS, ERROS, CORRETAS e REGRAS. As fixtures `casos_rapidos` e `turma_treino`
estão em tests/conftest.py; os ajudantes, em tests/exercise_helpers.py; os dois testes rápidos
vêm de tests/exercise_suite.py.

Rápido (sem nbgrader): a estrutura (pontos e testes ocultos de cada célula), as soluções corretas em
outros idiomas e cada regra do enunciado, como nos exercícios 1 a 6. Lento: um curso temporário só com a
atividade é corrigido uma vez por `corrigir.py`, com uma turma fictícia: `solucao` (a fonte do professor),
`em_branco` (a versão do aluno), `alternativa_a` e `alternativa_b` (nota toda), `fixo` (respostas
"chumbadas" que só passam nos testes visíveis) e os erros clássicos (`ERROS`, no máximo um por célula de
resposta: cada um perde exatamente os pontos do teste da sua célula).
"""

from __future__ import annotations

from tests.exercise_helpers import (
    ALUNOS_COM_NOTA_MAXIMA,
    LENTO,
    conferir_cada_erro_classico,
    conferir_pontos_e_testes_ocultos,
    conferir_respostas_chumbadas,
    conferir_sem_tempo_esgotado,
)
from tests.exercise_suite import (
    test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos,
    test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos,
)

__all__ = [
    "test_pontos_e_testes_ocultos_de_cada_celula", "test_solucoes_corretas_em_outros_idiomas_ganham_todos_os_pontos",
    "test_cada_regra_do_enunciado_perde_exatamente_os_pontos_da_sua_celula",
    "test_solucao_e_alternativas_ganham_nota_maxima", "test_release_sem_resposta_tira_zero",
    "test_respostas_chumbadas_passam_nos_visiveis_e_perdem_nos_ocultos",
    "test_cada_erro_classico_perde_so_os_pontos_do_seu_teste", "test_correcao_sem_celula_estourando_o_tempo",
]

# Os mesmos dois testes dos exercícios 1 a 6, com os nomes (e ids) que os exercícios 7 e 8 sempre tiveram.
test_solucoes_corretas_em_outros_idiomas_ganham_todos_os_pontos = (
    test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos)
test_cada_regra_do_enunciado_perde_exatamente_os_pontos_da_sua_celula = (
    test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos)


def test_pontos_e_testes_ocultos_de_cada_celula(request):
    exercicio = request.module
    conferir_pontos_e_testes_ocultos({exercicio.ATIVIDADE: exercicio.PONTOS}, exercicio.ALUNOS)


@LENTO
def test_solucao_e_alternativas_ganham_nota_maxima(request, turma_treino):
    atividade, pontos = request.module.ATIVIDADE, request.module.PONTOS
    for aluno in ALUNOS_COM_NOTA_MAXIMA:
        assert turma_treino["notas"][aluno, atividade] == pontos, (
            f"{aluno}/{atividade}: {turma_treino['notas'][aluno, atividade]}\n{turma_treino['log'][-3000:]}"
        )


@LENTO
def test_release_sem_resposta_tira_zero(request, turma_treino):
    atividade = request.module.ATIVIDADE
    assert set(turma_treino["notas"]["em_branco", atividade].values()) == {0}, atividade


@LENTO
def test_respostas_chumbadas_passam_nos_visiveis_e_perdem_nos_ocultos(request, turma_treino):
    conferir_respostas_chumbadas(turma_treino, request.module.ATIVIDADE)


@LENTO
def test_cada_erro_classico_perde_so_os_pontos_do_seu_teste(request, turma_treino):
    exercicio = request.module
    conferir_cada_erro_classico(turma_treino, exercicio.ATIVIDADE, exercicio.PONTOS, exercicio.ERROS)


@LENTO
def test_correcao_sem_celula_estourando_o_tempo(request, turma_treino):
    conferir_sem_tempo_esgotado(turma_treino, request.module.ATIVIDADE)
