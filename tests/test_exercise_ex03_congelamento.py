"""Exercício 3 (trocar a cabeça e congelar exatamente o que deve ser congelado): `contar_treinaveis` conta
cada parâmetro treinável uma vez; a abordagem 2 congela tudo e põe uma cabeça nova treinável; a 3
descongela só o último bloco e a LayerNorm final.
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

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

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
