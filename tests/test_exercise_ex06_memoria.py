"""Exercício 6 (quanta memória o *fine-tuning* pede?): `estimar_memoria_gb` em GB decimais, com
gradientes e estados do otimizador só dos parâmetros treináveis (AdamW/Adam 2, SGD com momento 1, SGD 0)
e ValueError para otimizador desconhecido; a estimativa da abordagem 3.
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

ATIVIDADE = "ex06_memoria"

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
    "estimar-memoria": '''
ESTADOS_POR_PARAMETRO = {"adamw": 2, "adam": 2, "sgd_momentum": 1, "sgd": 0}

def estimar_memoria_gb(num_parametros, bytes_por_valor=4, otimizador="adamw", parametros_treinaveis=None):
    # Erro: ignora parametros_treinaveis (como se tudo fosse treinável).
    return num_parametros * bytes_por_valor * (2 + ESTADOS_POR_PARAMETRO[otimizador]) / 1e9
''',
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
    "estimar-memoria": '''
def estimar_memoria_gb(num_parametros, bytes_por_valor=4, otimizador="adamw", parametros_treinaveis=None):
    estados = {"adam": 2, "adamw": 2, "sgd_momentum": 1, "sgd": 0}
    if otimizador not in estados:
        raise ValueError("otimizador desconhecido")
    treinaveis = num_parametros if parametros_treinaveis is None else parametros_treinaveis
    return float(bytes_por_valor * (num_parametros + treinaveis * (1 + estados[otimizador]))) / 10**9
''',
}

# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
    "estimar-memoria": '''
def estimar_memoria_gb(num_parametros, bytes_por_valor=4, otimizador="adamw", parametros_treinaveis=None):
    match otimizador:
        case "adamw" | "adam":
            estados = 2
        case "sgd_momentum":
            estados = 1
        case "sgd":
            estados = 0
        case _:
            raise ValueError(f"otimizador desconhecido: {otimizador}")
    treinaveis = num_parametros if parametros_treinaveis is None else parametros_treinaveis
    return (num_parametros + treinaveis * (1 + estados)) * bytes_por_valor / 10**9
''',
    "memoria-abordagem3": '''
memoria_abordagem3_gb = estimar_memoria_gb(num_parametros=124_441_346, bytes_por_valor=4, otimizador="adam",
                                           parametros_treinaveis=1_538 + 7_087_872 + 1_536)
print(f"Abordagem 3: {memoria_abordagem3_gb:.3f} GB")
''',
}

IDIOMAS: dict[str, str] = {}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("GB decimais (10**9, não 1024**3)", {"estimar-memoria": trocar("estimar-memoria", "/ 1e9", "/ 1024**3")},
     {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
    ("devolve float", {"estimar-memoria": trocar("estimar-memoria", "return valores * bytes_por_valor / 1e9",
                                                    "return int(valores * bytes_por_valor / 1e9)")},
     {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
    ("gradientes e estados só dos treináveis", {"estimar-memoria": ERRADAS["estimar-memoria"]},
     {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
    ("SGD com momento: 1 estado",
     {"estimar-memoria": trocar("estimar-memoria", '"sgd_momentum": 1', '"sgd_momentum": 2')},
     {"teste-estimar-memoria"}),
    ("Adam: 2 estados", {"estimar-memoria": trocar("estimar-memoria", '"adam": 2', '"adam": 1')},
     {"teste-estimar-memoria"}),
    ("parametros_treinaveis=None: todos são treináveis", {"estimar-memoria": trocar(
        "estimar-memoria", "parametros_treinaveis = num_parametros", "parametros_treinaveis = 0")},
     {"teste-estimar-memoria"}),
    ("nomes comparados exatamente ('AdamW ' levanta ValueError)", {"estimar-memoria": trocar(
        "estimar-memoria", "    if otimizador not in ESTADOS_POR_PARAMETRO:",
        "    otimizador = otimizador.strip().lower()\n    if otimizador not in ESTADOS_POR_PARAMETRO:")},
     {"teste-estimar-memoria"}),
    ("otimizador desconhecido levanta ValueError", {"estimar-memoria": trocar(
        "estimar-memoria", "raise ValueError(f\"otimizador desconhecido: {otimizador!r}\")", "otimizador = \"adamw\"")},
     {"teste-estimar-memoria"}),
    ("usa bytes_por_valor", {"estimar-memoria": trocar("estimar-memoria", "valores * bytes_por_valor", "valores * 4")},
     {"teste-estimar-memoria"}),
    ("abordagem 3: só 7.090.946 treináveis", {"memoria-abordagem3": trocar(
        "memoria-abordagem3", "estimar_memoria_gb(124_441_346, parametros_treinaveis=7_090_946)",
        "estimar_memoria_gb(124_441_346)")},
     {"teste-memoria-abordagem3"}),
]

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
# Respostas que só precisam da segunda alternativa.
DISPENSADAS = {"memoria-abordagem3"}
