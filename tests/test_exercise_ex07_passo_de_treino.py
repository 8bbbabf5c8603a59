"""Exercício 7 (o passo de treino e o laço de épocas): `criar_otimizador` (AdamW só dos treináveis),
`passo_de_treino` (zera, backward antes de step, perda média no último token real), `treinar_uma_epoca`
e `avaliar` (modo de avaliação, sem gradientes, perda média por exemplo); a turma fictícia é corrigida
pelo nbgrader (lento).
"""

from __future__ import annotations

from tests.exercise_helpers import trocar
from tests.exercise_training_suite import *  # noqa: F403 (os testes comuns do treino: coletados neste arquivo)

ATIVIDADE = "ex07_passo_de_treino"
# Pontos de cada teste (grade_id -> pontos): o enunciado e a página do professor usam estes números.
PONTOS = {"teste-criar-otimizador": 2, "teste-passo-de-treino": 3, "teste-treinar-uma-epoca": 2, "teste-avaliar": 3}

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
}

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
}

CORRETAS = {"alternativa_a": ALTERNATIVA_A, "alternativa_b": ALTERNATIVA_B,
            "alternativa_c": ALTERNATIVA_C, "alternativa_d": ALTERNATIVA_D}

# --------------------------------------------------------------------------- respostas chumbadas nos testes visíveis

FIXO = {
    "criar-otimizador": '''
def criar_otimizador(modelo, lr=5e-4, weight_decay=0.1):
    # só o que o teste visível olha
    return torch.optim.AdamW(modelo.out_head.parameters(), lr=lr, weight_decay=weight_decay)
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
}

# --------------------------------------------------------------------------- os erros clássicos


def _avaliar_com_erro(erro: str, modo_de_avaliacao: bool = True, sem_gradientes: bool = True,
                      logits: str = "classification_logits(modelo, x)") -> str:
    """Uma `avaliar` que soma perda e acertos exemplo a exemplo, com um erro clássico: sem
    `modelo.eval()`, sem `torch.no_grad()` ou com outros `logits` (o `erro` vira um comentário)."""
    recuo = "        " if sem_gradientes else "    "
    return "\n" + "\n".join([
        "def avaliar(modelo, lotes):",
        f"    # erro: {erro}",
        *(["    modelo.eval()"] if modo_de_avaliacao else []),
        "    soma, certos, n = 0.0, 0, 0",
        *(["    with torch.no_grad():"] if sem_gradientes else []),
        f"{recuo}for x, y in lotes:",
        f"{recuo}    logits = {logits}",
        f"{recuo}    soma += F.cross_entropy(logits, y, reduction=\"sum\").item()",
        f"{recuo}    certos += (logits.argmax(-1) == y).sum().item()",
        f"{recuo}    n += len(y)",
        "    return soma / n, certos / n",
    ]) + "\n"

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
    "avaliar": _avaliar_com_erro("avalia em modo de treino (dropout ligado)", modo_de_avaliacao=False),
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
    "avaliar": _avaliar_com_erro("sem torch.no_grad() (monta o grafo de gradientes à toa)", sem_gradientes=False),
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
    "avaliar": _avaliar_com_erro("a última POSIÇÃO (padding)", logits="modelo(x)[:, -1, :]"),
}

ERROS = {"erro1": ERRO1, "erro2": ERRO2, "erro3": ERRO3}
ALUNOS = {"alternativa_a": ALTERNATIVA_A, "alternativa_b": ALTERNATIVA_B, "fixo": FIXO, **ERROS}

# --------------------------------------------------------------------------- cada regra do enunciado

# Cada frase do enunciado que dá uma regra, uma resposta que quebra só ela (as outras respostas do
# notebook ficam com a solução do professor) e as células de teste que devem falhar.
REGRAS = [
    ("o otimizador é um AdamW",
     {"criar-otimizador": trocar("criar-otimizador", "torch.optim.AdamW(", "torch.optim.Adam(")},
     {"teste-criar-otimizador"}),
    ("só os parâmetros treináveis", {"criar-otimizador": ERRO1["criar-otimizador"]}, {"teste-criar-otimizador"}),
    ("não muda o que está congelado", {"criar-otimizador": ERRO2["criar-otimizador"]}, {"teste-criar-otimizador"}),
    ("todos os parâmetros treináveis", {"criar-otimizador": FIXO["criar-otimizador"]}, {"teste-criar-otimizador"}),
    ("usa o weight_decay recebido", {"criar-otimizador": trocar(
        "criar-otimizador", "weight_decay=weight_decay)", "weight_decay=0.1)")}, {"teste-criar-otimizador"}),
    ("zera os gradientes", {"passo-de-treino": ERRO1["passo-de-treino"]}, {"teste-passo-de-treino"}),
    ("backward antes de step", {"passo-de-treino": ERRO2["passo-de-treino"]}, {"teste-passo-de-treino"}),
    ("perda no último token real", {"passo-de-treino": ERRO3["passo-de-treino"]}, {"teste-passo-de-treino"}),
    ("perda MÉDIA do lote", {"passo-de-treino": trocar(
        "passo-de-treino", "F.cross_entropy(logits, target_batch)",
        'F.cross_entropy(logits, target_batch, reduction="sum")')},
     {"teste-passo-de-treino"}),
    # O teste visível da época chama o seu passo e confere que as perdas são float: perde os dois.
    ("devolve a perda como float",
     {"passo-de-treino": trocar("passo-de-treino", "return perda.item()", "return perda")},
     {"teste-passo-de-treino", "teste-treinar-uma-epoca"}),
    ("o passo não muda o modo do modelo", {"passo-de-treino": trocar(
        "passo-de-treino", "    otimizador.zero_grad()\n", "    modelo.train()\n    otimizador.zero_grad()\n")},
     {"teste-passo-de-treino"}),
    ("a época põe o modelo em modo de treino", {"treinar-uma-epoca": ERRO1["treinar-uma-epoca"]},
     {"teste-treinar-uma-epoca"}),
    ("conta exemplos (lotes de tamanhos diferentes)", {"treinar-uma-epoca": ERRO2["treinar-uma-epoca"]},
     {"teste-treinar-uma-epoca"}),
    ("um passo por lote, na ordem dos lotes", {"treinar-uma-epoca": trocar(
        "treinar-uma-epoca", "in lotes:", "in list(lotes)[::-1]:")}, {"teste-treinar-uma-epoca"}),
    ("lotes pode ser um DataLoader", {"treinar-uma-epoca": trocar("treinar-uma-epoca", "in lotes:", "in lotes[:]:")},
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
]

