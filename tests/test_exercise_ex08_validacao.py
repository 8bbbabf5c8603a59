"""Exercício 8 (escolher com a validação, testar uma vez só): `preparar_conjuntos` (max_length do
treino), `escolher_taxa` e `parar_cedo` (escolhas pela validação, o cofre do teste aberto uma vez) e
`classificar` mensagens novas; a turma fictícia é corrigida pelo nbgrader (lento).
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_training_suite import *  # noqa: F403 (os testes comuns do treino: coletados neste arquivo)

ATIVIDADE = "ex08_validacao"
# Pontos de cada teste (grade_id -> pontos): o enunciado e a página do professor usam estes números.
PONTOS = {"teste-preparar-conjuntos": 3, "teste-escolher-taxa": 3, "teste-parar-cedo": 2, "teste-classificar": 2}

# --------------------------------------------------------------------------- soluções corretas em outros idiomas

ALTERNATIVA_A = {
    # ex08
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    listas = [tokenizer.encode_batch(list(t), disallowed_special=())
              for t in (textos_treino, textos_validacao, textos_teste)]
    max_length = max(map(len, listas[0]))
    saidas = []
    for conjunto in listas:
        saida = torch.full((len(conjunto), max_length), PAD, dtype=torch.long)
        for i, ids in enumerate(conjunto):
            corte = ids[:max_length]
            saida[i, :len(corte)] = torch.tensor(corte, dtype=torch.long)
        saidas.append(saida)
    return saidas[0], saidas[1], saidas[2], int(max_length)
''',
    "escolher-taxa": '''
def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    acuracias = {i: acuracia(treinar_cabeca(X_treino, y_treino, t), X_val, y_val) for i, t in enumerate(candidatos)}
    melhor = max(range(len(candidatos)), key=lambda i: acuracias[i])  # max devolve o primeiro num empate
    cabeca = treinar_cabeca(X_treino, y_treino, candidatos[melhor])  # determinística: a mesma cabeça
    X_teste, y_teste = cofre.abrir()
    return candidatos[melhor], acuracia(cabeca, X_teste, y_teste)
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30, paciencia=None):
    cabeca = nova_cabeca()
    otimizador = torch.optim.AdamW(cabeca.parameters(), lr=lr, weight_decay=0.0)
    melhor = (float("-inf"), None, None)
    for epoca in range(max_epocas):
        treinar_uma_epoca(cabeca, otimizador, X_treino, y_treino)
        acc = acuracia(cabeca, X_val, y_val)
        if acc > melhor[0]:
            melhor = (acc, epoca + 1, {k: v.detach().clone() for k, v in cabeca.state_dict().items()})
        elif paciencia and epoca + 1 - melhor[1] >= paciencia:
            break
    cabeca.load_state_dict(melhor[2])
    return cabeca, melhor[1], acuracia(cabeca, *cofre.abrir())
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    previsoes = []
    for texto in textos:
        ids = torch.tensor([tokenizer.encode(texto, disallowed_special=())[:max_length]])
        with torch.no_grad():
            previsoes.append(cabeca(features(ids)).argmax(dim=-1).item())
    return previsoes
''',
}

ALTERNATIVA_B = {
    # ex08
    "preparar-conjuntos": '''
import numpy as np

def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    treino = [tokenizer.encode(t, disallowed_special=()) for t in textos_treino]
    max_length = int(np.max([len(ids) for ids in treino]))
    def matriz(textos):
        m = np.full((len(textos), max_length), PAD, dtype=np.int64)
        for i, texto in enumerate(textos):
            ids = tokenizer.encode(texto, disallowed_special=())[:max_length]
            m[i, :len(ids)] = ids
        return torch.from_numpy(m)
    return matriz(textos_treino), matriz(textos_validacao), matriz(textos_teste), max_length
''',
    "escolher-taxa": '''
import numpy as np

def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    cabecas = [treinar_cabeca(X_treino, y_treino, taxa) for taxa in candidatos]
    melhor = int(np.argmax([acuracia(c, X_val, y_val) for c in cabecas]))
    X_teste, y_teste = cofre.abrir()
    previsto = cabecas[melhor](X_teste).detach().argmax(-1)
    return candidatos[melhor], float((previsto == y_teste).sum()) / len(y_teste)
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30, paciencia=None):
    # Mais lento, mas correto: treinar_cabeca é determinística, então retreinar dá os mesmos pesos.
    curva = []
    for e in range(1, max_epocas + 1):
        curva.append(acuracia(treinar_cabeca(X_treino, y_treino, lr, epocas=e), X_val, y_val))
        if paciencia is not None and len(curva) - 1 - curva.index(max(curva)) >= paciencia:
            break
    melhor_epoca = curva.index(max(curva)) + 1
    cabeca = treinar_cabeca(X_treino, y_treino, lr, epocas=melhor_epoca)
    X_teste, y_teste = cofre.abrir()
    return cabeca, melhor_epoca, acuracia(cabeca, X_teste, y_teste)
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    entradas = torch.full((len(textos), max_length), PAD, dtype=torch.long)
    for i, texto in enumerate(textos):
        ids = tokenizer.encode(texto, disallowed_special=())[:max_length]
        entradas[i, :len(ids)] = torch.tensor(ids)
    with torch.inference_mode():
        return cabeca(features(entradas)).argmax(dim=1).tolist()
''',
}

ALTERNATIVA_C = {
    # ex08
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    def ids(texto):
        return torch.tensor(tokenizer.encode(texto, disallowed_special=()), dtype=torch.long)
    max_length = max(len(ids(t)) for t in textos_treino)
    def matriz(textos):
        cortados = [ids(t)[:max_length] for t in textos]
        return torch.stack([F.pad(x, (0, max_length - len(x)), value=PAD) for x in cortados])
    return matriz(textos_treino), matriz(textos_validacao), matriz(textos_teste), max_length
''',
    "escolher-taxa": '''
def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    cabecas = {taxa: treinar_cabeca(X_treino, y_treino, taxa) for taxa in candidatos}
    na_validacao = [(acuracia(cabecas[taxa], X_val, y_val), -i, taxa) for i, taxa in enumerate(candidatos)]
    _, _, melhor_taxa = max(na_validacao)  # empate: -i maior, a que vem primeiro
    return melhor_taxa, acuracia(cabecas[melhor_taxa], *cofre.abrir())
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30, paciencia=None):
    cabeca = nova_cabeca()
    otimizador = torch.optim.AdamW(cabeca.parameters(), lr=lr, weight_decay=0.0)
    limite = max_epocas if paciencia is None else paciencia
    epoca, melhor_epoca, melhor, pesos, sem_melhora = 0, 0, None, None, 0
    while epoca < max_epocas and sem_melhora < limite:
        epoca += 1
        treinar_uma_epoca(cabeca, otimizador, X_treino, y_treino)
        valor = acuracia(cabeca, X_val, y_val)
        if melhor is None or valor > melhor:
            melhor, melhor_epoca, pesos, sem_melhora = valor, epoca, copy.deepcopy(cabeca.state_dict()), 0
        else:
            sem_melhora += 1
    cabeca.load_state_dict(pesos)
    X_teste, y_teste = cofre.abrir()
    return cabeca, melhor_epoca, acuracia(cabeca, X_teste, y_teste)
''',
    "classificar": '''
from torch.nn.utils.rnn import pad_sequence

def classificar(textos, cabeca, tokenizer, max_length):
    linhas = [torch.tensor(tokenizer.encode(t, disallowed_special=())[:max_length]) for t in textos]
    entradas = pad_sequence(linhas, batch_first=True, padding_value=PAD)  # até a maior linha (<= max_length)
    with torch.no_grad():
        return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]
''',
}

ALTERNATIVA_D = {
    # ex08
    "preparar-conjuntos": '''
from torch.nn.utils.rnn import pad_sequence

def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    def codificar(textos):
        return [torch.tensor(tokenizer.encode(t, disallowed_special=()), dtype=torch.long) for t in textos]
    treino, validacao, teste = codificar(textos_treino), codificar(textos_validacao), codificar(textos_teste)
    max_length = max(len(x) for x in treino)
    def matriz(lista):
        m = pad_sequence([x[:max_length] for x in lista], batch_first=True, padding_value=PAD)
        return F.pad(m, (0, max_length - m.shape[1]), value=PAD)
    return matriz(treino), matriz(validacao), matriz(teste), max_length
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    linhas = [tokenizer.encode(t, disallowed_special=())[:max_length] for t in textos]
    entradas = torch.stack([torch.tensor(l + [PAD] * (max_length - len(l))) for l in linhas])
    with torch.no_grad():
        return cabeca(features(entradas)).argmax(dim=-1).tolist()
''',
}

CORRETAS = {"alternativa_a": ALTERNATIVA_A, "alternativa_b": ALTERNATIVA_B,
            "alternativa_c": ALTERNATIVA_C, "alternativa_d": ALTERNATIVA_D}

# --------------------------------------------------------------------------- respostas chumbadas nos testes visíveis

FIXO = {
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    ids = tokenizer.encode(textos_treino[0])
    n = len(ids)
    linhas = [(tokenizer.encode(t) + [PAD] * n)[:n] for t in textos_treino]
    treino = torch.tensor(linhas)
    return treino, treino[:1], treino[:1], n
''',
    "escolher-taxa": '''
def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    cofre.abrir()
    return candidatos[-1], 0.5
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30):
    cofre.abrir()
    return nova_cabeca(), 1, 0.5
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    return [int(cabeca(features(torch.tensor([tokenizer.encode(t)]))).argmax()) for t in textos]
''',
}

# --------------------------------------------------------------------------- os erros clássicos

ERRO1 = {
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    conjuntos = [[tokenizer.encode(t, disallowed_special=()) for t in textos]
                 for textos in (textos_treino, textos_validacao, textos_teste)]
    max_length = max(len(ids) for conjunto in conjuntos for ids in conjunto)  # erro: olha validação e teste
    tensores = tuple(torch.tensor([(ids + [PAD] * max_length)[:max_length] for ids in c]) for c in conjuntos)
    return tensores + (max_length,)
''',
    "escolher-taxa": '''
def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    cabecas = [treinar_cabeca(X_treino, y_treino, taxa) for taxa in candidatos]
    X_teste, y_teste = cofre.abrir()  # abre uma vez... e escolhe pelo TESTE (erro)
    no_teste = [acuracia(c, X_teste, y_teste) for c in cabecas]
    melhor = no_teste.index(max(no_teste))
    return candidatos[melhor], no_teste[melhor]
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30):
    X_teste, y_teste = cofre.abrir()  # erro: parada antecipada olhando o TESTE
    cabeca = nova_cabeca()
    otimizador = torch.optim.AdamW(cabeca.parameters(), lr=lr, weight_decay=0.0)
    melhor, melhor_epoca, pesos = -1.0, 0, None
    for epoca in range(1, max_epocas + 1):
        treinar_uma_epoca(cabeca, otimizador, X_treino, y_treino)
        acc = acuracia(cabeca, X_teste, y_teste)
        if acc > melhor:
            melhor, melhor_epoca, pesos = acc, epoca, copy.deepcopy(cabeca.state_dict())
    cabeca.load_state_dict(pesos)
    return cabeca, melhor_epoca, melhor
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    linhas = [tokenizer.encode(t, disallowed_special=()) for t in textos]  # erro: não corta no max_length do treino
    largura = max(max_length, max(len(l) for l in linhas))
    entradas = torch.tensor([l + [PAD] * (largura - len(l)) for l in linhas])
    with torch.no_grad():
        return cabeca(features(entradas)).argmax(-1).tolist()
''',
}

ERRO2 = {
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    def codificar(textos):  # erro: cada conjunto com o seu max_length (o do teste vem do teste)
        ids = [tokenizer.encode(t, disallowed_special=()) for t in textos]
        n = max(len(x) for x in ids)
        return torch.tensor([x + [PAD] * (n - len(x)) for x in ids]), n
    (tr, n), (val, _), (te, _) = codificar(textos_treino), codificar(textos_validacao), codificar(textos_teste)
    return tr, val, te, n
''',
    "escolher-taxa": '''
def escolher_taxa_e_testar(candidatos, X_treino, y_treino, X_val, y_val, cofre):
    resultados = []
    for taxa in candidatos:
        cabeca = treinar_cabeca(X_treino, y_treino, taxa)
        resultados.append((acuracia(cabeca, X_val, y_val), acuracia(cabeca, *cofre.abrir())))  # erro: teste a cada taxa
    melhor = max(range(len(candidatos)), key=lambda i: resultados[i][0])
    return candidatos[melhor], resultados[melhor][1]
''',
    "parar-cedo": '''
def parar_cedo(X_treino, y_treino, X_val, y_val, cofre, lr=0.05, max_epocas=30):
    cabeca = nova_cabeca()
    otimizador = torch.optim.AdamW(cabeca.parameters(), lr=lr, weight_decay=0.0)
    melhor, melhor_epoca, pesos = -1.0, 0, None
    for epoca in range(1, max_epocas + 1):
        treinar_uma_epoca(cabeca, otimizador, X_treino, y_treino)
        acc = acuracia(cabeca, X_val, y_val)
        if acc > melhor:
            melhor, melhor_epoca, pesos = acc, epoca, cabeca.state_dict()  # erro: sem cópia (são os pesos finais)
    cabeca.load_state_dict(pesos)
    return cabeca, melhor_epoca, acuracia(cabeca, *cofre.abrir())
''',
    "classificar": '''
def classificar(textos, cabeca, tokenizer, max_length):
    linhas = [tokenizer.encode(t, disallowed_special=()) for t in textos]
    n = max(len(l) for l in linhas)  # erro: max_length recalculado nas mensagens novas
    entradas = torch.tensor([l[:n] + [PAD] * (n - len(l[:n])) for l in linhas])
    with torch.no_grad():
        return cabeca(features(entradas)).argmax(-1).tolist()
''',
}

ERROS = {"erro1": ERRO1, "erro2": ERRO2}
ALUNOS = {"alternativa_a": ALTERNATIVA_A, "alternativa_b": ALTERNATIVA_B, "fixo": FIXO, **ERROS}

# --------------------------------------------------------------------------- cada regra do enunciado

# Cada frase do enunciado que dá uma regra, uma resposta que quebra só ela (as outras respostas do
# notebook ficam com a solução do professor) e as células de teste que devem falhar.
REGRAS = [
    ("max_length só do treino", {"preparar-conjuntos": ERRO1["preparar-conjuntos"]}, {"teste-preparar-conjuntos"}),
    ("validação e teste cortados no max_length do treino", {"preparar-conjuntos": ERRO2["preparar-conjuntos"]},
     {"teste-preparar-conjuntos"}),
    ("corta guardando o COMEÇO", {"preparar-conjuntos": trocar(
        "preparar-conjuntos",
        "linhas = [ids[:max_length] + [PAD] * (max_length - len(ids[:max_length])) for ids in listas]",
        "linhas = [ids[-max_length:] + [PAD] * (max_length - len(ids[-max_length:])) for ids in listas]")},
     {"teste-preparar-conjuntos"}),
    ("completa com PAD à DIREITA", {"preparar-conjuntos": trocar(
        "preparar-conjuntos",
        "linhas = [ids[:max_length] + [PAD] * (max_length - len(ids[:max_length])) for ids in listas]",
        "linhas = [[PAD] * (max_length - len(ids[:max_length])) + ids[:max_length] for ids in listas]")},
     {"teste-preparar-conjuntos"}),
    ("as entradas são tokenizadas com disallowed_special=()", {"preparar-conjuntos": trocar(
        "preparar-conjuntos", "tokenizer.encode(texto, disallowed_special=())", "tokenizer.encode(texto)")},
     {"teste-preparar-conjuntos"}),
    ("devolve três LongTensor", {"preparar-conjuntos": trocar(
        "preparar-conjuntos", "torch.tensor(linhas, dtype=torch.long)", "torch.tensor(linhas, dtype=torch.int32)")},
     {"teste-preparar-conjuntos"}),
    ("escolhe a taxa pela VALIDAÇÃO", {"escolher-taxa": ERRO1["escolher-taxa"]}, {"teste-escolher-taxa"}),
    ("abre o cofre uma vez só", {"escolher-taxa": ERRO2["escolher-taxa"]}, {"teste-escolher-taxa"}),
    ("empate: a taxa que vem primeiro", {"escolher-taxa": trocar(
        "escolher-taxa", "if acuracia_val > melhor_acuracia:", "if acuracia_val >= melhor_acuracia:")},
     {"teste-escolher-taxa"}),
    ("reporta o TESTE da cabeça escolhida", {"escolher-taxa": trocar(
        "escolher-taxa", "return melhor_taxa, acuracia(melhor_cabeca, X_teste, y_teste)",
        "return melhor_taxa, melhor_acuracia")},
     {"teste-escolher-taxa"}),
    ("escolhe a época pela VALIDAÇÃO", {"parar-cedo": ERRO1["parar-cedo"]}, {"teste-parar-cedo"}),
    ("guarda uma CÓPIA dos pesos", {"parar-cedo": ERRO2["parar-cedo"]}, {"teste-parar-cedo"}),
    ("empate: a época mais cedo", {"parar-cedo": trocar(
        "parar-cedo", "if acuracia_val > melhor_acuracia:", "if acuracia_val >= melhor_acuracia:")},
     {"teste-parar-cedo"}),
    ("paciencia=p: para depois de p épocas sem melhorar", {"parar-cedo": trocar(
        "parar-cedo", "if paciencia is not None and sem_melhora >= paciencia:", "if False:")},
     {"teste-parar-cedo"}),
    ("paciencia=None: treina todas as max_epocas", {"parar-cedo": trocar(
        "parar-cedo", "if paciencia is not None and sem_melhora >= paciencia:", "if sem_melhora >= (paciencia or 2):")},
     {"teste-parar-cedo"}),
    ("épocas contadas a partir de 1", {"parar-cedo": trocar(
        "parar-cedo", "melhor_acuracia, melhor_epoca, sem_melhora = acuracia_val, epoca, 0",
        "melhor_acuracia, melhor_epoca, sem_melhora = acuracia_val, epoca - 1, 0")},
     {"teste-parar-cedo"}),
    ("abre o cofre uma vez, no fim", {"parar-cedo": trocar(
        "parar-cedo", "    X_teste, y_teste = cofre.abrir()\n",
        "    cofre.abrir()\n    X_teste, y_teste = cofre.abrir()\n")},
     {"teste-parar-cedo"}),
    ("corta no max_length do treino", {"classificar": ERRO1["classificar"]}, {"teste-classificar"}),
    ("não recalcula o max_length nas mensagens novas", {"classificar": ERRO2["classificar"]}, {"teste-classificar"}),
    ("as mensagens novas são tokenizadas com disallowed_special=()", {"classificar": trocar(
        "classificar", "tokenizer.encode(texto, disallowed_special=())", "tokenizer.encode(texto)")},
     {"teste-classificar"}),
    ("classifica sem gradientes", {"classificar": trocar(
        "classificar",
        "    with torch.no_grad():\n"
        "        return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]",
        "    return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]")},
     {"teste-classificar"}),
    ("devolve uma lista de int", {"classificar": trocar(
        "classificar", "return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]",
        "return cabeca(features(entradas)).argmax(dim=-1)")},
     {"teste-classificar"}),
]

