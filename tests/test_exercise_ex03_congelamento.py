"""Exercício 3 (Trocar a cabeça e congelar exatamente o que deve ser congelado): a correção aceita
qualquer jeito certo e cobra cada regra do enunciado.

Rápido (sem nbgrader, num processo IPython; ver `tests/exercise_helpers.py`): a solução do professor,
duas soluções corretas independentes (`ALTERNATIVAS`, `ALTERNATIVAS_2`)
ganham todos os pontos, e cada regra do enunciado (`REGRAS`) tem uma resposta errada que perde
exatamente os pontos das células que a testam. `ERRADAS` (respostas que só passam nos testes visíveis)
e `ALTERNATIVAS` também entram na correção da turma com o nbgrader (`tests/test_corrigir.py`).
"""

from __future__ import annotations

import pytest

from tests.exercise_helpers import (
    corretas_que_perderam_pontos,
    perdas_de_pontos_erradas,
    respostas_sem_alternativa,
    rodar_casos_rapidos,
    trocar,
)

ATIVIDADE = "ex03_congelamento"

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
    "abordagem3": '''
def preparar_abordagem3(modelo, num_classes=2):
    modelo = preparar_abordagem2(modelo, num_classes)
    # Erro: descongela TODOS os blocos, não só o último.
    for parametro in modelo.trf_blocks.parameters():
        parametro.requires_grad = True
    for parametro in modelo.final_norm.parameters():
        parametro.requires_grad = True
    return modelo
''',
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
    "contar-treinaveis": '''
def contar_treinaveis(modelo):
    vistos, total = set(), 0
    for _, p in modelo.named_parameters():
        if p.requires_grad and id(p) not in vistos:
            vistos.add(id(p))
            total += p.numel()
    return total
''',
    "abordagem2": '''
def preparar_abordagem2(modelo, num_classes=2):
    modelo.requires_grad_(False)
    modelo.out_head = torch.nn.Linear(in_features=modelo.tok_emb.embedding_dim, out_features=num_classes)
    return modelo
''',
    "abordagem3": '''
def preparar_abordagem3(modelo, num_classes=2):
    modelo.requires_grad_(False)
    modelo.trf_blocks[len(modelo.trf_blocks) - 1].requires_grad_(True)
    modelo.final_norm.requires_grad_(True)
    modelo.out_head = nn.Linear(modelo.out_head.in_features, num_classes)
    return modelo
''',
}

# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
    "contar-treinaveis": '''
def contar_treinaveis(modelo):
    return sum(p.numel() for _, p in modelo.named_parameters() if p.requires_grad)
''',
    "abordagem2": '''
def preparar_abordagem2(modelo, num_classes=2):
    for _, parametro in modelo.named_parameters():
        parametro.requires_grad_(False)
    dimensao = modelo.pos_emb.weight.shape[1]
    modelo.out_head = nn.Linear(dimensao, num_classes, bias=True)
    return modelo
''',
    "abordagem3": '''
def preparar_abordagem3(modelo, num_classes=2):
    modelo = preparar_abordagem2(modelo, num_classes)
    ultimo = len(modelo.trf_blocks) - 1
    for nome, parametro in modelo.named_parameters():
        if nome.startswith(f"trf_blocks.{ultimo}.") or nome.startswith("final_norm."):
            parametro.requires_grad = True
    return modelo
''',
}

IDIOMAS: dict[str, str] = {}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("conta só os parâmetros com requires_grad=True", {"contar-treinaveis": trocar(
        "contar-treinaveis", " if p.requires_grad", "")}, {"teste-contar-treinaveis"}),
    ("um parâmetro amarrado em dois módulos conta uma vez", {"contar-treinaveis": '''
def contar_treinaveis(modelo):
    return sum(p.numel() for m in modelo.modules() for p in m.parameters(recurse=False) if p.requires_grad)
'''}, {"teste-contar-treinaveis"}),
    ("um módulo compartilhado conta uma vez", {"contar-treinaveis": '''
def contar_treinaveis(modelo):
    return sum(p.numel() for _, p in modelo.named_parameters(remove_duplicate=False) if p.requires_grad)
'''}, {"teste-contar-treinaveis"}),
    ("devolve um int", {"contar-treinaveis": '''
def contar_treinaveis(modelo):
    return float(sum(p.numel() for p in modelo.parameters() if p.requires_grad))
'''}, {"teste-contar-treinaveis"}),
    ("abordagem 2 congela TODOS os parâmetros", {"abordagem2": trocar(
        "abordagem2", "parametro.requires_grad = False", "pass")}, {"teste-abordagem2", "teste-abordagem3"}),
    ("cabeça com viés", {"abordagem2": trocar(
        "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)',
        'nn.Linear(modelo.cfg["emb_dim"], num_classes, bias=False)')},
     {"teste-abordagem2", "teste-abordagem3"}),
    ("cabeça com num_classes saídas", {"abordagem2": trocar(
        "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', 'nn.Linear(modelo.cfg["emb_dim"], 2)')},
     {"teste-abordagem2", "teste-abordagem3"}),
    ("a cabeça nova nasce treinável", {"abordagem2": trocar(
        "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)',
        'nn.Linear(modelo.cfg["emb_dim"], num_classes).requires_grad_(False)')},
     {"teste-abordagem2", "teste-abordagem3"}),
    ("abordagem 2 devolve o modelo", {"abordagem2": trocar("abordagem2", "    return modelo\n", "")},
     {"teste-abordagem2", "teste-abordagem3"}),
    ("usa emb_dim do modelo (não 768 fixo)", {"abordagem2": trocar(
        "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', "nn.Linear(768, num_classes)")},
     {"teste-abordagem2"}),
    ("abordagem 3: só o ÚLTIMO bloco", {"abordagem3": ERRADAS["abordagem3"]}, {"teste-abordagem3"}),
    ("abordagem 3: os embeddings continuam congelados", {"abordagem3": trocar(
        "abordagem3", "    return modelo\n", "    modelo.pos_emb.requires_grad_(True)\n    return modelo\n")},
     {"teste-abordagem3"}),
    ("abordagem 3 devolve o modelo", {"abordagem3": trocar("abordagem3", "    return modelo\n", "")},
     {"teste-abordagem3"}),
    ("abordagem 3: a LayerNorm final também", {"abordagem3": trocar(
        "abordagem3", "for parametro in modelo.final_norm.parameters():\n        parametro.requires_grad = True\n",
        "")},
     {"teste-abordagem3"}),
]


@pytest.fixture(scope="module")
def casos_rapidos(tmp_path_factory):
    corretas = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
    return rodar_casos_rapidos(ATIVIDADE, corretas, REGRAS, tmp_path_factory.mktemp("rapido"))


def test_cada_resposta_tem_duas_alternativas_independentes():
    problemas = respostas_sem_alternativa(ATIVIDADE, ALTERNATIVAS, ALTERNATIVAS_2)
    assert not problemas, "\n".join(problemas)


def test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos(casos_rapidos):
    falhas = corretas_que_perderam_pontos(*casos_rapidos)
    assert not falhas, "\n".join(falhas)


def test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos(casos_rapidos):
    erros = perdas_de_pontos_erradas(*casos_rapidos, [ATIVIDADE], {ATIVIDADE: REGRAS})
    assert not erros, "\n".join(erros)
