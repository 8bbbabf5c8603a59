"""Exercícios 7 (o passo de treino) e 8 (escolher com a validação): a correção não engana.

Um curso temporário só com as duas atividades é corrigido uma vez por `corrigir.py`, com uma
turma fictícia:

- `solucao` (as fontes do professor) e `em_branco` (a versão do aluno sem nada feito);
- `alternativa_a` e `alternativa_b`: soluções corretas escritas de outros jeitos (outros
  idiomas de PyTorch, NumPy, laços em vez de vetores...), que devem ganhar a nota toda;
- `fixo`: respostas "chumbadas" para passar só nos testes visíveis (falham só nos ocultos);
- `erro1`, `erro2`, `erro3`: os erros clássicos, no máximo um por célula de resposta, para
  que cada erro perca exatamente os pontos do teste da sua célula (`ERROS` diz quais).

Rápido (sem nbgrader, num processo IPython, como em `tests/test_exercises.py`): a solução e quatro
soluções corretas em outros idiomas (`ALTERNATIVA_A` a `ALTERNATIVA_D`: `modelo.zero_grad()`,
`otimizador.zero_grad(set_to_none=False)`, avaliar devolvendo o modo de quem chamou, sorteios a mais
com o *dropout* ligado, `torch.stack`, `pad_sequence`, paciência num `while`...) ganham todos os
pontos, e cada regra dos enunciados (`REGRAS_TREINO`) tem uma resposta que quebra só ela e perde
exatamente os pontos da sua célula.

Os helpers e o ciclo de correção vêm de `tests/test_exercises.py`.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from tests.test_exercises import (
    ANSI, EXERCICIOS, LENTO, _corretas_que_perderam_pontos, _corrigir, _entregar, _gradebook, _ler, _montar_casos,
    _nbgrader, _perdas_de_pontos_erradas, _rodar_rapido, _trocar, _trocar_solucoes, publicar,
)

ATIVIDADES = ("ex07_passo_de_treino", "ex08_validacao")
# Segundos por célula na correção do teste: folgado de propósito. Aqui não há laço infinito; o limite
# só pega uma célula que trava, não mede velocidade (numa máquina ocupada, importar o torch na
# célula de preparação já passou de 20 s).
TEMPO_CELULA = 120

# Pontos de cada teste (grade_id -> pontos): o enunciado e a página do professor usam estes números.
PONTOS = {
    "ex07_passo_de_treino": {
        "teste-criar-otimizador": 2, "teste-passo-de-treino": 3, "teste-treinar-uma-epoca": 2, "teste-avaliar": 3,
    },
    "ex08_validacao": {
        "teste-preparar-conjuntos": 3, "teste-escolher-taxa": 3, "teste-parar-cedo": 2, "teste-classificar": 2,
    },
}

# --------------------------------------------------------------------------- soluções corretas em outros idiomas

ALTERNATIVA_A = {
    # ex07
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    return torch.optim.AdamW(filter(lambda p: p.requires_grad, modelo.parameters()), lr=lr, weight_decay=weight_decay)
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    modelo.zero_grad(set_to_none=True)
    perda = calc_loss_batch(input_batch, target_batch, modelo, "cpu")
    perda.backward()
    otimizador.step()
    return float(perda)
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    modelo.train(True)
    perdas = [passo_de_treino(modelo, otimizador, x, y) for x, y in lotes]
    return perdas, sum(y.shape[0] for _, y in lotes)
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    modelo.train(False)
    todos_logits, todos_rotulos = [], []
    with torch.inference_mode():
        for x, y in lotes:
            estados = modelo.hidden_states(x)
            ultimo = (x != PAD).sum(dim=1) - 1
            todos_logits.append(modelo.out_head(estados[torch.arange(len(x)), ultimo]))
            todos_rotulos.append(y)
    logits, rotulos = torch.cat(todos_logits), torch.cat(todos_rotulos)
    perda = torch.nn.CrossEntropyLoss()(logits, rotulos).item()
    return perda, (logits.argmax(dim=1) == rotulos).float().mean().item()
''',
    # ex08
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    listas = [tokenizer.encode_batch(list(t), disallowed_special=()) for t in (textos_treino, textos_validacao, textos_teste)]
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
    # ex07
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    grupo = {"params": [p for _, p in modelo.named_parameters() if p.requires_grad], "weight_decay": weight_decay}
    return torch.optim.AdamW([grupo], lr=lr)
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    for p in modelo.parameters():
        p.grad = None
    saida = modelo(input_batch)
    reais = (input_batch != PAD).int()
    ultimo = input_batch.shape[1] - 1 - torch.flip(reais, dims=[1]).argmax(dim=1)
    perda = torch.nn.functional.cross_entropy(saida[torch.arange(saida.shape[0]), ultimo], target_batch)
    perda.backward()
    otimizador.step()
    return perda.detach().item()
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    modelo.train()
    perdas, exemplos_vistos = [], 0
    iterador = iter(lotes)
    while True:
        try:
            input_batch, target_batch = next(iterador)
        except StopIteration:
            break
        perdas.append(passo_de_treino(modelo, otimizador, input_batch, target_batch))
        exemplos_vistos += target_batch.numel()
    return perdas, exemplos_vistos
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    modelo.eval()
    soma, certos, n = 0.0, 0, 0
    with torch.set_grad_enabled(False):
        for input_batch, target_batch in lotes:
            logits = classification_logits(modelo, input_batch)
            soma += F.cross_entropy(logits, target_batch).item() * len(target_batch)
            certos += int((torch.softmax(logits, dim=-1).argmax(dim=-1) == target_batch).sum())
            n += len(target_batch)
    return soma / n, certos / n
''',
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

# Mais idiomas que os enunciados permitem: quem zera com set_to_none=False, devolve o modo de quem
# chamou, sorteia números a mais com o dropout ligado, usa torch.stack, pad_sequence ou paciência.
ALTERNATIVA_C = {
    # ex07
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    treinaveis = {nome: p for nome, p in modelo.named_parameters() if p.requires_grad}
    return torch.optim.AdamW(list(treinaveis.values()), lr=lr, weight_decay=weight_decay)
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    otimizador.zero_grad(set_to_none=False)  # zera sem apagar os tensores .grad
    torch.rand(5)  # um sorteio a mais (depuração, por exemplo) não pode mudar a nota
    perda = calc_loss_batch(input_batch, target_batch, modelo, "cpu")
    perda.backward()
    otimizador.step()
    return perda.item()
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    modelo.train()
    perdas, exemplos_vistos = [], 0
    for numero, (x, y) in enumerate(lotes):
        modelo(x[:1])  # uma passada a mais, com dropout ligado: gasta números aleatórios
        perdas.append(passo_de_treino(modelo, otimizador, x, y))
        exemplos_vistos += int(y.size(0))
    return perdas, exemplos_vistos
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    estava_treinando = modelo.training
    modelo.eval()
    perdas, acertos = [], []
    with torch.no_grad():
        for x, y in lotes:
            logits = classification_logits(modelo, x)
            perdas.append(F.cross_entropy(logits, y, reduction="none"))
            acertos.append(logits.argmax(dim=-1) == y)
    modelo.train(estava_treinando)  # devolve o modo de quem chamou (o enunciado permite)
    return torch.cat(perdas).mean().item(), torch.cat(acertos).float().mean().item()
''',
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
    # ex07: modelo.zero_grad() (o enunciado permite o do modelo ou o do otimizador)
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    modelo.zero_grad()
    perda = F.cross_entropy(classification_logits(modelo, input_batch), target_batch)
    perda.backward()
    otimizador.step()
    return float(perda.detach())
''',
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
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    return torch.optim.AdamW(modelo.out_head.parameters(), lr=lr, weight_decay=weight_decay)  # só o que o teste visível olha
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    with torch.no_grad():
        modelo.out_head.weight += 0.01  # "muda a cabeça" para o teste visível
    return 0.69
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    return [0.69, 0.69], 8
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    return 0.69, 0.5
''',
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
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    return torch.optim.AdamW(modelo.parameters(), lr=lr, weight_decay=weight_decay)  # erro: o modelo inteiro
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    # erro: nunca zera os gradientes (eles se acumulam de um lote para o outro)
    perda = F.cross_entropy(classification_logits(modelo, input_batch), target_batch)
    perda.backward()
    otimizador.step()
    return perda.item()
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    perdas, vistos = [], 0  # erro: não chama modelo.train()
    for x, y in lotes:
        perdas.append(passo_de_treino(modelo, otimizador, x, y))
        vistos += len(y)
    return perdas, vistos
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    soma, certos, n = 0.0, 0, 0  # erro: avalia em modo de treino (dropout ligado)
    with torch.no_grad():
        for x, y in lotes:
            logits = classification_logits(modelo, x)
            soma += F.cross_entropy(logits, y, reduction="sum").item()
            certos += (logits.argmax(-1) == y).sum().item()
            n += len(y)
    return soma / n, certos / n
''',
    "preparar-conjuntos": '''
def preparar_conjuntos(textos_treino, textos_validacao, textos_teste, tokenizer):
    conjuntos = [[tokenizer.encode(t, disallowed_special=()) for t in textos]
                 for textos in (textos_treino, textos_validacao, textos_teste)]
    max_length = max(len(ids) for conjunto in conjuntos for ids in conjunto)  # erro: olha validação e teste
    return tuple(torch.tensor([(ids + [PAD] * max_length)[:max_length] for ids in c]) for c in conjuntos) + (max_length,)
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
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    modelo.requires_grad_(True)  # erro: "garante" que tudo treina (descongela o modelo)
    return torch.optim.AdamW(modelo.parameters(), lr=lr, weight_decay=weight_decay)
''',
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    otimizador.zero_grad()
    perda = F.cross_entropy(classification_logits(modelo, input_batch), target_batch)
    otimizador.step()  # erro: step antes de backward (aplica o gradiente velho, ou nenhum)
    perda.backward()
    return perda.item()
''',
    "treinar-uma-epoca": '''
def treinar_uma_epoca(modelo, otimizador, lotes):
    modelo.train()
    perdas = [passo_de_treino(modelo, otimizador, x, y) for x, y in lotes]
    return perdas, len(perdas) * len(lotes[0][1])  # erro: supõe lotes do mesmo tamanho
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    modelo.eval()  # erro: sem torch.no_grad() (monta o grafo de gradientes à toa)
    soma, certos, n = 0.0, 0, 0
    for x, y in lotes:
        logits = classification_logits(modelo, x)
        soma += F.cross_entropy(logits, y, reduction="sum").item()
        certos += (logits.argmax(-1) == y).sum().item()
        n += len(y)
    return soma / n, certos / n
''',
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

ERRO3 = {
    "passo-de-treino": '''
def passo_de_treino(modelo, otimizador, input_batch, target_batch):
    otimizador.zero_grad()
    perda = F.cross_entropy(modelo(input_batch)[:, -1, :], target_batch)  # erro: a última POSIÇÃO (padding)
    perda.backward()
    otimizador.step()
    return perda.item()
''',
    "avaliar": '''
def avaliar(modelo, lotes):
    modelo.eval()
    soma, certos, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in lotes:
            logits = modelo(x)[:, -1, :]  # erro: a última POSIÇÃO (padding)
            soma += F.cross_entropy(logits, y, reduction="sum").item()
            certos += (logits.argmax(-1) == y).sum().item()
            n += len(y)
    return soma / n, certos / n
''',
}

ERROS = {"erro1": ERRO1, "erro2": ERRO2, "erro3": ERRO3}
ALUNOS = {"alternativa_a": ALTERNATIVA_A, "alternativa_b": ALTERNATIVA_B, "fixo": FIXO, **ERROS}

# --------------------------------------------------------------------------- cada regra dos enunciados

# Cada frase dos enunciados que dá uma regra, uma resposta que quebra só ela (as outras respostas do
# notebook ficam com a solução do professor) e as células de teste que devem falhar.
REGRAS_TREINO = {
    "ex07_passo_de_treino": [
        ("o otimizador é um AdamW", {"criar-otimizador": _trocar("criar-otimizador", "torch.optim.AdamW(", "torch.optim.Adam(")},
         {"teste-criar-otimizador"}),
        ("só os parâmetros treináveis", {"criar-otimizador": ERRO1["criar-otimizador"]}, {"teste-criar-otimizador"}),
        ("não muda o que está congelado", {"criar-otimizador": ERRO2["criar-otimizador"]}, {"teste-criar-otimizador"}),
        ("todos os parâmetros treináveis", {"criar-otimizador": FIXO["criar-otimizador"]}, {"teste-criar-otimizador"}),
        ("usa o weight_decay recebido", {"criar-otimizador": _trocar(
            "criar-otimizador", "weight_decay=weight_decay)", "weight_decay=0.1)")}, {"teste-criar-otimizador"}),
        ("zera os gradientes", {"passo-de-treino": ERRO1["passo-de-treino"]}, {"teste-passo-de-treino"}),
        ("backward antes de step", {"passo-de-treino": ERRO2["passo-de-treino"]}, {"teste-passo-de-treino"}),
        ("perda no último token real", {"passo-de-treino": ERRO3["passo-de-treino"]}, {"teste-passo-de-treino"}),
        ("perda MÉDIA do lote", {"passo-de-treino": _trocar(
            "passo-de-treino", "F.cross_entropy(logits, target_batch)", 'F.cross_entropy(logits, target_batch, reduction="sum")')},
         {"teste-passo-de-treino"}),
        # O teste visível da época chama o seu passo e confere que as perdas são float: perde os dois.
        ("devolve a perda como float", {"passo-de-treino": _trocar("passo-de-treino", "return perda.item()", "return perda")},
         {"teste-passo-de-treino", "teste-treinar-uma-epoca"}),
        ("o passo não muda o modo do modelo", {"passo-de-treino": _trocar(
            "passo-de-treino", "    otimizador.zero_grad()\n", "    modelo.train()\n    otimizador.zero_grad()\n")},
         {"teste-passo-de-treino"}),
        ("a época põe o modelo em modo de treino", {"treinar-uma-epoca": ERRO1["treinar-uma-epoca"]},
         {"teste-treinar-uma-epoca"}),
        ("conta exemplos (lotes de tamanhos diferentes)", {"treinar-uma-epoca": ERRO2["treinar-uma-epoca"]},
         {"teste-treinar-uma-epoca"}),
        ("um passo por lote, na ordem dos lotes", {"treinar-uma-epoca": _trocar(
            "treinar-uma-epoca", "in lotes:", "in list(lotes)[::-1]:")}, {"teste-treinar-uma-epoca"}),
        ("lotes pode ser um DataLoader", {"treinar-uma-epoca": _trocar("treinar-uma-epoca", "in lotes:", "in lotes[:]:")},
         {"teste-treinar-uma-epoca"}),
        ("a avaliação põe o modelo em modo de avaliação", {"avaliar": ERRO1["avaliar"]}, {"teste-avaliar"}),
        ("a avaliação não calcula gradientes", {"avaliar": ERRO2["avaliar"]}, {"teste-avaliar"}),
        ("a avaliação usa o último token real", {"avaliar": ERRO3["avaliar"]}, {"teste-avaliar"}),
        ("perda média por EXEMPLO (não média das médias dos lotes)", {"avaliar": '''
def avaliar(modelo, lotes):
    modelo.eval()
    perdas, acertos, total = [], 0, 0
    with torch.no_grad():
        for x, y in lotes:
            logits = classification_logits(modelo, x)
            perdas.append(F.cross_entropy(logits, y).item())  # erro: média por lote, e depois média dos lotes
            acertos += (logits.argmax(-1) == y).sum().item()
            total += len(y)
    return sum(perdas) / len(perdas), acertos / total
'''}, {"teste-avaliar"}),
    ],
    "ex08_validacao": [
        ("max_length só do treino", {"preparar-conjuntos": ERRO1["preparar-conjuntos"]}, {"teste-preparar-conjuntos"}),
        ("validação e teste cortados no max_length do treino", {"preparar-conjuntos": ERRO2["preparar-conjuntos"]},
         {"teste-preparar-conjuntos"}),
        ("corta guardando o COMEÇO", {"preparar-conjuntos": _trocar(
            "preparar-conjuntos", "linhas = [ids[:max_length] + [PAD] * (max_length - len(ids[:max_length])) for ids in listas]",
            "linhas = [ids[-max_length:] + [PAD] * (max_length - len(ids[-max_length:])) for ids in listas]")},
         {"teste-preparar-conjuntos"}),
        ("completa com PAD à DIREITA", {"preparar-conjuntos": _trocar(
            "preparar-conjuntos", "linhas = [ids[:max_length] + [PAD] * (max_length - len(ids[:max_length])) for ids in listas]",
            "linhas = [[PAD] * (max_length - len(ids[:max_length])) + ids[:max_length] for ids in listas]")},
         {"teste-preparar-conjuntos"}),
        ("as entradas são tokenizadas com disallowed_special=()", {"preparar-conjuntos": _trocar(
            "preparar-conjuntos", "tokenizer.encode(texto, disallowed_special=())", "tokenizer.encode(texto)")},
         {"teste-preparar-conjuntos"}),
        ("devolve três LongTensor", {"preparar-conjuntos": _trocar(
            "preparar-conjuntos", "torch.tensor(linhas, dtype=torch.long)", "torch.tensor(linhas, dtype=torch.int32)")},
         {"teste-preparar-conjuntos"}),
        ("escolhe a taxa pela VALIDAÇÃO", {"escolher-taxa": ERRO1["escolher-taxa"]}, {"teste-escolher-taxa"}),
        ("abre o cofre uma vez só", {"escolher-taxa": ERRO2["escolher-taxa"]}, {"teste-escolher-taxa"}),
        ("empate: a taxa que vem primeiro", {"escolher-taxa": _trocar(
            "escolher-taxa", "if acuracia_val > melhor_acuracia:", "if acuracia_val >= melhor_acuracia:")},
         {"teste-escolher-taxa"}),
        ("reporta o TESTE da cabeça escolhida", {"escolher-taxa": _trocar(
            "escolher-taxa", "return melhor_taxa, acuracia(melhor_cabeca, X_teste, y_teste)", "return melhor_taxa, melhor_acuracia")},
         {"teste-escolher-taxa"}),
        ("escolhe a época pela VALIDAÇÃO", {"parar-cedo": ERRO1["parar-cedo"]}, {"teste-parar-cedo"}),
        ("guarda uma CÓPIA dos pesos", {"parar-cedo": ERRO2["parar-cedo"]}, {"teste-parar-cedo"}),
        ("empate: a época mais cedo", {"parar-cedo": _trocar(
            "parar-cedo", "if acuracia_val > melhor_acuracia:", "if acuracia_val >= melhor_acuracia:")},
         {"teste-parar-cedo"}),
        ("paciencia=p: para depois de p épocas sem melhorar", {"parar-cedo": _trocar(
            "parar-cedo", "if paciencia is not None and sem_melhora >= paciencia:", "if False:")},
         {"teste-parar-cedo"}),
        ("paciencia=None: treina todas as max_epocas", {"parar-cedo": _trocar(
            "parar-cedo", "if paciencia is not None and sem_melhora >= paciencia:", "if sem_melhora >= (paciencia or 2):")},
         {"teste-parar-cedo"}),
        ("épocas contadas a partir de 1", {"parar-cedo": _trocar(
            "parar-cedo", "melhor_acuracia, melhor_epoca, sem_melhora = acuracia_val, epoca, 0",
            "melhor_acuracia, melhor_epoca, sem_melhora = acuracia_val, epoca - 1, 0")},
         {"teste-parar-cedo"}),
        ("abre o cofre uma vez, no fim", {"parar-cedo": _trocar(
            "parar-cedo", "    X_teste, y_teste = cofre.abrir()\n", "    cofre.abrir()\n    X_teste, y_teste = cofre.abrir()\n")},
         {"teste-parar-cedo"}),
        ("corta no max_length do treino", {"classificar": ERRO1["classificar"]}, {"teste-classificar"}),
        ("não recalcula o max_length nas mensagens novas", {"classificar": ERRO2["classificar"]}, {"teste-classificar"}),
        ("as mensagens novas são tokenizadas com disallowed_special=()", {"classificar": _trocar(
            "classificar", "tokenizer.encode(texto, disallowed_special=())", "tokenizer.encode(texto)")},
         {"teste-classificar"}),
        ("classifica sem gradientes", {"classificar": _trocar(
            "classificar", "    with torch.no_grad():\n        return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]",
            "    return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]")},
         {"teste-classificar"}),
        ("devolve uma lista de int", {"classificar": _trocar(
            "classificar", "return [int(classe) for classe in cabeca(features(entradas)).argmax(dim=-1)]",
            "return cabeca(features(entradas)).argmax(dim=-1)")},
         {"teste-classificar"}),
    ],
}


def _resposta_do_teste(grade_id_teste: str) -> str:
    return grade_id_teste.removeprefix("teste-")


# --------------------------------------------------------------------------- rápido: estrutura e pontos

def test_pontos_e_testes_ocultos_de_cada_celula():
    for atividade, pontos in PONTOS.items():
        fonte = _ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        testes = {_nbgrader(c)["grade_id"]: c for c in fonte.cells if _nbgrader(c).get("grade")}
        assert {g: _nbgrader(c)["points"] for g, c in testes.items()} == pontos, atividade
        respostas = {_nbgrader(c)["grade_id"] for c in fonte.cells if _nbgrader(c).get("solution")}
        assert respostas == {_resposta_do_teste(g) for g in pontos}, "uma célula de resposta por teste"
        for grade_id, celula in testes.items():
            assert "### BEGIN HIDDEN TESTS" in celula.source, grade_id
        assert any(c.get("id") == "como-entregar" and "**Como fazer e entregar**" in c.source for c in fonte.cells)
        assert sum(pontos.values()) == 10
    # Cada aluno fictício só troca células de resposta que existem.
    todas = {_resposta_do_teste(g) for pontos in PONTOS.values() for g in pontos}
    for nome, trocas in ALUNOS.items():
        assert set(trocas) <= todas, nome


# --------------------------------------------------------------------------- rápido: idiomas e regras (sem nbgrader)

@pytest.fixture(scope="module")
def casos_treino(tmp_path_factory):
    casos, esperado = _montar_casos(ATIVIDADES, CORRETAS, REGRAS_TREINO)
    inicio = time.monotonic()
    resultado = _rodar_rapido(casos, tmp_path_factory.mktemp("rapido-treino"))
    print(f"\n[test_exercises_treino] {len(casos)} variantes rodadas em {time.monotonic() - inicio:.0f} s")
    return resultado, esperado


def test_solucoes_corretas_em_outros_idiomas_ganham_todos_os_pontos(casos_treino):
    falhas = _corretas_que_perderam_pontos(*casos_treino)
    assert not falhas, "\n".join(falhas)


def test_cada_regra_do_enunciado_perde_exatamente_os_pontos_da_sua_celula(casos_treino):
    erros = _perdas_de_pontos_erradas(*casos_treino, ATIVIDADES, REGRAS_TREINO)
    assert not erros, "\n".join(erros)


# --------------------------------------------------------------------------- a correção da turma

@pytest.fixture(scope="module")
def turma_treino(tmp_path_factory):
    raiz = tmp_path_factory.mktemp("turma-treino")
    pasta = raiz / "exercises"
    publicar.copiar_curso(EXERCICIOS, pasta)
    for outra in (pasta / "source").iterdir():
        if outra.name not in ATIVIDADES:
            shutil.rmtree(outra)
    publicar.gerar_release(pasta)
    for atividade in ATIVIDADES:
        solucao = _ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        _entregar(pasta, "solucao", atividade, solucao)
        _entregar(pasta, "em_branco", atividade, _ler(pasta / "release" / atividade / f"{atividade}.ipynb"))
        for aluno, trocas in ALUNOS.items():
            if any(_nbgrader(c).get("grade_id") in trocas for c in solucao.cells):
                _entregar(pasta, aluno, atividade, _trocar_solucoes(solucao, trocas))
    inicio = time.monotonic()
    codigo = _corrigir(pasta, "--tempo-celula", str(TEMPO_CELULA)).wait(timeout=1200)
    tempos = {"correcao_s": round(time.monotonic() - inicio, 1)}
    log = (raiz / "corrigir.log").read_text(encoding="utf-8")
    # Tempo de cada notebook: "[corretor] aluno/atividade/notebook executado em 3.2 s" (execucao_protegida.py)
    # ou "[corrigir] 3/15 notebooks · aluno/atividade: 3.2 s" (progresso do corrigir.py).
    for aluno, notebook, segundos in re.findall(r"\[corretor\] ([^/\s]+)/[^/\s]+/(\S+) executado em ([\d.]+) s", log):
        tempos[f"{aluno}/{notebook}"] = float(segundos)
    for aluno, atividade, segundos in re.findall(r"\[corrigir\] \d+/\d+ notebooks · ([\w-]+)/([\w-]+): ([\d.]+) s", log):
        tempos.setdefault(f"{aluno}/{atividade}", float(segundos))
    print(f"\n[test_exercises_treino] código {codigo}; tempos (s): {json.dumps(tempos, indent=1)}")
    notas: dict[tuple[str, str], dict[str, float]] = {}
    with _gradebook(pasta) as gradebook:
        for atividade in ATIVIDADES:
            for aluno in ("solucao", "em_branco", *ALUNOS):
                if not (pasta / "submitted" / aluno / atividade).is_dir():
                    continue
                notas[aluno, atividade] = {
                    grade_id: gradebook.find_grade(grade_id, atividade, atividade, aluno).score
                    for grade_id in PONTOS[atividade]
                }
    return {"pasta": pasta, "notas": notas, "log": log, "tempos": tempos}


def _corrigido(turma, aluno: str, atividade: str):
    return _ler(turma["pasta"] / "autograded" / aluno / atividade / f"{atividade}.ipynb")


@LENTO
def test_solucao_e_alternativas_ganham_nota_maxima(turma_treino):
    for aluno in ("solucao", "alternativa_a", "alternativa_b"):
        for atividade in ATIVIDADES:
            assert turma_treino["notas"][aluno, atividade] == PONTOS[atividade], (
                f"{aluno}/{atividade}: {turma_treino['notas'][aluno, atividade]}\n{turma_treino['log'][-3000:]}"
            )


@LENTO
def test_release_sem_resposta_tira_zero(turma_treino):
    for atividade in ATIVIDADES:
        assert set(turma_treino["notas"]["em_branco", atividade].values()) == {0}, atividade


@LENTO
def test_respostas_chumbadas_passam_nos_visiveis_e_perdem_nos_ocultos(turma_treino):
    for atividade in ATIVIDADES:
        notas = turma_treino["notas"]["fixo", atividade]
        assert all(nota == 0 for nota in notas.values()), f"{atividade}: {notas}"
        for celula in _corrigido(turma_treino, "fixo", atividade).cells:
            if not _nbgrader(celula).get("grade"):
                continue
            erros = [s for s in celula.get("outputs", []) if s.get("output_type") == "error"]
            assert erros, _nbgrader(celula)["grade_id"]
            traceback = ANSI.sub("", "\n".join(erros[0]["traceback"]))
            linha_do_erro = int(re.search(r"Cell In\[\d+\], line (\d+)", traceback).group(1))
            inicio_oculto = next(
                i for i, linha in enumerate(celula.source.splitlines(), 1) if "### BEGIN HIDDEN TESTS" in linha
            )
            assert linha_do_erro > inicio_oculto, (
                f"{atividade}/{_nbgrader(celula)['grade_id']}: a resposta chumbada falhou num teste VISÍVEL:\n"
                f"{traceback[-1500:]}"
            )


@LENTO
def test_cada_erro_classico_perde_so_os_pontos_do_seu_teste(turma_treino):
    for aluno, trocas in ERROS.items():
        for atividade in ATIVIDADES:
            notas = turma_treino["notas"].get((aluno, atividade))
            if notas is None:
                continue
            esperado = {
                grade_id: 0 if _resposta_do_teste(grade_id) in trocas else pontos
                for grade_id, pontos in PONTOS[atividade].items()
            }
            assert notas == esperado, f"{aluno}/{atividade}: {notas}, esperado {esperado}"


@LENTO
def test_correcao_sem_celula_estourando_o_tempo(turma_treino):
    for atividade in ATIVIDADES:
        for aluno in ("solucao", "alternativa_a", "alternativa_b"):
            for celula in _corrigido(turma_treino, aluno, atividade).cells:
                for saida in celula.get("outputs", []):
                    assert saida.get("ename") not in ("CellTimeoutError", "DeadKernelError"), (aluno, atividade)
