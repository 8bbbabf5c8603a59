"""Exercício 5 (Abordagem 1: o GPT congelado como extrator de *features*): a correção aceita qualquer jeito certo e
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

ATIVIDADE = "ex05_embeddings"

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
    "extrair-features": '''
def extrair_features(modelo, input_ids, pad_token_id=50256):
    # Errado aqui: lê a última posição (preenchimento nas mensagens curtas), não o último token real pedido.
    with torch.no_grad():
        return modelo.hidden_states(input_ids)[:, -1, :].numpy()
''',
    "treinar-e-avaliar": '''
from sklearn.ensemble import RandomForestClassifier

def treinar_e_avaliar(X_treino, y_treino, X_teste, y_teste, semente=123):
    # Erro: treina com treino + teste (o teste vaza para o modelo).
    clf = RandomForestClassifier(random_state=semente)
    clf.fit(np.concatenate([X_treino, X_teste]), np.concatenate([y_treino, y_teste]))
    return clf, float(clf.score(X_teste, y_teste))
''',
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
    "extrair-features": '''
def extrair_features(modelo, input_ids, pad_token_id=50256):
    linhas = []
    with torch.no_grad():
        for linha in input_ids:
            n = int((linha != pad_token_id).sum())
            x = modelo.tok_emb(linha[:n]) + modelo.pos_emb(torch.arange(n))
            linhas.append(modelo.final_norm(modelo.trf_blocks(x.unsqueeze(0)))[0, -1].numpy())
    return np.array(linhas, dtype=np.float32)
''',
    "treinar-e-avaliar": '''
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

def treinar_e_avaliar(X_treino, y_treino, X_teste, y_teste, semente=123):
    clf = LogisticRegression(random_state=semente, max_iter=1000).fit(X_treino, y_treino)
    return clf, float(accuracy_score(y_teste, clf.predict(X_teste)))
''',
}

# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
    "extrair-features": '''
def extrair_features(modelo, input_ids, pad_token_id=50256):
    with torch.no_grad():
        estados = modelo.hidden_states(input_ids).numpy()
    ultimos = (input_ids != pad_token_id).numpy().cumsum(axis=1).argmax(axis=1)
    return estados[np.arange(len(estados)), ultimos].astype("float32")
''',
    "treinar-e-avaliar": '''
from sklearn.neighbors import KNeighborsClassifier

def treinar_e_avaliar(X_treino, y_treino, X_teste, y_teste, semente=123):
    vizinhos = KNeighborsClassifier().fit(X_treino, y_treino)
    return vizinhos, float(np.mean(vizinhos.predict(X_teste) == np.asarray(y_teste)))
''',
}

IDIOMAS: dict[str, str] = {}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("features do último token REAL", {"extrair-features": ERRADAS["extrair-features"]}, {"teste-extrair-features"}),
    ("np.ndarray float32", {"extrair-features": trocar(
        "extrair-features", ".numpy().astype(np.float32)", "")}, {"teste-extrair-features"}),
    ("usa o pad_token_id recebido", {"extrair-features": trocar(
        "extrair-features", "(input_ids != pad_token_id)", "(input_ids != PAD)")}, {"teste-extrair-features"}),
    ("não altera o modelo (não troca out_head)", {"extrair-features": trocar(
        "extrair-features", "with torch.no_grad():", "modelo.out_head = nn.Identity()\n    with torch.no_grad():")},
     {"teste-extrair-features"}),
    ("não calcula gradientes", {"extrair-features": '''
def extrair_features(modelo, input_ids, pad_token_id=50256):
    estados = modelo.hidden_states(input_ids)
    posicoes = (input_ids != pad_token_id).sum(dim=1) - 1
    return estados[torch.arange(len(input_ids)), posicoes].detach().numpy().astype(np.float32)
'''}, {"teste-extrair-features"}),
    ("treina só com o treino", {"treinar-e-avaliar": ERRADAS["treinar-e-avaliar"]}, {"teste-treinar-e-avaliar"}),
    ("a mesma semente dá o mesmo resultado", {"treinar-e-avaliar": trocar(
        "treinar-e-avaliar", "RandomForestClassifier(random_state=semente)", "RandomForestClassifier()")},
     {"teste-treinar-e-avaliar"}),
    ("devolve a acurácia no TESTE, entre 0 e 1", {"treinar-e-avaliar": trocar(
        "treinar-e-avaliar", "classificador.score(X_teste, y_teste)", "classificador.score(X_treino, y_treino)")},
     {"teste-treinar-e-avaliar"}),
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
