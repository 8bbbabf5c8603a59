"""Exercício 4 (perda e acurácia no último token **real**): logits lidos no último token real com o
pad_token_id recebido, perda média do lote que permite backward() e acurácia por mensagem, sem gradientes.
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

ATIVIDADE = "ex04_perda"

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
    "logits-ultimo-token": '''
def logits_ultimo_token_real(modelo, input_ids, pad_token_id=50256):
    # Errado para este exercício, que pede o último token REAL: lê a ÚLTIMA POSIÇÃO (a escolha da
    # aula, frágil: só funciona com o mesmo padding no treino e no uso).
    return modelo(input_ids)[:, -1, :]
''',
    "acuracia": '''
def calc_acuracia(modelo, lotes, pad_token_id=50256):
    # Erro: média das acurácias por lote (lotes de tamanhos diferentes pesam igual).
    acuracias = []
    with torch.no_grad():
        for x, y in lotes:
            previstos = logits_ultimo_token_real(modelo, x, pad_token_id).argmax(dim=-1)
            acuracias.append((previstos == y).float().mean().item())
    return sum(acuracias) / len(acuracias)
''',
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
    "logits-ultimo-token": '''
def logits_ultimo_token_real(modelo, input_ids, pad_token_id=50256):
    comprimentos = (input_ids != pad_token_id).sum(dim=1)
    estados = modelo.hidden_states(input_ids)
    indice = (comprimentos - 1).view(-1, 1, 1).expand(-1, 1, estados.shape[-1])
    return modelo.out_head(torch.gather(estados, 1, indice).squeeze(1))
''',
    "perda-lote": '''
def calc_perda_lote(input_batch, target_batch, modelo, pad_token_id=50256):
    return torch.nn.CrossEntropyLoss()(logits_ultimo_token_real(modelo, input_batch, pad_token_id), target_batch)
''',
    "acuracia": '''
def calc_acuracia(modelo, lotes, pad_token_id=50256):
    acertos = []
    with torch.no_grad():
        for x, y in lotes:
            acertos.append(logits_ultimo_token_real(modelo, x, pad_token_id).argmax(-1) == y)
    return torch.cat(acertos).float().mean().item()
''',
}

# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
    "logits-ultimo-token": '''
def logits_ultimo_token_real(modelo, input_ids, pad_token_id=50256):
    saida = modelo(input_ids)
    linhas = []
    for i in range(input_ids.shape[0]):
        reais = (input_ids[i] != pad_token_id).nonzero()
        linhas.append(saida[i, int(reais.max())])
    return torch.stack(linhas)
''',
    "perda-lote": '''
def calc_perda_lote(input_batch, target_batch, modelo, pad_token_id=50256):
    logits = logits_ultimo_token_real(modelo, input_batch, pad_token_id)
    log_probs = torch.log_softmax(logits, dim=-1)
    return -log_probs[torch.arange(len(target_batch)), target_batch].mean()
''',
    "acuracia": '''
import numpy as np

def calc_acuracia(modelo, lotes, pad_token_id=50256):
    certos = total = 0
    with torch.no_grad():
        for x, y in lotes:
            previstos = logits_ultimo_token_real(modelo, x, pad_token_id).argmax(dim=1).numpy()
            certos += int(np.sum(previstos == y.numpy()))
            total += len(y)
    return float(certos / total)
''',
}

IDIOMAS: dict[str, str] = {}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("logits do último token REAL (não da última posição)", {"logits-ultimo-token": ERRADAS["logits-ultimo-token"]},
     {"teste-logits-ultimo-token", "teste-perda-lote", "teste-acuracia"}),
    # A perda e a acurácia usam os logits da Parte 1: o erro dela chega às duas.
    ("usa o pad_token_id recebido", {"logits-ultimo-token": trocar(
        "logits-ultimo-token", "(input_ids != pad_token_id)", "(input_ids != PAD)")},
     {"teste-logits-ultimo-token", "teste-perda-lote", "teste-acuracia"}),
    ("perda MÉDIA do lote", {"perda-lote": trocar(
        "perda-lote", "F.cross_entropy(logits, target_batch)",
        'F.cross_entropy(logits, target_batch, reduction="sum")')},
     {"teste-perda-lote"}),
    ("a perda usa o pad_token_id recebido", {"perda-lote": trocar(
        "perda-lote", "logits_ultimo_token_real(modelo, input_batch, pad_token_id)",
        "logits_ultimo_token_real(modelo, input_batch)")}, {"teste-perda-lote"}),
    ("a perda permite backward() (sem torch.no_grad())", {"perda-lote": '''
def calc_perda_lote(input_batch, target_batch, modelo, pad_token_id=50256):
    with torch.no_grad():
        return F.cross_entropy(logits_ultimo_token_real(modelo, input_batch, pad_token_id), target_batch)
'''}, {"teste-perda-lote"}),
    ("acurácia por MENSAGEM (não média por lote)", {"acuracia": ERRADAS["acuracia"]}, {"teste-acuracia"}),
    ("a acurácia usa o pad_token_id recebido", {"acuracia": trocar(
        "acuracia", "logits_ultimo_token_real(modelo, input_batch, pad_token_id)",
        "logits_ultimo_token_real(modelo, input_batch)")}, {"teste-acuracia"}),
    ("acurácia como float", {"acuracia": trocar("acuracia", "return corretas / total",
                                                 "return torch.tensor(corretas / total)")},
     {"teste-acuracia"}),
    ("lotes pode ser um DataLoader", {"acuracia": trocar("acuracia", "in lotes:", "in lotes[:]:")}, {"teste-acuracia"}),
    ("acurácia sem gradientes (torch.no_grad())",
     {"acuracia": trocar("acuracia", "torch.no_grad()", "torch.enable_grad()")},
     {"teste-acuracia"}),
]

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
