"""Exercício 4 (Perda e acurácia no último token **real**): a correção aceita qualquer jeito certo e
cobra cada regra do enunciado.

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
