"""Exercício 5 (abordagem 1, o GPT congelado como extrator de *features*): `extrair_features` devolve o
vetor do último token real em float32 sem mexer no modelo nem calcular gradientes; `treinar_e_avaliar`
treina só com o treino, com a semente, e devolve a acurácia no teste.
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

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

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
