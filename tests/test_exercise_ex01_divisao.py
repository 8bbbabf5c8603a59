"""Exercício 1 (balancear e dividir os dados sem vazamento): `contar_compartilhadas` conta mensagens
distintas, pares (Text, Label), e `dividir_sem_vazamento` tira as repetidas antes de balancear, sorteia
com a semente, embaralha e corta com int(); cada regra tem uma resposta errada que perde os seus pontos.
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

ATIVIDADE = "ex01_divisao"

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
}


def _corpo_divisao(tabela, arredondar="int", balancear=True, rotulos='{"ham": 0, "spam": 1}',
                   semente_ham="semente", semente_embaralhar="semente", embaralhar=True) -> list[str]:
    """O resto de uma dividir_sem_vazamento a partir da tabela sem repetições, com um erro escolhido."""
    linhas = [f'    spam = {tabela}[{tabela}["Label"] == "spam"]', f'    ham = {tabela}[{tabela}["Label"] == "ham"]']
    if balancear:
        linhas.append(f"    ham = ham.sample(n=len(spam), random_state={semente_ham})")
    linhas += ["    balanceado = pd.concat([ham, spam])",
               f'    balanceado = balanceado.assign(Label=balanceado["Label"].map({rotulos}))']
    if embaralhar:
        linhas.append(f"    balanceado = balanceado.sample(frac=1, random_state={semente_embaralhar})"
                      ".reset_index(drop=True)")
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
}

# Mais uma solução correta, num idioma que os testes ocultos precisam aceitar (a função do
# pacote, pad_sequence...): também deve ganhar todos os pontos.
IDIOMAS = {
    "contar-compartilhadas": '''
from llmdefinitions import count_shared_messages

def contar_compartilhadas(a, b):
    return count_shared_messages(a, b)  # a mesma definição do pacote: pares (Text, Label)
''',
}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("conta mensagens DISTINTAS (uma mensagem repetida conta uma vez)",
     {"contar-compartilhadas": ERRADAS["contar-compartilhadas"]}, {"teste-contar-compartilhadas"}),
    ("uma mensagem é o par (Text, Label): o mesmo texto com outro rótulo é outra mensagem",
     {"contar-compartilhadas": '''
def contar_compartilhadas(a, b):
    return len(set(a["Text"]) & set(b["Text"]))
'''}, {"teste-contar-compartilhadas"}),
    ("devolve um int", {"contar-compartilhadas": trocar(
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
    ("todas as spam únicas ficam", {"dividir-sem-vazamento": trocar(
        "dividir-sem-vazamento", 'spam = unicos[unicos["Label"] == "spam"]',
        'spam = unicos[unicos["Label"] == "spam"].iloc[1:]')},
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
]

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
