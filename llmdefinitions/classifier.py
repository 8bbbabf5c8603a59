"""As três formas de adaptar o GPT-2 à classificação, e de onde tirar a previsão.

- Abordagem 1: o modelo fica todo congelado e só fornece *features* (ver `features.py`).
- Abordagem 2 (`prepare_head_only`): trocamos `out_head` por uma camada de 2 saídas e
  treinamos só ela.
- Abordagem 3 (`prepare_last_block`): treinamos também o último bloco transformer e a
  LayerNorm final.

Depois, o que lê as saídas do modelo para classificar: `classification_logits` (em qual das
`TOKEN_POSITIONS` ler), `FullModelClassifier` (o modelo inteiro a cada passo) e as caudas que
terminam a conta sobre saídas congeladas guardadas (`TrainableTail`, `MeanTail`, `PooledHead`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .dataset import last_real_token_index
from .tokenizer import PAD_TOKEN_ID

if TYPE_CHECKING:
    from .features import HiddenBatch

__all__ = [
    "ParameterCount",
    "add_classification_head",
    "freeze_all",
    "prepare_head_only",
    "prepare_last_block",
    "count_parameters",
    "TOKEN_POSITIONS",
    "classification_logits",
    "FullModelClassifier",
    "TrainableTail",
    "MeanTail",
    "PooledHead",
    "last_block_at_last_token",
    "blocks_at_real_tokens",
]

NUM_CLASSES = 2  # 0 = não spam, 1 = spam
# Onde ler a previsão de cada texto (um só vocabulário para o pacote inteiro):
# - "first": o primeiro token (com a máscara causal, ele só enxerga a si mesmo);
# - "last": a última posição do tensor (com padding à direita, pode ser um `<|endoftext|>`);
# - "last_real": o último token REAL de cada texto (o padrão do curso);
# - "mean": a média de todos os tokens reais.
TOKEN_POSITIONS = ("first", "last", "last_real", "mean")


class ParameterCount(NamedTuple):
    """Quantos parâmetros treinam e quantos o modelo tem (o que `count_parameters` devolve).

    Ensinado no Notebook 4, §4.1.
    """

    trainable: int
    total: int

    @property
    def fraction(self) -> float:
        """Fração dos parâmetros que será treinada."""
        return self.trainable / self.total


def add_classification_head(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Troca a saída de vocabulário (50.257 logits) por uma de `num_classes` logits. Ensinado no Notebook 4, §4.1."""
    torch.manual_seed(seed)
    emb_dim = model.final_norm.normalized_shape[0]
    device = model.final_norm.weight.device
    model.out_head = nn.Linear(emb_dim, num_classes).to(device)  # nasce treinável
    return model


def freeze_all(model):
    """Congela todos os parâmetros: nenhum recebe gradiente. Ensinado no Notebook 4, §4.1."""
    for param in model.parameters():
        param.requires_grad = False
    return model


def prepare_head_only(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Abordagem 2: modelo congelado + cabeça de classificação nova (treinável). Ensinado no Notebook 4, §4.1."""
    freeze_all(model)
    return add_classification_head(model, num_classes, seed)


def prepare_last_block(model, num_classes: int = NUM_CLASSES, seed: int = 123):
    """Abordagem 3: como a 2, mais o último bloco transformer e a LayerNorm final. Ensinado no Notebook 5, §5.1."""
    prepare_head_only(model, num_classes, seed)
    for module in (model.trf_blocks[-1], model.final_norm):
        for param in module.parameters():
            param.requires_grad = True
    return model


def count_parameters(model) -> ParameterCount:
    """Conta parâmetros treináveis e totais (pesos compartilhados contam uma vez).

    Ensinado no Notebook 2, §2.5 e no Notebook 4, §4.1.
    """
    params = list(model.parameters())  # `parameters()` já ignora repetições
    return ParameterCount(
        trainable=sum(p.numel() for p in params if p.requires_grad),
        total=sum(p.numel() for p in params),
    )


def classification_logits(model, input_batch, token_position: str = "last_real",
                          pad_token_id: int = PAD_TOKEN_ID) -> torch.Tensor:
    """Logits (lote, classes) lidos numa posição de cada texto (uma de `TOKEN_POSITIONS`).

    Por causa da máscara causal, só o último token "viu" o texto inteiro.
    - `"last_real"` (padrão): o último token REAL de cada texto;
    - `"last"`: a última posição do tensor, como na aula. Com padding à direita essa
      posição é um `<|endoftext|>` de preenchimento, e a previsão passa a depender de
      quanto padding o texto recebeu;
    - `"first"`: o primeiro token; `"mean"`: a média dos logits dos tokens reais.
    Ensinado no Notebook 4, §4.2 e no Notebook 5, §5.9.
    """
    if token_position not in TOKEN_POSITIONS:
        raise ValueError(f"token_position deve ser um de {TOKEN_POSITIONS}.")
    logits = model(input_batch)
    if logits.dim() == 2:  # o modelo já devolve uma linha por texto (TrainableTail)
        if token_position != "last_real":
            raise ValueError("Saídas pré-calculadas só guardam tokens reais: use token_position='last_real'.")
        return logits
    if token_position == "last":
        return logits[:, -1, :]
    if token_position == "first":
        return logits[:, 0, :]
    lengths = getattr(input_batch, "lengths", None)  # lotes de saídas pré-calculadas já sabem os tamanhos
    if lengths is None:
        lengths = last_real_token_index(input_batch, pad_token_id) + 1
    lengths = lengths.to(logits.device)
    if token_position == "last_real":
        return logits[torch.arange(logits.shape[0], device=logits.device), lengths - 1]
    real = torch.arange(logits.shape[1], device=logits.device) < lengths[:, None]
    return (logits * real.unsqueeze(-1)).sum(dim=1) / lengths[:, None]  # a cabeça é linear: média dos logits


class FullModelClassifier(nn.Module):
    """O modelo inteiro a cada passo (como na aula), lendo a posição `token_position`.

    `classifier(ids)` devolve logits (lote, classes): o mesmo que `classification_logits`.

    Ensinado no Notebook 7, §7.1.
    """

    def __init__(self, model, token_position: str = "last_real", pad_token_id: int = PAD_TOKEN_ID):
        super().__init__()
        if token_position not in TOKEN_POSITIONS:
            raise ValueError(f"token_position deve ser um de {TOKEN_POSITIONS}.")
        self.model, self.token_position, self.pad_token_id = model, token_position, pad_token_id

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return classification_logits(self.model, input_ids, self.token_position, self.pad_token_id)


# --------------------------------------------------------------------------- caudas sobre saídas congeladas
# O que lê as saídas pré-calculadas da parte congelada (`features.precompute_frozen_outputs`)
# e termina a conta do modelo: os blocos treináveis, `final_norm` e a cabeça.

def _attention_reordered(att, h: torch.Tensor, query: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Atenção de uma consulta por texto sem calcular K nem V (W_key e W_value lineares comuns).

    K e V são lineares em h. Mudando a ordem das contas (a mesma função; só a
    associatividade do produto de matrizes muda):

        q · k_t   = q · (W_k h_t + b_k) = (W_kᵀ q) · h_t + q · b_k
        Σ a_t v_t = Σ a_t (W_v h_t + b_v) = W_v (Σ a_t h_t) + (Σ a_t) b_v

    Por token e por cabeça sobram dois produtos escalares de tamanho `emb_dim`, em vez de
    duas multiplicações por matrizes `emb_dim × emb_dim` para cada token.
    """
    batch, _, emb_dim = h.shape
    heads, head_dim = att.num_heads, att.head_dim
    query = query.view(batch, heads, head_dim)
    # As linhas de W_k e W_v que produzem cada cabeça: (cabeças, head_dim, emb_dim).
    key_weight = att.W_key.weight.view(heads, head_dim, emb_dim)
    value_weight = att.W_value.weight.view(heads, head_dim, emb_dim)

    query_in_h = torch.einsum("bcd,cde->bce", query, key_weight)  # W_kᵀ q: (lote, cabeças, emb_dim)
    scores = torch.einsum("bce,bte->bct", query_in_h, h)  # q · k_t: (lote, cabeças, tokens)
    if att.W_key.bias is not None:
        scores = scores + (query * att.W_key.bias.view(heads, head_dim)).sum(-1, keepdim=True)
    scores = (scores / head_dim**0.5).masked_fill(~visible[:, None, :], float("-inf"))
    weights = F.dropout(torch.softmax(scores, dim=-1), att.dropout, att.training)

    mixed = torch.einsum("bct,bte->bce", weights, h)  # Σ a_t h_t: (lote, cabeças, emb_dim)
    context = torch.einsum("bce,cde->bcd", mixed, value_weight)  # W_v (Σ a_t h_t)
    if att.W_value.bias is not None:
        context = context + weights.sum(-1, keepdim=True) * att.W_value.bias.view(heads, head_dim)
    return context.reshape(batch, -1)


def _attention_direct(att, h: torch.Tensor, query: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """A mesma atenção calculando K e V de todos os tokens (serve a qualquer W_key/W_value)."""
    batch, tokens, _ = h.shape
    keys, values = (layer(h).view(batch, tokens, att.num_heads, att.head_dim).transpose(1, 2)
                    for layer in (att.W_key, att.W_value))
    query = query.view(batch, att.num_heads, 1, att.head_dim)
    context = F.scaled_dot_product_attention(query, keys, values, attn_mask=visible[:, None, None, :],
                                             dropout_p=att.dropout if att.training else 0.0)
    return context.reshape(batch, -1)


def last_block_at_last_token(block, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """O mesmo que `block(x)[i, lengths[i] - 1]`, mas calculando só o necessário.

    A saída do último token real precisa da consulta (Q), da projeção de saída e do MLP
    só naquele token. Das chaves (K) e dos valores (V) de cada token ela só usa produtos
    com a consulta e com os pesos da atenção; por isso K e V nem precisam ser calculados
    (`_attention_reordered`). É isso que deixa o treino da abordagem 3 rápido na CPU. Numa
    GPU, as contas são baratas e o que pesa é o número de operações pequenas: lá, e quando
    W_key ou W_value não são `nn.Linear` comuns (ex.: um adaptador), a conta é feita do
    jeito direto (`_attention_direct`, menos operações).

    Ensinado no Notebook 5, §5.5.
    """
    att = block.att
    rows = torch.arange(x.shape[0], device=x.device)
    last = lengths.to(x.device) - 1
    h = block.norm1(x)  # (lote, tokens, emb_dim)
    query = att.W_query(h[rows, last])  # só no último token real: (lote, emb_dim)
    # O último token real enxerga todos os tokens reais (e nenhum preenchimento).
    visible = torch.arange(x.shape[1], device=x.device) <= last.unsqueeze(1)  # (lote, tokens)
    plain = type(att.W_key) is nn.Linear and type(att.W_value) is nn.Linear and x.device.type == "cpu"
    attention = _attention_reordered if plain else _attention_direct
    out = x[rows, last] + block.drop_shortcut(att.out_proj(attention(att, h, query, visible)))
    return out + block.drop_shortcut(block.ff(block.norm2(out)))


def _block_with_mask(block, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """`block(x)` com uma máscara de atenção qualquer (`visible[i, j]`: o token i vê o token j)."""
    att = block.att
    batch, tokens, _ = x.shape
    h = block.norm1(x)
    queries, keys, values = (layer(h).view(batch, tokens, att.num_heads, att.head_dim).transpose(1, 2)
                             for layer in (att.W_query, att.W_key, att.W_value))
    context = F.scaled_dot_product_attention(queries, keys, values, attn_mask=visible,
                                             dropout_p=att.dropout if att.training else 0.0)
    x = x + block.drop_shortcut(att.out_proj(context.transpose(1, 2).reshape(batch, tokens, -1)))
    return x + block.drop_shortcut(block.ff(block.norm2(x)))


def blocks_at_real_tokens(blocks, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """O mesmo que `blocks(x)` nos tokens reais, sem gastar contas com o preenchimento.

    Num lote com *padding*, um texto de 10 tokens ao lado de um de 60 ganha 50 zeros, e cada
    bloco multiplicaria esses zeros pelas suas matrizes. Aqui os tokens reais do lote viram UMA
    sequência (um texto depois do outro) e a atenção recebe uma máscara em blocos: cada token vê
    só a si e aos anteriores do PRÓPRIO texto. A conta de cada texto é a mesma de antes, mas as
    multiplicações por matrizes (quase todo o custo) passam só pelos tokens reais. As posições
    de preenchimento voltam como zeros. Sem máscara causal o texto enxergaria o preenchimento
    (`remove_causal_mask`): aí a conta é a de sempre, `blocks(x)`.

    Ensinado no Notebook 7, §7.2.
    """
    if len(blocks) == 0:
        return x
    if not all(block.att.causal for block in blocks):
        return blocks(x)
    lengths = lengths.to(x.device)
    real = torch.arange(x.shape[1], device=x.device) < lengths[:, None]  # (lote, tokens)
    text_of = torch.repeat_interleave(torch.arange(len(lengths), device=x.device), lengths)
    order = torch.arange(len(text_of), device=x.device)
    visible = (text_of[:, None] == text_of[None, :]) & (order[None, :] <= order[:, None])
    packed = x[real].unsqueeze(0)  # (1, tokens reais do lote, dim)
    for block in blocks:
        packed = _block_with_mask(block, packed, visible)
    return torch.zeros_like(x).index_put((real,), packed[0])


class TrainableTail(nn.Module):
    """A parte treinável do modelo, aplicada às saídas pré-calculadas.

    Não copia nada: compartilha os últimos `n_trainable_blocks` blocos, `final_norm` e
    `out_head` com `model`; treinar a cauda é treinar o próprio modelo. Crie-a depois de
    trocar a cabeça (`prepare_head_only` / `prepare_last_block`).

    Como só a previsão no último token real interessa, `tail(lote)` devolve logits
    (lote, classes) — uma linha por texto — em vez de um logit por posição.

    Ensinado no Notebook 4, §4.3 e no Notebook 5, §5.5.
    """

    def __init__(self, model, n_trainable_blocks: int = 1):
        super().__init__()
        n_blocks = len(model.trf_blocks)
        self.blocks = model.trf_blocks[n_blocks - n_trainable_blocks :]
        self.final_norm = model.final_norm
        self.out_head = model.out_head

    def forward(self, batch: HiddenBatch) -> torch.Tensor:
        x, lengths = batch.hidden, batch.lengths
        if len(self.blocks) == 0:
            last_hidden = x[torch.arange(x.shape[0], device=x.device), lengths.to(x.device) - 1]
        else:
            # Blocos intermediários: o último bloco precisa de todos os tokens reais deles.
            x = blocks_at_real_tokens(self.blocks[:-1], x, lengths)
            last_hidden = last_block_at_last_token(self.blocks[-1], x, lengths)
        return self.out_head(self.final_norm(last_hidden))


class MeanTail(nn.Module):
    """Cauda para a média dos tokens: os blocos em TODAS as posições, `final_norm` em cada
    token, a média só dos tokens reais (os zeros de preenchimento ficam de fora) e a cabeça.
    (`TrainableTail` calcula o último bloco só no último token: não serve para a média.)

    Ensinado no Notebook 7, §7.1.
    """

    def __init__(self, model, n_blocks: int):
        super().__init__()
        self.blocks = model.trf_blocks[len(model.trf_blocks) - n_blocks:]
        self.final_norm = model.final_norm
        self.out_head = model.out_head

    def forward(self, batch: HiddenBatch) -> torch.Tensor:
        x, lengths = batch.hidden, batch.lengths.to(batch.hidden.device)
        hidden = self.final_norm(blocks_at_real_tokens(self.blocks, x, lengths))
        real = torch.arange(x.shape[1], device=x.device) < lengths[:, None]
        mean = (hidden * real.unsqueeze(-1)).sum(dim=1) / lengths[:, None]
        return self.out_head(mean)


class PooledHead(nn.Module):
    """Só a cabeça, sobre vetores já prontos (a média dos tokens depois de `final_norm`, que
    com 0 blocos treináveis também está congelada).

    Ensinado no Notebook 7, §7.1.
    """

    def __init__(self, model):
        super().__init__()
        self.out_head = model.out_head

    def forward(self, batch: HiddenBatch) -> torch.Tensor:
        return self.out_head(batch.hidden[:, 0])
