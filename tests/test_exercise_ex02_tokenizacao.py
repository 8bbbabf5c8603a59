"""Exercício 2 (tokenizar, preencher e achar o último token real): `codificar_lote` corta guardando o
começo e preenche à direita com o pad_token_id recebido, num LongTensor; `indice_ultimo_token_real` dá a
posição do último token real (L - 1 sem preenchimento).
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_suite import *  # noqa: F403 (os testes comuns: coletados neste arquivo)

ATIVIDADE = "ex02_tokenizacao"

# Soluções erradas que passam em todos os testes visíveis: os testes ocultos devem pegá-las.
ERRADAS = {
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
}

# Soluções corretas escritas de outro jeito: devem ganhar a nota toda.
ALTERNATIVAS = {
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
}

# Segunda solução correta de cada resposta, escrita de forma independente em outro estilo
# (laços em vez de operações vetorizadas, numpy em vez de torch, outro classificador...).
ALTERNATIVAS_2 = {
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
}

# Mais uma solução correta, num idioma que os testes ocultos precisam aceitar (a função do
# pacote, pad_sequence...): também deve ganhar todos os pontos.
IDIOMAS = {
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
''',
}

# Cada regra do enunciado que uma resposta pode quebrar, uma resposta que quebra só ela, e as
# células de teste que devem falhar (todas as outras passam): a resposta perde exatamente os
# pontos dessas células. As outras respostas do notebook ficam com a solução do professor.
REGRAS = [
    ("devolve um torch.LongTensor", {"codificar-lote": trocar(
        "codificar-lote", "return torch.tensor(linhas, dtype=torch.long)",
        "return torch.tensor(linhas, dtype=torch.int32)")},
     {"teste-codificar-lote"}),
    ("trunca guardando os PRIMEIROS tokens; usa o pad_token_id recebido", {"codificar-lote": ERRADAS["codificar-lote"]},
     {"teste-codificar-lote"}),
    ("usa o pad_token_id recebido", {"codificar-lote": trocar(
        "codificar-lote", "[pad_token_id] * (max_length", "[50256] * (max_length")}, {"teste-codificar-lote"}),
    ("max_length=None: o comprimento do texto mais longo", {"codificar-lote": trocar(
        "codificar-lote", "max_length = max(len(ids) for ids in codificados)", "max_length = 16")},
     {"teste-codificar-lote"}),
    ("preenche à DIREITA", {"codificar-lote": trocar(
        "codificar-lote", "linhas.append(ids + [pad_token_id] * (max_length - len(ids)))",
        "linhas.append([pad_token_id] * (max_length - len(ids)) + ids)")}, {"teste-codificar-lote"}),
    ("um SMS com o texto <|endoftext|> é texto comum (disallowed_special=())", {"codificar-lote": trocar(
        "codificar-lote", "disallowed_special=()", 'allowed_special="all"')}, {"teste-codificar-lote"}),
    ("posição do último token real; L - 1 sem preenchimento", {"indice-ultimo-token": ERRADAS["indice-ultimo-token"]},
     {"teste-indice-ultimo-token"}),
    ("índices com forma (lote,)", {"indice-ultimo-token": trocar(
        "indice-ultimo-token", "return reais.sum(dim=1) - 1", "return reais.sum(dim=1, keepdim=True) - 1")},
     {"teste-indice-ultimo-token"}),
    ("índices num torch.LongTensor", {"indice-ultimo-token": trocar(
        "indice-ultimo-token", "return reais.sum(dim=1) - 1", "return (reais.sum(dim=1) - 1).int()")},
     {"teste-indice-ultimo-token"}),
    ("usa o pad_token_id recebido (índices)", {"indice-ultimo-token": trocar(
        "indice-ultimo-token", "(input_ids != pad_token_id)", "(input_ids != 50256)")}, {"teste-indice-ultimo-token"}),
]

# As soluções corretas que a correção rápida roda (fixture `casos_rapidos`): ganham a nota toda.
CORRETAS = {"alternativa 1": ALTERNATIVAS, "alternativa 2": ALTERNATIVAS_2, "alternativa idioma 1": IDIOMAS}
