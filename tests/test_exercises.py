"""Exercícios do nbgrader: enunciados em dia, nada de solução vazando e uma correção justa e que não engana.

Rápido (sem nbgrader, num processo IPython): cada exercício com a solução do professor, duas
soluções corretas independentes (ALTERNATIVAS, ALTERNATIVAS_2) e outros idiomas aceitos (IDIOMAS:
a função do pacote, pad_sequence...) ganha todos os pontos, e cada regra do enunciado (REGRAS) tem
uma resposta errada que perde exatamente os pontos das células que a testam. Os exercícios 7 e 8
fazem o mesmo em `tests/test_exercises_treino.py`.

Completo: o ciclo do professor numa cópia temporária do curso, `generate_assignment` -> entregas
de alunos fictícios -> `corrigir.py` (reparo, conferência, autograde em paralelo, devolutivas,
exportação) -> correção manual simulada -> `corrigir.py --apenas-feedback`. Alunos:
`solucao` (as fontes), `em_branco` (a versão do aluno), `visivel` (erros que passam nos testes
visíveis), `ruidoso` (outras soluções corretas, que avisam, mostram tqdm, escrevem em stderr e
imprimem muito), `sem_metadados` e `reparado` (salvos sem os metadados do nbgrader),
`adulterador` (um teste e uma célula de dados editados; uma resposta marcada como teste),
`renomeado` ("Cópia de ..."), `quebrado` (arquivo que não é notebook), `travado` (laço infinito
imprimindo) e `teimoso` (30 MB de saída e interrupção ignorada).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

pytest.importorskip("nbgrader")

REPO = Path(__file__).resolve().parents[1]
EXERCICIOS = REPO / "exercises"
sys.path.insert(0, str(EXERCICIOS))

import publicar  # noqa: E402
from entregas_simuladas import metadados_nbgrader as _nbgrader, modificar_respostas  # noqa: E402
import verificar_entregas  # noqa: E402

FONTES = publicar.notebooks_fonte(EXERCICIOS)
ATIVIDADES = [fonte.parent.name for fonte in FONTES]
# Os testes que corrigem a turma levam alguns minutos (dezenas de notebooks no nbgrader): ficam
# marcados como `slow` para quem quiser pulá-los localmente (`pytest -m "not slow"`); o CI roda todos.
LENTO = pytest.mark.slow
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
    "contar-compartilhadas": '''
def contar_compartilhadas(a, b):
    return len(a.merge(b, on=["Text", "Label"]))  # conta pares de linhas, não mensagens distintas
''',
    "dividir-sem-vazamento": '''
def dividir_sem_vazamento(df, frac_treino=0.7, frac_validacao=0.1, semente=123):
    # Erro clássico: balanceia e divide sem tirar as mensagens repetidas (vazamento).
    spam = df[df["Label"] == "spam"]
    ham = df[df["Label"] == "ham"].sample(n=len(spam), random_state=semente)
    balanceado = pd.concat([ham, spam])
    balanceado["Label"] = balanceado["Label"].map({"ham": 0, "spam": 1})
    balanceado = balanceado.sample(frac=1, random_state=semente).reset_index(drop=True)
    n_treino = int(len(balanceado) * frac_treino)
    n_validacao = int(len(balanceado) * frac_validacao)
    return (balanceado[:n_treino], balanceado[n_treino:n_treino + n_validacao],
            balanceado[n_treino + n_validacao:])
''',
    "codificar-lote": '''
def codificar_lote(textos, tokenizer, max_length=None, pad_token_id=50256):
    codificados = [tokenizer.encode(t) for t in textos]
    if max_length is None:
        max_length = max(len(ids) for ids in codificados)
    # Erro: trunca guardando o FIM da mensagem e ignora o pad_token_id recebido.
    linhas = [ids[-max_length:] + [50256] * (max_length - len(ids[-max_length:])) for ids in codificados]
    return torch.tensor(linhas)
''',
    "indice-ultimo-token": '''
def indice_ultimo_token_real(input_ids, pad_token_id=50256):
    # Erro de "menos um": posição do primeiro preenchimento - 1 (dá -1 sem preenchimento).
    return (input_ids == pad_token_id).long().argmax(dim=1) - 1
''',
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
    "estimar-memoria": '''
ESTADOS_POR_PARAMETRO = {"adamw": 2, "adam": 2, "sgd_momentum": 1, "sgd": 0}

def estimar_memoria_gb(num_parametros, bytes_por_valor=4, otimizador="adamw", parametros_treinaveis=None):
    # Erro: ignora parametros_treinaveis (como se tudo fosse treinável).
    return num_parametros * bytes_por_valor * (2 + ESTADOS_POR_PARAMETRO[otimizador]) / 1e9
''',
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
    "contar-compartilhadas": '''
def contar_compartilhadas(a, b):
    return len(a[["Text", "Label"]].drop_duplicates().merge(b[["Text", "Label"]].drop_duplicates()))
''',
    "dividir-sem-vazamento": '''
import numpy as np

def dividir_sem_vazamento(df, frac_treino=0.7, frac_validacao=0.1, semente=123):
    limpo = df.groupby(["Label", "Text"], as_index=False, sort=False).first()
    n_spam = int((limpo["Label"] == "spam").sum())
    ham = limpo[limpo["Label"] == "ham"].sample(n_spam, random_state=semente)
    tudo = pd.concat([limpo[limpo["Label"] == "spam"], ham], ignore_index=True)
    tudo["Label"] = (tudo["Label"] == "spam").astype(int)
    tudo = tudo.iloc[np.random.default_rng(semente).permutation(len(tudo))]
    a = int(len(tudo) * frac_treino)
    b = a + int(len(tudo) * frac_validacao)
    return tudo.iloc[:a].copy(), tudo.iloc[a:b].copy(), tudo.iloc[b:].copy()
''',
    "codificar-lote": '''
def codificar_lote(textos, tokenizer, max_length=None, pad_token_id=50256):
    listas = tokenizer.encode_batch(textos, disallowed_special=())
    largura = max_length if max_length is not None else max(map(len, listas))
    saida = torch.full((len(textos), largura), pad_token_id, dtype=torch.long)
    for i, ids in enumerate(listas):
        n = min(len(ids), largura)
        saida[i, :n] = torch.tensor(ids[:n])
    return saida
''',
    "indice-ultimo-token": '''
def indice_ultimo_token_real(input_ids, pad_token_id=50256):
    reais = (input_ids != pad_token_id).int()
    return (input_ids.shape[1] - 1 - torch.flip(reais, dims=[1]).argmax(dim=1)).long()
''',
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
    "estimar-memoria": '''
def estimar_memoria_gb(num_parametros, bytes_por_valor=4, otimizador="adamw", parametros_treinaveis=None):
    estados = {"adam": 2, "adamw": 2, "sgd_momentum": 1, "sgd": 0}
    if otimizador not in estados:
        raise ValueError("otimizador desconhecido")
    treinaveis = num_parametros if parametros_treinaveis is None else parametros_treinaveis
    return float(bytes_por_valor * (num_parametros + treinaveis * (1 + estados[otimizador]))) / 10**9
''',
}

LACO_QUE_IMPRIME = (
    "\nimport time\nprint('x' * 5_000_000)\nwhile True:\n    print('laço infinito ' * 50)\n    time.sleep(0.01)\n"
)
LACO_TEIMOSO = (
    "\nimport time\nprint('y' * 30_000_000)\nwhile True:\n    try:\n        time.sleep(0.05)\n"
    "    except KeyboardInterrupt:\n        pass  # ignora a interrupção: só reiniciando o kernel\n"
)


# --------------------------------------------------------------------------- casos rápidos (sem nbgrader)

SOLUCOES = {
    _celula.metadata["nbgrader"]["grade_id"]: _celula.source
    for _fonte in FONTES for _celula in nbformat.read(_fonte, as_version=4).cells
    if _celula.get("metadata", {}).get("nbgrader", {}).get("solution") and _celula.cell_type == "code"
}


def _trocar(grade_id: str, antes: str, depois: str) -> str:
    """A solução do professor para `grade_id` com um trecho trocado (um erro de propósito)."""
    fonte = SOLUCOES[grade_id]
    assert fonte.count(antes) == 1, f"{grade_id}: {antes!r} aparece {fonte.count(antes)} vezes"
    return fonte.replace(antes, depois)


def _corpo_divisao(tabela, arredondar="int", balancear=True, rotulos='{"ham": 0, "spam": 1}',
                   semente_ham="semente", semente_embaralhar="semente", embaralhar=True) -> list[str]:
    """O resto de uma dividir_sem_vazamento a partir da tabela sem repetições, com um erro escolhido."""
    linhas = [f'    spam = {tabela}[{tabela}["Label"] == "spam"]', f'    ham = {tabela}[{tabela}["Label"] == "ham"]']
    if balancear:
        linhas.append(f"    ham = ham.sample(n=len(spam), random_state={semente_ham})")
    linhas += ["    balanceado = pd.concat([ham, spam])",
               f'    balanceado = balanceado.assign(Label=balanceado["Label"].map({rotulos}))']
    if embaralhar:
        linhas.append(f"    balanceado = balanceado.sample(frac=1, random_state={semente_embaralhar}).reset_index(drop=True)")
    linhas += [f"    n_treino = {arredondar}(len(balanceado) * frac_treino)",
               f"    n_validacao = {arredondar}(len(balanceado) * frac_validacao)",
               "    return (balanceado.iloc[:n_treino], balanceado.iloc[n_treino:n_treino + n_validacao],",
               "            balanceado.iloc[n_treino + n_validacao:])"]
    return linhas


def _divisao_com_erro(repetidas="['Text', 'Label']", **erro) -> str:
    """Uma dividir_sem_vazamento que remove as repetições pelas colunas `repetidas` (certo: Text e
    Label) e depois erra como `erro` diz (os argumentos de `_corpo_divisao`)."""
    return "\n".join([
        "def dividir_sem_vazamento(df, frac_treino=0.7, frac_validacao=0.1, semente=123):",
        f"    unicos = df.drop_duplicates(subset={repetidas})",
        *_corpo_divisao("unicos", **erro)])


# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
    "contar-compartilhadas": '''
def contar_compartilhadas(a, b):
    mensagens_b = {(linha.Text, linha.Label) for linha in b.itertuples()}
    return sum(1 for mensagem in {(linha.Text, linha.Label) for linha in a.itertuples()} if mensagem in mensagens_b)
''',
    "dividir-sem-vazamento": '''
import numpy as np

def dividir_sem_vazamento(df, frac_treino=0.7, frac_validacao=0.1, semente=123):
    vistos, linhas = set(), []
    for rotulo, texto in zip(df["Label"], df["Text"]):
        if (rotulo, texto) not in vistos:
            vistos.add((rotulo, texto))
            linhas.append((texto, rotulo))
    spam = [linha for linha in linhas if linha[1] == "spam"]
    ham = [linha for linha in linhas if linha[1] == "ham"]
    sorteio = np.random.default_rng(semente)
    escolhidas = [ham[i] for i in sorteio.choice(len(ham), size=len(spam), replace=False)]
    tudo = [(texto, 0 if rotulo == "ham" else 1) for texto, rotulo in escolhidas + spam]
    tudo = [tudo[i] for i in sorteio.permutation(len(tudo))]
    final = pd.DataFrame(tudo, columns=["Text", "Label"])
    a = int(len(final) * frac_treino)
    b = a + int(len(final) * frac_validacao)
    return final[:a], final[a:b], final[b:]
''',
    "codificar-lote": '''
def codificar_lote(textos, tokenizer, max_length=None, pad_token_id=50256):
    ids = [tokenizer.encode(texto, disallowed_special=()) for texto in textos]
    largura = max(len(x) for x in ids) if max_length is None else max_length
    return torch.LongTensor([x[:largura] + [pad_token_id] * max(0, largura - len(x)) for x in ids])
''',
    "indice-ultimo-token": '''
def indice_ultimo_token_real(input_ids, pad_token_id=50256):
    posicoes = []
    for linha in input_ids.tolist():
        p = len(linha) - 1
        while linha[p] == pad_token_id:
            p -= 1
        posicoes.append(p)
    return torch.tensor(posicoes, dtype=torch.long)
''',
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

# Cada regra dos enunciados que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = {
    "ex01_divisao": [
        ("conta mensagens DISTINTAS (uma mensagem repetida conta uma vez)",
         {"contar-compartilhadas": ERRADAS["contar-compartilhadas"]}, {"teste-contar-compartilhadas"}),
        ("uma mensagem é o par (Text, Label): o mesmo texto com outro rótulo é outra mensagem", {"contar-compartilhadas": '''
def contar_compartilhadas(a, b):
    return len(set(a["Text"]) & set(b["Text"]))
'''}, {"teste-contar-compartilhadas"}),
        ("devolve um int", {"contar-compartilhadas": _trocar(
            "contar-compartilhadas", "    return len(", "    return 1.0 * len(")}, {"teste-contar-compartilhadas"}),
        ("remove as repetições ANTES de balancear e dividir", {"dividir-sem-vazamento": ERRADAS["dividir-sem-vazamento"]},
         {"teste-balanceamento", "teste-vazamento"}),
        ("não altera o df recebido", {"dividir-sem-vazamento": "\n".join([
            "def dividir_sem_vazamento(df, frac_treino=0.7, frac_validacao=0.1, semente=123):",
            "    df.drop_duplicates(subset=['Text', 'Label'], inplace=True)  # altera o DataFrame do chamador",
            *_corpo_divisao("df")])}, {"teste-formato"}),
        ("tamanhos com int(), não round()",
         {"dividir-sem-vazamento": _divisao_com_erro(arredondar="round")}, {"teste-formato"}),
        ("balanceia reduzindo as ham ao número de spam",
         {"dividir-sem-vazamento": _divisao_com_erro(balancear=False)}, {"teste-balanceamento"}),
        ("todas as spam únicas ficam", {"dividir-sem-vazamento": _trocar(
            "dividir-sem-vazamento", 'spam = unicos[unicos["Label"] == "spam"]', 'spam = unicos[unicos["Label"] == "spam"].iloc[1:]')},
         {"teste-balanceamento"}),
        ("repetida é o mesmo Text E o mesmo Label (o mesmo texto com os dois rótulos fica duas vezes)",
         {"dividir-sem-vazamento": _divisao_com_erro(repetidas="['Text']")}, {"teste-balanceamento"}),
        ("ham -> 0 e spam -> 1",
         {"dividir-sem-vazamento": _divisao_com_erro(rotulos='{"ham": 1, "spam": 0}')}, {"teste-balanceamento"}),
        ("a mesma semente dá o mesmo resultado (semente em todo sorteio)",
         {"dividir-sem-vazamento": _divisao_com_erro(semente_ham="None")}, {"teste-vazamento"}),
        ("sementes diferentes dão divisões diferentes",
         {"dividir-sem-vazamento": _divisao_com_erro(semente_ham="123", semente_embaralhar="123")}, {"teste-vazamento"}),
        ("embaralha antes de dividir",
         {"dividir-sem-vazamento": _divisao_com_erro(embaralhar=False)}, {"teste-vazamento"}),
    ],
    "ex02_tokenizacao": [
        ("devolve um torch.LongTensor", {"codificar-lote": _trocar(
            "codificar-lote", "return torch.tensor(linhas, dtype=torch.long)", "return torch.tensor(linhas, dtype=torch.int32)")},
         {"teste-codificar-lote"}),
        ("trunca guardando os PRIMEIROS tokens; usa o pad_token_id recebido", {"codificar-lote": ERRADAS["codificar-lote"]},
         {"teste-codificar-lote"}),
        ("usa o pad_token_id recebido", {"codificar-lote": _trocar(
            "codificar-lote", "[pad_token_id] * (max_length", "[50256] * (max_length")}, {"teste-codificar-lote"}),
        ("max_length=None: o comprimento do texto mais longo", {"codificar-lote": _trocar(
            "codificar-lote", "max_length = max(len(ids) for ids in codificados)", "max_length = 16")},
         {"teste-codificar-lote"}),
        ("preenche à DIREITA", {"codificar-lote": _trocar(
            "codificar-lote", "linhas.append(ids + [pad_token_id] * (max_length - len(ids)))",
            "linhas.append([pad_token_id] * (max_length - len(ids)) + ids)")}, {"teste-codificar-lote"}),
        ("um SMS com o texto <|endoftext|> é texto comum (disallowed_special=())", {"codificar-lote": _trocar(
            "codificar-lote", "disallowed_special=()", 'allowed_special="all"')}, {"teste-codificar-lote"}),
        ("posição do último token real; L - 1 sem preenchimento", {"indice-ultimo-token": ERRADAS["indice-ultimo-token"]},
         {"teste-indice-ultimo-token"}),
        ("índices com forma (lote,)", {"indice-ultimo-token": _trocar(
            "indice-ultimo-token", "return reais.sum(dim=1) - 1", "return reais.sum(dim=1, keepdim=True) - 1")},
         {"teste-indice-ultimo-token"}),
        ("índices num torch.LongTensor", {"indice-ultimo-token": _trocar(
            "indice-ultimo-token", "return reais.sum(dim=1) - 1", "return (reais.sum(dim=1) - 1).int()")},
         {"teste-indice-ultimo-token"}),
        ("usa o pad_token_id recebido (índices)", {"indice-ultimo-token": _trocar(
            "indice-ultimo-token", "(input_ids != pad_token_id)", "(input_ids != 50256)")}, {"teste-indice-ultimo-token"}),
    ],
    "ex03_congelamento": [
        ("conta só os parâmetros com requires_grad=True", {"contar-treinaveis": _trocar(
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
        ("abordagem 2 congela TODOS os parâmetros", {"abordagem2": _trocar(
            "abordagem2", "parametro.requires_grad = False", "pass")}, {"teste-abordagem2", "teste-abordagem3"}),
        ("cabeça com viés", {"abordagem2": _trocar(
            "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', 'nn.Linear(modelo.cfg["emb_dim"], num_classes, bias=False)')},
         {"teste-abordagem2", "teste-abordagem3"}),
        ("cabeça com num_classes saídas", {"abordagem2": _trocar(
            "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', 'nn.Linear(modelo.cfg["emb_dim"], 2)')},
         {"teste-abordagem2", "teste-abordagem3"}),
        ("a cabeça nova nasce treinável", {"abordagem2": _trocar(
            "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', 'nn.Linear(modelo.cfg["emb_dim"], num_classes).requires_grad_(False)')},
         {"teste-abordagem2", "teste-abordagem3"}),
        ("abordagem 2 devolve o modelo", {"abordagem2": _trocar("abordagem2", "    return modelo\n", "")},
         {"teste-abordagem2", "teste-abordagem3"}),
        ("usa emb_dim do modelo (não 768 fixo)", {"abordagem2": _trocar(
            "abordagem2", 'nn.Linear(modelo.cfg["emb_dim"], num_classes)', "nn.Linear(768, num_classes)")},
         {"teste-abordagem2"}),
        ("abordagem 3: só o ÚLTIMO bloco", {"abordagem3": ERRADAS["abordagem3"]}, {"teste-abordagem3"}),
        ("abordagem 3: os embeddings continuam congelados", {"abordagem3": _trocar(
            "abordagem3", "    return modelo\n", "    modelo.pos_emb.requires_grad_(True)\n    return modelo\n")},
         {"teste-abordagem3"}),
        ("abordagem 3 devolve o modelo", {"abordagem3": _trocar("abordagem3", "    return modelo\n", "")},
         {"teste-abordagem3"}),
        ("abordagem 3: a LayerNorm final também", {"abordagem3": _trocar(
            "abordagem3", "for parametro in modelo.final_norm.parameters():\n        parametro.requires_grad = True\n", "")},
         {"teste-abordagem3"}),
    ],
    "ex04_perda": [
        ("logits do último token REAL (não da última posição)", {"logits-ultimo-token": ERRADAS["logits-ultimo-token"]},
         {"teste-logits-ultimo-token", "teste-perda-lote", "teste-acuracia"}),
        # A perda e a acurácia usam os logits da Parte 1: o erro dela chega às duas.
        ("usa o pad_token_id recebido", {"logits-ultimo-token": _trocar(
            "logits-ultimo-token", "(input_ids != pad_token_id)", "(input_ids != PAD)")},
         {"teste-logits-ultimo-token", "teste-perda-lote", "teste-acuracia"}),
        ("perda MÉDIA do lote", {"perda-lote": _trocar(
            "perda-lote", "F.cross_entropy(logits, target_batch)", 'F.cross_entropy(logits, target_batch, reduction="sum")')},
         {"teste-perda-lote"}),
        ("a perda usa o pad_token_id recebido", {"perda-lote": _trocar(
            "perda-lote", "logits_ultimo_token_real(modelo, input_batch, pad_token_id)",
            "logits_ultimo_token_real(modelo, input_batch)")}, {"teste-perda-lote"}),
        ("a perda permite backward() (sem torch.no_grad())", {"perda-lote": '''
def calc_perda_lote(input_batch, target_batch, modelo, pad_token_id=50256):
    with torch.no_grad():
        return F.cross_entropy(logits_ultimo_token_real(modelo, input_batch, pad_token_id), target_batch)
'''}, {"teste-perda-lote"}),
        ("acurácia por MENSAGEM (não média por lote)", {"acuracia": ERRADAS["acuracia"]}, {"teste-acuracia"}),
        ("a acurácia usa o pad_token_id recebido", {"acuracia": _trocar(
            "acuracia", "logits_ultimo_token_real(modelo, input_batch, pad_token_id)",
            "logits_ultimo_token_real(modelo, input_batch)")}, {"teste-acuracia"}),
        ("acurácia como float", {"acuracia": _trocar("acuracia", "return corretas / total", "return torch.tensor(corretas / total)")},
         {"teste-acuracia"}),
        ("lotes pode ser um DataLoader", {"acuracia": _trocar("acuracia", "in lotes:", "in lotes[:]:")}, {"teste-acuracia"}),
        ("acurácia sem gradientes (torch.no_grad())", {"acuracia": _trocar("acuracia", "torch.no_grad()", "torch.enable_grad()")},
         {"teste-acuracia"}),
    ],
    "ex05_embeddings": [
        ("features do último token REAL", {"extrair-features": ERRADAS["extrair-features"]}, {"teste-extrair-features"}),
        ("np.ndarray float32", {"extrair-features": _trocar(
            "extrair-features", ".numpy().astype(np.float32)", "")}, {"teste-extrair-features"}),
        ("usa o pad_token_id recebido", {"extrair-features": _trocar(
            "extrair-features", "(input_ids != pad_token_id)", "(input_ids != PAD)")}, {"teste-extrair-features"}),
        ("não altera o modelo (não troca out_head)", {"extrair-features": _trocar(
            "extrair-features", "with torch.no_grad():", "modelo.out_head = nn.Identity()\n    with torch.no_grad():")},
         {"teste-extrair-features"}),
        ("não calcula gradientes", {"extrair-features": '''
def extrair_features(modelo, input_ids, pad_token_id=50256):
    estados = modelo.hidden_states(input_ids)
    posicoes = (input_ids != pad_token_id).sum(dim=1) - 1
    return estados[torch.arange(len(input_ids)), posicoes].detach().numpy().astype(np.float32)
'''}, {"teste-extrair-features"}),
        ("treina só com o treino", {"treinar-e-avaliar": ERRADAS["treinar-e-avaliar"]}, {"teste-treinar-e-avaliar"}),
        ("a mesma semente dá o mesmo resultado", {"treinar-e-avaliar": _trocar(
            "treinar-e-avaliar", "RandomForestClassifier(random_state=semente)", "RandomForestClassifier()")},
         {"teste-treinar-e-avaliar"}),
        ("devolve a acurácia no TESTE, entre 0 e 1", {"treinar-e-avaliar": _trocar(
            "treinar-e-avaliar", "classificador.score(X_teste, y_teste)", "classificador.score(X_treino, y_treino)")},
         {"teste-treinar-e-avaliar"}),
    ],
    "ex06_memoria": [
        ("GB decimais (10**9, não 1024**3)", {"estimar-memoria": _trocar("estimar-memoria", "/ 1e9", "/ 1024**3")},
         {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
        ("devolve float", {"estimar-memoria": _trocar("estimar-memoria", "return valores * bytes_por_valor / 1e9",
                                                        "return int(valores * bytes_por_valor / 1e9)")},
         {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
        ("gradientes e estados só dos treináveis", {"estimar-memoria": ERRADAS["estimar-memoria"]},
         {"teste-estimar-memoria", "teste-memoria-abordagem3"}),
        ("SGD com momento: 1 estado", {"estimar-memoria": _trocar("estimar-memoria", '"sgd_momentum": 1', '"sgd_momentum": 2')},
         {"teste-estimar-memoria"}),
        ("Adam: 2 estados", {"estimar-memoria": _trocar("estimar-memoria", '"adam": 2', '"adam": 1')},
         {"teste-estimar-memoria"}),
        ("parametros_treinaveis=None: todos são treináveis", {"estimar-memoria": _trocar(
            "estimar-memoria", "parametros_treinaveis = num_parametros", "parametros_treinaveis = 0")},
         {"teste-estimar-memoria"}),
        ("nomes comparados exatamente ('AdamW ' levanta ValueError)", {"estimar-memoria": _trocar(
            "estimar-memoria", "    if otimizador not in ESTADOS_POR_PARAMETRO:",
            "    otimizador = otimizador.strip().lower()\n    if otimizador not in ESTADOS_POR_PARAMETRO:")},
         {"teste-estimar-memoria"}),
        ("otimizador desconhecido levanta ValueError", {"estimar-memoria": _trocar(
            "estimar-memoria", "raise ValueError(f\"otimizador desconhecido: {otimizador!r}\")", "otimizador = \"adamw\"")},
         {"teste-estimar-memoria"}),
        ("usa bytes_por_valor", {"estimar-memoria": _trocar("estimar-memoria", "valores * bytes_por_valor", "valores * 4")},
         {"teste-estimar-memoria"}),
        ("abordagem 3: só 7.090.946 treináveis", {"memoria-abordagem3": _trocar(
            "memoria-abordagem3", "estimar_memoria_gb(124_441_346, parametros_treinaveis=7_090_946)", "estimar_memoria_gb(124_441_346)")},
         {"teste-memoria-abordagem3"}),
    ],
}


# --------------------------------------------------------------------------- utilidades

def _ler(caminho: Path):
    return nbformat.read(caminho, as_version=4)


def _trocar_solucoes(nb, trocas: dict[str, str]):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if _nbgrader(celula).get("grade_id") in trocas:
            celula.source = trocas[_nbgrader(celula)["grade_id"]].strip("\n")
    return novo


def _acrescentar(nb, grade_id: str, codigo: str):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if _nbgrader(celula).get("grade_id") == grade_id:
            celula.source += "\n" + codigo
    return novo


def _entregar(pasta: Path, aluno: str, atividade: str, nb, nome: str | None = None) -> None:
    destino = pasta / "submitted" / aluno / atividade / (nome or f"{atividade}.ipynb")
    destino.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, destino)


def _salvo_sem_metadados(nb, trocas: dict[str, str]):
    """A entrega depois de passar por uma ferramenta que descarta metadados e ids de células:
    respostas preenchidas (`trocas`, por grade_id), uma célula de rascunho a mais, nada de nbgrader."""
    novo = _trocar_solucoes(nb, trocas)
    for posicao, celula in enumerate(novo.cells):
        celula.metadata.pop("nbgrader", None)
        celula["id"] = f"sem-id-{posicao}"
    novo.cells.insert(8, nbformat.v4.new_code_cell("print('rascunho do aluno')"))
    return novo


@contextlib.contextmanager
def _gradebook(pasta: Path):
    """O gradebook.db de uma cópia do curso (o nbgrader chama `alembic`, da pasta bin do ambiente)."""
    from nbgrader.api import Gradebook

    with pytest.MonkeyPatch.context() as ajuste:
        ajuste.setenv("PATH", publicar.ambiente_nbgrader()["PATH"])
        with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
            yield gradebook


def _notas_csv(pasta: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with open(pasta / "notas.csv", encoding="utf-8") as arquivo:
        return {
            (linha["student_id"], linha["assignment"]): (float(linha["score"]), float(linha["max_score"]))
            for linha in csv.DictReader(arquivo)
        }


def _trechos_marcados(texto: str, inicio: str, fim: str) -> list[str]:
    """Linhas entre os marcadores (sem eles)."""
    linhas, dentro = [], False
    for linha in texto.splitlines():
        if inicio in linha:
            dentro = True
        elif fim in linha:
            dentro = False
        elif dentro:
            linhas.append(linha)
    return linhas


def _fora_dos_trechos(texto: str) -> list[str]:
    """Linhas fora de qualquer trecho de solução ou de teste oculto (o que o aluno também vê)."""
    linhas, dentro = [], False
    for linha in texto.splitlines():
        if "### BEGIN SOLUTION" in linha or "### BEGIN HIDDEN TESTS" in linha:
            dentro = True
        elif "### END SOLUTION" in linha or "### END HIDDEN TESTS" in linha:
            dentro = False
        elif not dentro:
            linhas.append(linha)
    return linhas


# --------------------------------------------------------------------------- fontes e versão do aluno

@pytest.fixture(scope="module")
def curso(tmp_path_factory):
    """Cópia do curso com a versão do aluno gerada agora pelo nbgrader."""
    destino = tmp_path_factory.mktemp("curso") / "exercises"
    publicar.copiar_curso(EXERCICIOS, destino)
    publicar.gerar_release(destino)
    return destino


def test_ha_seis_atividades_com_testes_ocultos_e_uma_resposta_manual():
    assert len(ATIVIDADES) >= 6
    testes_automaticos, manuais = 0, 0
    for fonte in FONTES:
        nb = _ler(fonte)
        assert nb.metadata["kernelspec"]["name"] == "python3", fonte
        grade_ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
        assert len(grade_ids) == len(set(grade_ids)), f"grade_id repetido em {fonte.name}"
        ids = [c.get("id") for c in nb.cells]
        assert len(ids) == len(set(ids)), f"id de célula repetido em {fonte.name}"
        assert nb.cells[0].get("id") == publicar.ID_INSTALACAO and nb.cells[0].cell_type == "code"
        for celula in nb.cells:
            meta = _nbgrader(celula)
            if meta.get("grade") and not meta.get("solution"):
                testes_automaticos += 1
                assert meta.get("locked"), f"teste não travado: {meta['grade_id']}"
                assert "### BEGIN HIDDEN TESTS" in celula.source, f"teste sem parte oculta: {meta['grade_id']}"
            if meta.get("grade") and meta.get("solution"):
                manuais += 1
                assert celula.cell_type == "markdown"
            if meta.get("solution") and celula.cell_type == "code":
                assert "### BEGIN SOLUTION" in celula.source and "### END SOLUTION" in celula.source
    assert testes_automaticos >= 12
    assert manuais >= 1


def test_release_publicado_esta_em_dia(curso):
    gerados = sorted(p.relative_to(curso / "release") for p in (curso / "release").rglob("*") if p.is_file())
    publicados = sorted(
        p.relative_to(EXERCICIOS / "release")
        for p in (EXERCICIOS / "release").rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    assert publicados == gerados, "rode: python exercises/publicar.py"
    for relativo in gerados:
        diferencas = publicar.comparar_notebooks(curso / "release" / relativo, EXERCICIOS / "release" / relativo)
        assert diferencas == [], f"release/{relativo} desatualizado (rode python exercises/publicar.py): {diferencas}"


def test_release_nao_tem_solucoes_nem_testes_ocultos():
    for fonte in FONTES:
        release = EXERCICIOS / "release" / fonte.parent.name / fonte.name
        texto_bruto = release.read_text(encoding="utf-8")
        for marcador in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marcador not in texto_bruto, f"{release.name} contém {marcador!r}"
        texto_release = "\n".join(c.source for c in _ler(release).cells)
        fonte_texto = "\n".join(c.source for c in _ler(fonte).cells)
        secretas = _trechos_marcados(fonte_texto, "### BEGIN SOLUTION", "### END SOLUTION")
        secretas += _trechos_marcados(fonte_texto, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        publicas = {linha.strip() for linha in _fora_dos_trechos(fonte_texto)}
        distintivas = {linha.strip() for linha in secretas if linha.strip() not in publicas and len(linha.strip()) >= 12}
        assert distintivas, fonte.name
        vazadas = [linha for linha in distintivas if linha in texto_release]
        assert not vazadas, f"{release.name} deixa vazar: {vazadas[:3]}"
        assert "# SEU CÓDIGO AQUI" in texto_release or "ESCREVA SUA RESPOSTA AQUI" in texto_release


def test_celulas_do_colab_vem_de_config_yml():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    dono, repo = url.removeprefix("https://github.com/").split("/")[:2]
    ramo = config["repository"].get("branch", "main")
    assert publicar.sincronizar_fontes(so_verificar=True) == []
    # Uma só célula de instalação (tools/sync_colab.py): a dos exercícios é a mesma dos notebooks da aula.
    instalacao_da_aula = _ler(REPO / "notebooks" / "01_dados.ipynb").cells[1].source
    for fonte in FONTES:
        relativo = f"exercises/release/{fonte.parent.name}/{fonte.name}"
        nb = _ler(REPO / relativo)
        instalacao, selo = nb.cells[0], nb.cells[1]
        assert instalacao.cell_type == "code"
        assert instalacao.source == instalacao_da_aula
        assert '"google.colab" in sys.modules' in instalacao.source and f"%pip install -q git+{url}" in instalacao.source
        assert publicar.tempo_estimado(fonte) > 0  # o tempo de resolver está no enunciado (e na tabela do livro)
        assert f"https://colab.research.google.com/github/{dono}/{repo}/blob/{ramo}/{relativo}" in selo.source


def test_pagina_de_exercicios_link_e_sumario():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    dono, repo = url.removeprefix("https://github.com/").split("/")[:2]
    ramo = config["repository"].get("branch", "main")
    assert publicar.sincronizar_pagina(so_verificar=True) == []
    pagina = (REPO / "book" / "exercicios.md").read_text(encoding="utf-8")
    # book/exercises/release espelha o caminho real no repositório: os botões de lançamento
    # do livro (Colab) montam a URL a partir do caminho da página.
    link = REPO / "book" / "exercises" / "release"
    assert link.is_symlink() and Path(link.readlink()).as_posix() == "../../exercises/release"
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    capitulos = [c for parte in toc["parts"] for c in parte["chapters"] if c["file"] == "exercicios"]
    assert len(capitulos) == 1
    secoes = [s["file"] for s in capitulos[0].get("sections", [])]
    assert secoes == [f"exercises/release/{f.parent.name}/{f.stem}" for f in FONTES]
    for secao, fonte in zip(secoes, FONTES):
        assert (REPO / "book" / f"{secao}.ipynb").is_file()
        # O livro não executa a versão do aluno (as respostas estão em branco): cada notebook
        # desliga a execução nos metadados, além de execute.exclude_patterns do _config.yml.
        assert _ler(REPO / "book" / f"{secao}.ipynb").metadata["mystnb"]["execution_mode"] == "off"
        colab = f"https://colab.research.google.com/github/{dono}/{repo}/blob/{ramo}/exercises/release/{fonte.parent.name}/{fonte.name}"
        assert colab in pagina, f"falta o link do Colab de {fonte.name} em book/exercicios.md"


def test_config_do_nbgrader(monkeypatch):
    from traitlets.config import Config

    # O config mexe em os.environ e sys.path: nada disso pode vazar para os outros testes.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(EXERCICIOS / "nbgrader_config.py")}
    exec(compile((EXERCICIOS / "nbgrader_config.py").read_text(encoding="utf-8"), "nbgrader_config.py", "exec"), namespace)
    assert config.CourseDirectory.root == str(EXERCICIOS)
    assert "SEU CÓDIGO AQUI" in config.ClearSolutions.code_stub["python"]
    assert config.ClearSolutions.text_stub == "ESCREVA SUA RESPOSTA AQUI"
    assert config.Execute.timeout == 60 and config.Execute.interrupt_on_timeout
    assert config.LimitOutput.max_lines > 0 and config.LimitOutput.max_traceback > 0
    nomes = [classe.__name__ for classe in config.Autograde.autograde_preprocessors]
    assert "ExecucaoProtegida" in nomes and "Execute" not in nomes
    nomes = [classe.__name__ for classe in config.Autograde.sanitize_preprocessors]
    assert "SobrescreverCelulas" in nomes and "OverwriteCells" not in nomes
    assert "OcultarTestesOcultos" in [classe.__name__ for classe in config.GenerateFeedback.preprocessors]
    assert config.ExecucaoProtegida.stderr_como_stdout
    assert Path(config.ExecucaoProtegida.arquivo_tempos) == EXERCICIOS / "tempos_solucoes.json"


def test_limite_de_cada_celula_vem_dos_tempos_medidos_com_margem():
    import execucao_protegida

    medidos = json.loads((EXERCICIOS / "tempos_solucoes.json").read_text(encoding="utf-8"))["notebooks"]
    limites = execucao_protegida.limites_por_celula(EXERCICIOS / "tempos_solucoes.json", margem=10.0, piso=10)
    for fonte in FONTES:
        chave = f"{fonte.parent.name}/{fonte.stem}"
        if fonte.parent.name not in ATIVIDADES_COM_CASOS:
            continue
        celulas = {_nbgrader(c)["grade_id"] for c in _ler(fonte).cells if _nbgrader(c) and c.cell_type == "code"}
        assert set(medidos[chave]) == celulas, f"{chave}: rode python corrigir.py --medir-tempos"
        for celula, segundos in medidos[chave].items():
            assert limites[chave][celula] >= max(10, 10 * segundos)
    # O stderr vira stdout (o nbgrader zeraria o teste) e o aviso de saída truncada não vai para stderr.
    texto = (EXERCICIOS / "execucao_protegida.py").read_text(encoding="utf-8")
    assert 'name="stderr", text=AVISO_SAIDA_TRUNCADA' not in texto


# --------------------------------------------------------------------------- conferência (rápida)

def test_conferencia_aponta_cada_tipo_de_problema(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    atividade = "ex06_memoria"
    fonte = _ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
    release = _ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")

    _entregar(pasta, "certo", atividade, release)
    baguncado = copy.deepcopy(release)
    baguncado.metadata["kernelspec"]["name"] = "ir"
    baguncado.cells = [c for c in baguncado.cells if _nbgrader(c).get("grade_id") != "teste-memoria-abordagem3"]
    for celula in baguncado.cells:
        if _nbgrader(celula).get("grade_id") == "memoria-abordagem3":
            celula.cell_type = "markdown"
            celula.pop("outputs", None)
            celula.pop("execution_count", None)
    duplicada = next(c for c in baguncado.cells if _nbgrader(c).get("grade_id") == "estimar-memoria")
    copia = copy.deepcopy(duplicada)
    copia["id"] = "copia-colada"
    baguncado.cells.append(copia)
    _entregar(pasta, "baguncado", atividade, baguncado)
    parcial = copy.deepcopy(fonte)
    for celula in parcial.cells:
        if _nbgrader(celula).get("grade_id") == "resposta-etica":
            celula.metadata.pop("nbgrader")
    _entregar(pasta, "parcial", atividade, parcial)
    _entregar(pasta, "renomeado", atividade, release, nome=f"Cópia de {atividade}.ipynb")
    (pasta / "submitted" / "quebrado" / atividade).mkdir(parents=True)
    (pasta / "submitted" / "quebrado" / atividade / f"{atividade}.ipynb").write_text("{ isto não é json")

    entregas = verificar_entregas.verificar(pasta, atividade="ex06*")
    problemas = {e.aluno: " | ".join(e.problemas) for e in entregas}
    assert problemas["certo"] == ""
    assert "kernel 'ir'" in problemas["baguncado"]
    assert "teste 'teste-memoria-abordagem3' não encontrada" in problemas["baguncado"]
    assert "'memoria-abordagem3' mudou de código para texto" in problemas["baguncado"]
    assert "'estimar-memoria' aparece 2 vezes" in problemas["baguncado"]
    assert "'resposta-etica' perdeu os metadados" in problemas["parcial"]
    assert "renomeie" in problemas["renomeado"] and "Cópia de" in problemas["renomeado"]
    assert "não é um notebook válido" in problemas["quebrado"]
    relatorio = verificar_entregas.tabela(entregas)
    assert relatorio.splitlines()[0].split() == ["Aluno", "Atividade", "Notebook", "Situação"]
    assert "5 notebooks esperados de 5 aluno(s); 4 com problema(s)." in relatorio
    codigo = subprocess.run(
        [sys.executable, str(EXERCICIOS / "verificar_entregas.py"), "--pasta", str(pasta), "--aluno", "certo", "--atividade", atividade],
        capture_output=True, text=True,
    ).returncode
    assert codigo == 0
    codigo = subprocess.run(
        [sys.executable, str(EXERCICIOS / "verificar_entregas.py"), "--pasta", str(pasta), "--atividade", atividade],
        capture_output=True, text=True,
    ).returncode
    assert codigo == 1


def test_reparo_recoloca_os_metadados_perdidos(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    shutil.copytree(EXERCICIOS / "release", pasta / "release")
    respostas = {}
    for fonte in FONTES:
        for celula in _ler(fonte).cells:
            if _nbgrader(celula).get("solution"):
                respostas[_nbgrader(celula)["grade_id"]] = celula.source
    for atividade in ("ex01_divisao", "ex06_memoria"):
        release = _ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
        _entregar(pasta, "sem_ids", atividade, _salvo_sem_metadados(release, respostas))
        so_metadados = copy.deepcopy(release)
        for celula in so_metadados.cells:
            celula.metadata.pop("nbgrader", None)
        _entregar(pasta, "com_ids", atividade, so_metadados)
    antes = verificar_entregas.verificar(pasta, atividade="ex0[16]*")
    assert all(any("metadados" in p for p in e.problemas) for e in antes)

    acoes = verificar_entregas.reparar(pasta)
    assert any("mesmo id de célula" in a for a in acoes) and any("mesmo conteúdo" in a for a in acoes)
    assert any("posição" in a for a in acoes)
    assert all(e.ok for e in verificar_entregas.verificar(pasta, atividade="ex0[16]*"))
    assert verificar_entregas.reparar(pasta) == [], "reparar de novo não muda nada"
    for atividade in ("ex01_divisao", "ex06_memoria"):
        reparado = _ler(pasta / "submitted" / "sem_ids" / atividade / f"{atividade}.ipynb")
        referencia = _ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
        por_id = {_nbgrader(c)["grade_id"]: c for c in reparado.cells if _nbgrader(c)}
        for celula in referencia.cells:
            if _nbgrader(celula):
                recebida = por_id[_nbgrader(celula)["grade_id"]]
                assert _nbgrader(recebida) == _nbgrader(celula)
                if _nbgrader(celula).get("solution") and celula.cell_type == "code":
                    assert recebida.source == respostas[_nbgrader(celula)["grade_id"]], "metadados na célula errada"
        original = pasta / "submitted" / "sem_ids" / atividade / f"{atividade}.ipynb.antes-do-reparo"
        assert original.is_file() and not any(_nbgrader(c) for c in _ler(original).cells)


def test_zip_collect_como_no_guia_do_professor(curso, tmp_path):
    """O comando de `nbgrader zip_collect` de book/professor/correcao.md funciona como descrito."""
    import zipfile

    guia = (REPO / "book" / "professor" / "correcao.md").read_text(encoding="utf-8")
    regexp = re.search(r"--FileNameCollectorPlugin\.named_regexp='([^']+)'", guia).group(1)
    pasta = tmp_path / "exercises"
    shutil.copytree(curso, pasta)
    release = (curso / "release" / "ex01_divisao" / "ex01_divisao.ipynb").read_bytes()
    arquivo = pasta / "downloaded" / "ex01_divisao" / "archive" / "ex01-envios.zip"
    arquivo.parent.mkdir(parents=True)
    with zipfile.ZipFile(arquivo, "w") as envios:  # o formato do "baixar todas as entregas" do Moodle
        envios.writestr("Maria Silva_123456_assignsubmission_file_/ex01_divisao.ipynb", release)
        envios.writestr("João Souza_654321_assignsubmission_file_/Cópia de ex01_divisao.ipynb", release)
    resultado = publicar.rodar_nbgrader(
        ["zip_collect", "ex01_divisao", "--force", f"--FileNameCollectorPlugin.named_regexp={regexp}"], pasta
    )
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr
    assert (pasta / "submitted" / "123456" / "ex01_divisao" / "ex01_divisao.ipynb").read_bytes() == release
    entregas = {e.aluno: e for e in verificar_entregas.verificar(pasta, atividade="ex01_divisao")}
    assert entregas["123456"].ok
    assert "renomeie para 'ex01_divisao.ipynb'" in entregas["654321"].problemas[0]


# --------------------------------------------------------------------------- a correção da turma

# Uma resposta correta que, ao ser chamada, mostra um aviso (UserWarning), uma barra do tqdm,
# uma linha em stderr e um print longo (que o corretor trunca): nada disso pode custar pontos.
RUIDO = '''
import functools as _functools, sys as _sys, warnings as _warnings
from tqdm import tqdm as _tqdm

def _com_ruido(funcao):
    @_functools.wraps(funcao)
    def embrulhada(*args, **kwargs):
        _warnings.warn("aviso de depuração do aluno", UserWarning)
        for _ in _tqdm(range(3), desc="depurando"):
            pass
        print("mensagem em stderr", file=_sys.stderr)
        print("depuração " * 3_000)  # 30 mil caracteres: passa do limite de saída da célula
        return funcao(*args, **kwargs)
    return embrulhada
'''


def _com_ruido(nb):
    def ruidosas(fonte: str, nomes: list[str]) -> str:
        return fonte + "\n" + RUIDO + "".join(f"\n{nome} = _com_ruido({nome})" for nome in nomes)

    return modificar_respostas(nb, ruidosas)


def _adulterado(nb, grade_id: str, fonte: str):
    novo = copy.deepcopy(nb)
    for celula in novo.cells:
        if _nbgrader(celula).get("grade_id") == grade_id:
            celula.source = fonte
    return novo


class Turma:
    def __init__(self, pasta: Path, codigos: dict[str, int], log: str, tempos: dict[str, float]):
        self.pasta, self.codigos, self.log, self.tempos = pasta, codigos, log, tempos

    def notas(self, aluno: str) -> dict[str, tuple[float, float]]:
        return {atividade: nota for (quem, atividade), nota in _notas_csv(self.pasta).items() if quem == aluno}

    def corrigido(self, aluno: str, atividade: str) -> Path:
        return self.pasta / "autograded" / aluno / atividade / f"{atividade}.ipynb"


def _corrigir(pasta: Path, *argumentos: str) -> subprocess.Popen:
    log = open(pasta.parent / "corrigir.log", "a", encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(pasta / "corrigir.py"), *argumentos],
        cwd=pasta, stdout=log, stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture(scope="module")
def turma(curso, tmp_path_factory):
    pasta = tmp_path_factory.mktemp("turma") / "exercises"
    shutil.copytree(curso, pasta)  # com release/, o gradebook.db do generate_assignment e tempos_solucoes.json

    for fonte in FONTES:
        atividade = fonte.parent.name
        solucao = _ler(fonte)
        _entregar(pasta, "solucao", atividade, solucao)
        _entregar(pasta, "em_branco", atividade, _ler(curso / "release" / atividade / fonte.name))
        if atividade in ATIVIDADES_COM_CASOS:
            _entregar(pasta, "visivel", atividade, _trocar_solucoes(solucao, ERRADAS))
            # Outras soluções corretas, que além disso avisam, mostram barras de progresso e imprimem muito.
            _entregar(pasta, "ruidoso", atividade, _com_ruido(_trocar_solucoes(solucao, ALTERNATIVAS)))
    ex01 = _ler(EXERCICIOS / "source" / "ex01_divisao" / "ex01_divisao.ipynb")
    sem_metadados = copy.deepcopy(ex01)
    for celula in sem_metadados.cells:
        celula.metadata.pop("nbgrader", None)
    _entregar(pasta, "sem_metadados", "ex01_divisao", sem_metadados)
    respostas = {_nbgrader(c)["grade_id"]: c.source for c in ex01.cells if _nbgrader(c).get("solution")}
    release_ex01 = _ler(curso / "release" / "ex01_divisao" / "ex01_divisao.ipynb")
    _entregar(pasta, "reparado", "ex01_divisao", _salvo_sem_metadados(release_ex01, respostas))
    # Adulterações: um teste visível trocado e a célula de dados editada (ex01); uma resposta
    # marcada como teste com pontos (ex02), que derrubaria o nbgrader sem o reparo.
    adulterado = _adulterado(ex01, "teste-contar-compartilhadas", "# apaguei os testes\npass")
    dados = next(c for c in adulterado.cells if _nbgrader(c).get("grade_id") == "dados")
    dados.source += "\ndf_sms = df_sms.head(10)"
    _entregar(pasta, "adulterador", "ex01_divisao", adulterado)
    ex02 = _ler(EXERCICIOS / "source" / "ex02_tokenizacao" / "ex02_tokenizacao.ipynb")
    for celula in ex02.cells:
        if _nbgrader(celula).get("grade_id") == "codificar-lote":
            celula.metadata.nbgrader.update(grade=True, points=3)
    _entregar(pasta, "adulterador", "ex02_tokenizacao", ex02)
    ex06 = _ler(EXERCICIOS / "source" / "ex06_memoria" / "ex06_memoria.ipynb")
    _entregar(pasta, "renomeado", "ex06_memoria", ex06, nome="Cópia de ex06_memoria.ipynb")
    (pasta / "submitted" / "quebrado" / "ex06_memoria").mkdir(parents=True)
    (pasta / "submitted" / "quebrado" / "ex06_memoria" / "ex06_memoria.ipynb").write_text("{ isto não é json")
    _entregar(pasta, "travado", "ex06_memoria", _acrescentar(ex06, "estimar-memoria", LACO_QUE_IMPRIME))
    _entregar(pasta, "teimoso", "ex06_memoria", _acrescentar(ex06, "estimar-memoria", LACO_TEIMOSO))

    inicio = time.monotonic()
    codigos = {"turma": _corrigir(pasta, "--processos", "2").wait(timeout=1500)}
    tempos = {"correcao_s": time.monotonic() - inicio}

    # Correção manual da resposta de texto (o que o professor faz no formgrader), depois devolutivas e notas.
    with _gradebook(pasta) as gradebook:
        nota = gradebook.find_grade("resposta-etica", "ex06_memoria", "ex06_memoria", "solucao")
        nota.manual_score = nota.max_score
        nota.needs_manual_grade = False
        gradebook.db.commit()
    inicio = time.monotonic()
    codigos["feedback"] = _corrigir(
        pasta, "--apenas-feedback", "--atividade", "ex06_memoria", "--aluno", "solucao"
    ).wait(timeout=600)
    tempos["apenas_feedback_s"] = time.monotonic() - inicio
    log = (pasta.parent / "corrigir.log").read_text(encoding="utf-8")
    for aluno, notebook, segundos in re.findall(r"\[corretor\] ([^/\s]+)/[^/\s]+/(\S+) executado em ([\d.]+) s", log):
        tempos[f"{aluno}/{notebook}"] = float(segundos)
    print(f"\n[test_exercises] tempos (s): {json.dumps(tempos, indent=1)}")
    return Turma(pasta, codigos, log, tempos)


@LENTO
def test_solucao_de_referencia_ganha_nota_maxima(turma):
    notas = turma.notas("solucao")
    assert sorted(notas) == sorted(ATIVIDADES)
    for atividade, (nota, maximo) in notas.items():
        assert maximo > 0 and nota == maximo, f"{atividade}: {nota}/{maximo}\n{turma.log[-3000:]}"


@LENTO
def test_solucoes_alternativas_e_com_avisos_ganham_nota_maxima(turma):
    for aluno in ("ruidoso",):
        notas = turma.notas(aluno)
        assert set(ATIVIDADES_COM_CASOS) <= set(notas)
        for atividade in ATIVIDADES_COM_CASOS:
            nota, maximo = notas[atividade]
            if atividade == "ex06_memoria":  # a resposta de texto espera a correção manual
                maximo -= 2
            assert nota == maximo, f"{aluno}/{atividade}: {nota}/{maximo}"
    # O ruído chegou às células de teste (como stdout, não como stderr) e foi truncado.
    corrigido = _ler(turma.corrigido("ruidoso", "ex02_tokenizacao"))
    saidas = [s for c in corrigido.cells if _nbgrader(c).get("grade") for s in c.get("outputs", [])]
    texto = "".join(s.get("text", "") for s in saidas)
    assert "aviso de depuração do aluno" in texto and "mensagem em stderr" in texto and "saída truncada" in texto
    assert not any(s.get("name") == "stderr" for s in saidas)


@LENTO
def test_release_sem_resposta_tira_zero(turma):
    notas = turma.notas("em_branco")
    assert sorted(notas) == sorted(ATIVIDADES)
    assert all(nota == 0 for nota, _ in notas.values()), notas
    with _gradebook(turma.pasta) as gradebook:
        assert not gradebook.find_submission("ex06_memoria", "em_branco").needs_manual_grade


@LENTO
def test_testes_ocultos_pegam_quem_so_passa_nos_visiveis(turma):
    notas = turma.notas("visivel")
    assert set(ATIVIDADES_COM_CASOS) <= set(notas)
    for atividade in ATIVIDADES_COM_CASOS:
        nota, maximo = notas[atividade]
        assert nota < maximo, f"{atividade}: a solução errada ganhou {nota}/{maximo}"
        falhas = 0
        # O autograded (não a devolutiva) tem o traceback completo: a falha deve estar no trecho oculto.
        for celula in _ler(turma.corrigido("visivel", atividade)).cells:
            if not (_nbgrader(celula).get("grade") and celula.cell_type == "code"):
                continue
            for saida in celula.get("outputs", []):
                if saida.get("output_type") != "error":
                    continue
                falhas += 1
                traceback = ANSI.sub("", "\n".join(saida["traceback"]))
                linha_do_erro = int(re.search(r"Cell In\[\d+\], line (\d+)", traceback).group(1))
                linhas = celula.source.splitlines()
                inicio_oculto = next(i for i, l in enumerate(linhas, 1) if "### BEGIN HIDDEN TESTS" in l)
                assert linha_do_erro > inicio_oculto, (
                    f"{atividade}/{_nbgrader(celula)['grade_id']}: a solução errada falhou num teste VISÍVEL "
                    f"(linha {linha_do_erro}):\n{traceback[-1500:]}"
                )
        assert falhas >= 1, atividade


@LENTO
def test_metadados_removidos_ou_alterados_sao_reparados_e_corrigidos(turma):
    assert re.search(r"sem_metadados/ex01_divisao/ex01_divisao\.ipynb: \S+: metadados recolocados", turma.log)
    assert re.search(r"adulterador/ex02_tokenizacao/ex02_tokenizacao\.ipynb: codificar-lote: metadados alterados "
                     r"\(grade, points\) voltaram", turma.log)
    assert turma.notas("sem_metadados")["ex01_divisao"] == (5.0, 5.0)
    assert turma.notas("reparado")["ex01_divisao"] == (5.0, 5.0)
    assert turma.notas("adulterador")["ex02_tokenizacao"] == (5.0, 5.0)
    original = turma.pasta / "submitted" / "sem_metadados" / "ex01_divisao" / "ex01_divisao.ipynb.antes-do-reparo"
    assert original.is_file() and not any(_nbgrader(c) for c in _ler(original).cells)
    assert "'Cópia de ex06_memoria.ipynb' copiado para 'ex06_memoria.ipynb'" in turma.log
    assert turma.notas("renomeado")["ex06_memoria"] == (4.0, 6.0)  # + 2 da correção manual
    # O que não dá para reparar: não vai para o nbgrader, e o resumo diz por quê.
    assert re.search(r"quebrado\s+ex06_memoria\s+-\s+ex06_memoria\.ipynb: NÃO CORRIGIDO: não é um notebook válido", turma.log)
    assert "=== 4. Resumo ===" in turma.log, "corrigir.py não pode parar no meio"
    for aluno in ("solucao", "em_branco", "ruidoso", "visivel", "sem_metadados", "reparado"):
        entregues = [e for e in verificar_entregas.verificar(turma.pasta, aluno=aluno)
                     if (turma.pasta / "submitted" / aluno / e.atividade).is_dir()]
        assert entregues and all(e.ok for e in entregues), f"alarme falso em {aluno}: {[e.problemas for e in entregues]}"
    assert turma.codigos["turma"] == 1, "com reparos e problemas, corrigir.py deve sair com código 1"


@LENTO
def test_adulteracao_apontada_por_aluno_e_celula_sem_avisos_para_todos(turma):
    adulteracoes = sorted(re.findall(r"- (\w+)/(\w+)/\S+: ADULTERAÇÃO: célula de [\w ]+ '([\w-]+)'", turma.log))
    assert adulteracoes == [("adulterador", "ex01_divisao", "dados"),
                            ("adulterador", "ex01_divisao", "teste-contar-compartilhadas")], adulteracoes
    assert turma.notas("adulterador")["ex01_divisao"] == (5.0, 5.0), "a edição não muda a nota"
    assert "Checksum" not in turma.log and "has changed" not in turma.log
    # Nenhum aviso do nbgrader que apareça para todo aluno: cada WARNING do log é de um só aluno.
    avisos = [linha for linha in turma.log.splitlines() if "WARNING" in linha]
    alunos_com_aviso = {re.match(r"\s*\[(\w+)\]", linha).group(1) for linha in avisos if re.match(r"\s*\[(\w+)\]", linha)}
    assert not ({"solucao", "em_branco", "ruidoso"} & alunos_com_aviso), avisos[:5]


@LENTO
def test_laco_infinito_e_saida_enorme_nao_param_a_turma(turma):
    travado = turma.corrigido("travado", "ex06_memoria")
    teimoso = turma.corrigido("teimoso", "ex06_memoria")
    for caminho in (travado, teimoso):
        assert caminho.is_file(), f"{caminho} não foi corrigido"
        assert caminho.stat().st_size < 200_000, "a saída enorme deveria ter sido truncada"
    erros = lambda caminho: [  # noqa: E731
        saida for celula in _ler(caminho).cells for saida in celula.get("outputs", [])
        if saida.get("output_type") == "error"
    ]
    assert any(e["ename"] == "CellTimeoutError" for e in erros(travado))
    assert any("reiniciado" in e.get("evalue", "") for e in erros(teimoso))
    # O laço do `travado` vem depois das definições: a interrupção não tira a nota dele.
    assert turma.notas("travado")["ex06_memoria"][0] == 4.0
    assert turma.notas("teimoso")["ex06_memoria"][0] == 0.0  # o kernel reiniciado perdeu as funções
    assert "passaram do tempo" in turma.log
    # E o resto da turma foi corrigido, com devolutivas.
    for aluno in ("solucao", "em_branco", "visivel", "ruidoso"):
        for atividade in (ATIVIDADES if aluno in ("solucao", "em_branco") else ATIVIDADES_COM_CASOS):
            assert turma.corrigido(aluno, atividade).is_file(), (aluno, atividade)
            devolutiva = turma.pasta / "feedback" / aluno / atividade / f"{atividade}.html"
            assert devolutiva.is_file(), devolutiva


@LENTO
def test_progresso_por_aluno_e_notebook_com_contagem_de_tempo_esgotado(turma):
    progresso = re.findall(r"\[corrigir\] (\d+)/(\d+) notebooks · (\w+)/(\w+): [\d.]+ s.*?"
                           r"células que passaram do tempo até agora: (\d+)", turma.log)
    total = int(progresso[0][1])
    assert sorted(int(p[0]) for p in progresso) == list(range(1, total + 1)), "uma linha por notebook"
    contagens = [int(p[4]) for p in progresso]
    assert contagens == sorted(contagens) and contagens[-1] >= 1, "contagem de células que passaram do tempo"
    assert re.search(r"\[corrigir\] aluno \d+/\d+: solucao corrigido em \d+ s", turma.log)
    assert re.search(r"\[corrigir\] turma corrigida em \d+ s", turma.log)


def _texto_html(caminho: Path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", caminho.read_text(encoding="utf-8")))


def _segredos(atividade: str) -> set[str]:
    """Linhas distintivas das soluções e dos testes ocultos de uma atividade (o que o aluno não vê)."""
    texto = "\n".join(c.source for c in _ler(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb").cells)
    secretas = _trechos_marcados(texto, "### BEGIN SOLUTION", "### END SOLUTION")
    secretas += _trechos_marcados(texto, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    publicas = {linha.strip() for linha in _fora_dos_trechos(texto)}
    return {linha.strip() for linha in secretas if linha.strip() not in publicas and len(linha.strip()) >= 12}


@LENTO
def test_devolutivas_nao_mostram_testes_ocultos_nem_solucoes(turma, tmp_path):
    devolutivas = sorted((turma.pasta / "feedback").rglob("*.html"))
    assert len(devolutivas) >= 3 * len(ATIVIDADES)
    outros = [p for p in (turma.pasta / "feedback").rglob("*") if p.is_file() and p.suffix != ".html"]
    assert not outros, f"só devolutivas em HTML vão para o aluno: {outros[:3]}"
    for devolutiva in devolutivas:
        aluno, atividade = devolutiva.parts[-3], devolutiva.parts[-2]
        entregue = turma.pasta / "submitted" / aluno / atividade / f"{atividade}.ipynb"
        proprias = {linha.strip() for c in _ler(entregue).cells for linha in c.source.splitlines()}
        texto = _texto_html(devolutiva)
        marcadores = {m for m in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION")
                      if not any(m in linha for linha in proprias)}  # quem entregou a fonte escreveu os marcadores
        proibidas = (_segredos(atividade) - proprias) | marcadores
        vazadas = [linha for linha in proibidas if linha in texto]
        assert not vazadas, f"{aluno}/{atividade}: a devolutiva mostra {vazadas[:3]}"
    # Mas diz qual teste falhou e a mensagem.
    texto = _texto_html(turma.pasta / "feedback" / "visivel" / "ex01_divisao" / "ex01_divisao.html")
    assert "mensagens distintas em comum" in texto and "testes ocultos" in texto
    # Opção do professor: mostrar os testes ocultos (numa cópia, para não mexer nas outras devolutivas).
    copia = tmp_path / "exercises"
    shutil.copytree(turma.pasta, copia)
    subprocess.run([sys.executable, str(copia / "corrigir.py"), "--apenas-feedback", "--mostrar-testes-ocultos",
                    "--aluno", "visivel", "--atividade", "ex01_divisao"], cwd=copia, capture_output=True, timeout=600)
    texto = _texto_html(copia / "feedback" / "visivel" / "ex01_divisao" / "ex01_divisao.html")
    assert "assert contar_compartilhadas(c, d) == 2" in texto


@LENTO
def test_apenas_feedback_depois_da_correcao_manual(turma):
    assert turma.codigos["feedback"] == 0, turma.log[-3000:]
    assert turma.notas("solucao")["ex06_memoria"] == (6.0, 6.0)
    assert "Tudo corrigido sem problemas." in turma.log


# --------------------------------------------------------------------------- respostas alternativas e regras (rápido)
# Dezenas de variantes dos notebooks (uma regra quebrada em cada, ou outra solução correta) rodam
# num só processo IPython, com os testes ocultos da fonte, sem nbgrader: segundos em vez de
# minutos. Uma célula de teste vale os pontos se roda sem erro (a regra do nbgrader; saída em
# stderr não conta, como na correção: ver execucao_protegida.py). O ciclo completo com o nbgrader
# está nos testes da turma, abaixo.

_EXECUTOR = r"""
import contextlib, io, json, os, sys, tempfile
from IPython.core.interactiveshell import InteractiveShell

casos = json.load(open(sys.argv[1], encoding="utf-8"))
shell = InteractiveShell.instance()
resultado = {}
raiz = os.getcwd()
for nome, celulas in casos.items():
    shell.reset(new_session=False)
    passou = {}
    with tempfile.TemporaryDirectory() as pasta:
        os.chdir(pasta)
        for fonte, grade_id, teste in celulas:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                execucao = shell.run_cell(fonte, store_history=False)
            if teste:
                passou[grade_id] = bool(execucao.success)
        os.chdir(raiz)
    resultado[nome] = passou
json.dump(resultado, open(sys.argv[2], "w", encoding="utf-8"))
"""

PROCESSOS_RAPIDOS = max(1, min(2, os.cpu_count() or 1))
ATIVIDADES_COM_CASOS = [atividade for atividade in ATIVIDADES if atividade in REGRAS]


def _pontos(fonte: Path) -> dict[str, float]:
    return {_nbgrader(c)["grade_id"]: float(_nbgrader(c)["points"]) for c in _ler(fonte).cells
            if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")}


def _rodar_rapido(casos: dict[str, object], tmp_path: Path) -> dict[str, dict[str, bool]]:
    """Roda cada notebook (fonte com respostas trocadas) num processo IPython; {caso: {teste: passou}}."""
    entrada = {
        nome: [(c.source, _nbgrader(c).get("grade_id"), bool(_nbgrader(c).get("grade") and not _nbgrader(c).get("solution")))
               for c in nb.cells if c.cell_type == "code"]
        for nome, nb in casos.items()
    }
    (tmp_path / "executor.py").write_text(_EXECUTOR, encoding="utf-8")
    ambiente = {**os.environ, "OMP_NUM_THREADS": "1"}
    nomes = sorted(entrada)
    partes = [nomes[i::PROCESSOS_RAPIDOS] for i in range(PROCESSOS_RAPIDOS)]  # um processo por núcleo
    processos = []
    for i, parte in enumerate(partes):
        (tmp_path / f"casos{i}.json").write_text(json.dumps({n: entrada[n] for n in parte}), encoding="utf-8")
        processos.append(subprocess.Popen(
            [sys.executable, str(tmp_path / "executor.py"), str(tmp_path / f"casos{i}.json"), str(tmp_path / f"saida{i}.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ambiente,
        ))
    resultado = {}
    for i, processo in enumerate(processos):
        saida, erro = processo.communicate(timeout=900)
        assert processo.returncode == 0, saida[-2000:] + erro[-3000:]
        resultado.update(json.loads((tmp_path / f"saida{i}.json").read_text(encoding="utf-8")))
    return resultado


# Mais soluções corretas, cada uma num idioma que os testes ocultos precisam aceitar (a função do
# pacote, pad_sequence...): cada conjunto é um caso a mais, que também deve ganhar todos os pontos.
IDIOMAS = [
    {"contar-compartilhadas": '''
from llmdefinitions import count_shared_messages

def contar_compartilhadas(a, b):
    return count_shared_messages(a, b)  # a mesma definição do pacote: pares (Text, Label)
''',
     "codificar-lote": '''
from torch.nn.utils.rnn import pad_sequence

def codificar_lote(textos, tokenizer, max_length=None, pad_token_id=50256):
    ids = [torch.tensor(tokenizer.encode(t, disallowed_special=()), dtype=torch.long) for t in textos]
    if max_length is not None:
        ids = [x[:max_length] for x in ids]
    lote = pad_sequence(ids, batch_first=True, padding_value=pad_token_id)
    if max_length is not None and lote.shape[1] < max_length:
        lote = torch.nn.functional.pad(lote, (0, max_length - lote.shape[1]), value=pad_token_id)
    return lote
''',
     "indice-ultimo-token": '''
def indice_ultimo_token_real(input_ids, pad_token_id=50256):
    return torch.stack([(linha != pad_token_id).nonzero().max() for linha in input_ids]).long()
'''},
]


def _montar_casos(atividades, solucoes_corretas: dict[str, dict[str, str]], regras) -> tuple[dict, dict]:
    """Os notebooks a rodar (fonte com respostas trocadas) e, para cada um, os testes que devem falhar:
    a solução e cada conjunto de `solucoes_corretas` (nenhum), cada regra de `regras` (os dela)."""
    casos, esperado = {}, {}
    for atividade in atividades:
        fonte = EXERCICIOS / "source" / atividade / f"{atividade}.ipynb"
        solucao, todos = _ler(fonte), set(_pontos(fonte))
        casos[f"{atividade}|solucao"], esperado[f"{atividade}|solucao"] = solucao, set()
        for nome, trocas in solucoes_corretas.items():
            if any(_nbgrader(c).get("grade_id") in trocas for c in solucao.cells):
                casos[f"{atividade}|{nome}"], esperado[f"{atividade}|{nome}"] = _trocar_solucoes(solucao, trocas), set()
        for regra, trocas, falham in regras[atividade]:
            assert falham <= todos, (atividade, regra, falham - todos)
            casos[f"{atividade}|{regra}"], esperado[f"{atividade}|{regra}"] = _trocar_solucoes(solucao, trocas), falham
    return casos, esperado


def _perdas_de_pontos_erradas(resultado, esperado, atividades, regras) -> list[str]:
    """Cada regra deve perder exatamente os testes dela; todo teste deve ser de alguma regra."""
    erros = []
    for atividade in atividades:
        pontos = _pontos(EXERCICIOS / "source" / atividade / f"{atividade}.ipynb")
        cobertos = set().union(*(falham for _, _, falham in regras[atividade]))
        if cobertos != set(pontos):
            erros.append(f"{atividade}: testes sem regra na lista: {sorted(set(pontos) - cobertos)}")
        for regra, _, falham in regras[atividade]:
            perdidos = {teste for teste, ok in resultado[f"{atividade}|{regra}"].items() if not ok}
            if perdidos != falham:
                erros.append(f"{atividade}, regra {regra!r}: perdeu {sorted(perdidos)} "
                             f"({sum(pontos[t] for t in perdidos):g} pontos), deveria perder exatamente "
                             f"{sorted(falham)} ({sum(pontos[t] for t in falham):g} pontos)")
    return erros


def _corretas_que_perderam_pontos(resultado, esperado) -> list[str]:
    return [f"{nome}: perdeu pontos em {sorted(t for t, ok in passou.items() if not ok)}"
            for nome, passou in resultado.items() if not esperado[nome] and not all(passou.values())]


@pytest.fixture(scope="module")
def casos_rapidos(tmp_path_factory):
    corretas = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2,
                **{f"alternativa idioma {i}": trocas for i, trocas in enumerate(IDIOMAS, start=1)}}
    casos, esperado = _montar_casos(ATIVIDADES_COM_CASOS, corretas, REGRAS)
    inicio = time.monotonic()
    resultado = _rodar_rapido(casos, tmp_path_factory.mktemp("rapido"))
    print(f"\n[test_exercises] {len(casos)} variantes rodadas em {time.monotonic() - inicio:.0f} s")
    return resultado, esperado


def test_cada_resposta_tem_duas_alternativas_independentes():
    for atividade in ATIVIDADES_COM_CASOS:
        fonte = EXERCICIOS / "source" / atividade / f"{atividade}.ipynb"
        respostas = {_nbgrader(c)["grade_id"] for c in _ler(fonte).cells
                     if _nbgrader(c).get("solution") and c.cell_type == "code"}
        for alternativas in (ALTERNATIVAS, ALTERNATIVAS_2):
            faltam = respostas - set(alternativas) - {"memoria-abordagem3"} if alternativas is ALTERNATIVAS else respostas - set(alternativas)
            assert not faltam, f"{atividade}: sem alternativa para {sorted(faltam)}"
    for grade_id in ALTERNATIVAS_2:
        assert ALTERNATIVAS_2[grade_id].strip() != ALTERNATIVAS.get(grade_id, "").strip()


def test_solucoes_corretas_de_outros_jeitos_ganham_todos_os_pontos(casos_rapidos):
    falhas = _corretas_que_perderam_pontos(*casos_rapidos)
    assert not falhas, "\n".join(falhas)


def test_cada_regra_do_enunciado_tem_teste_e_a_resposta_errada_perde_exatamente_esses_pontos(casos_rapidos):
    erros = _perdas_de_pontos_erradas(*casos_rapidos, ATIVIDADES_COM_CASOS, REGRAS)
    assert not erros, "\n".join(erros)


def test_conferencia_aponta_adulteracao_e_metadados_alterados_celula_por_celula(tmp_path):
    pasta = tmp_path / "exercises"
    shutil.copytree(EXERCICIOS / "source", pasta / "source")
    shutil.copytree(EXERCICIOS / "release", pasta / "release")
    atividade = "ex06_memoria"
    release = _ler(EXERCICIOS / "release" / atividade / f"{atividade}.ipynb")
    _entregar(pasta, "certo", atividade, release)
    espacos = copy.deepcopy(release)  # outro editor: espaços no fim das linhas e \r\n não são adulteração
    for celula in espacos.cells:
        if _nbgrader(celula).get("locked"):
            celula.source = celula.source.replace("\n", "  \r\n") + "\n"
    _entregar(pasta, "outro_editor", atividade, espacos)
    adulterado = _adulterado(release, "teste-estimar-memoria", "# testes apagados\npass")
    for celula in adulterado.cells:
        if _nbgrader(celula).get("grade_id") == "estimar-memoria":
            celula.metadata.nbgrader.update(grade=True, points=3)
    _entregar(pasta, "adulterador", atividade, adulterado)

    problemas = {e.aluno: e.problemas for e in verificar_entregas.verificar(pasta, atividade=atividade)}
    assert problemas["certo"] == [] and problemas["outro_editor"] == []
    assert len(problemas["adulterador"]) == 2, problemas["adulterador"]
    assert any("ADULTERAÇÃO: célula de teste 'teste-estimar-memoria'" in p for p in problemas["adulterador"])
    assert any("'estimar-memoria': metadados do nbgrader alterados (grade=True (era False), points=3 (era None))" in p
               or "'estimar-memoria': metadados do nbgrader alterados (grade=True (era False)" in p
               for p in problemas["adulterador"])
    acoes = verificar_entregas.reparar(pasta, atividade=atividade)
    assert acoes == [f"adulterador/{atividade}/{atividade}.ipynb: estimar-memoria: metadados alterados (grade, points) "
                     "voltaram aos da versão do aluno"], acoes
    depois = {e.aluno: e.problemas for e in verificar_entregas.verificar(pasta, atividade=atividade)}
    assert [p for p in depois["adulterador"] if "ADULTERAÇÃO" in p] and len(depois["adulterador"]) == 1
