"""A arquitetura GPT-2 inteira, em PyTorch puro.

Um texto vira uma sequência de ids de tokens. O modelo:
1. soma a cada token um vetor de *embedding* do token e outro da posição;
2. passa a sequência por `n_layers` blocos transformer (atenção causal + MLP);
3. normaliza o resultado (`final_norm`) e o projeta no vocabulário (`out_head`),
   dando um *logit* por token possível para a próxima posição.

Para classificação, trocamos `out_head` por uma camada com 2 saídas (ver `classifier.py`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import validate_config

__all__ = ["GPTModel", "TransformerBlock", "MultiHeadAttention", "FeedForward", "remove_causal_mask", "tie_weights"]

LAYER_NORM_EPS = 1e-5  # o mesmo epsilon do GPT-2 original


class MultiHeadAttention(nn.Module):
    """Atenção multicabeça causal: cada token só olha para si e para os anteriores.

    Com `causal=False` (ver `remove_causal_mask`), cada token passa a olhar para todos.

    Ensinado no Notebook 2, §2.4.
    """

    def __init__(self, d_in: int, d_out: int, num_heads: int, dropout: float, qkv_bias: bool, causal: bool = True):
        super().__init__()
        self.causal = causal
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = dropout

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # (lote, tokens, d_out) -> (lote, cabeças, tokens, head_dim)
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        queries = self._split_heads(self.W_query(x))
        keys = self._split_heads(self.W_key(x))
        values = self._split_heads(self.W_value(x))
        # softmax(Q K^T / sqrt(d)) V com máscara causal, numa chamada otimizada do PyTorch.
        context = F.scaled_dot_product_attention(
            queries, keys, values,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=self.causal,
        )
        batch, _, tokens, _ = context.shape
        context = context.transpose(1, 2).reshape(batch, tokens, -1)  # junta as cabeças
        return self.out_proj(context)


class FeedForward(nn.Module):
    """MLP aplicado a cada token: expande 4x, aplica GELU e volta à largura original. Ensinado no Notebook 2, §2.3."""

    def __init__(self, emb_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(emb_dim, 4 * emb_dim)
        self.fc2 = nn.Linear(4 * emb_dim, emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # O GPT-2 usa a aproximação de GELU por tangente hiperbólica.
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class TransformerBlock(nn.Module):
    """Um bloco pré-norma: x + Atenção(Norm(x)), depois x + MLP(Norm(x)). Ensinado no Notebook 2, §2.3."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg["emb_dim"], eps=LAYER_NORM_EPS)
        self.att = MultiHeadAttention(
            d_in=cfg["emb_dim"], d_out=cfg["emb_dim"], num_heads=cfg["n_heads"],
            dropout=cfg["drop_rate"], qkv_bias=cfg["qkv_bias"],
        )
        self.norm2 = nn.LayerNorm(cfg["emb_dim"], eps=LAYER_NORM_EPS)
        self.ff = FeedForward(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_shortcut(self.att(self.norm1(x)))  # conexão residual
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))
        return x


class GPTModel(nn.Module):
    """O GPT-2: embeddings, uma pilha de blocos transformer, LayerNorm final e saída.

    `cfg`: `vocab_size, context_length, emb_dim, n_heads, n_layers, drop_rate, qkv_bias` (ver `config`).
    Ensinado no Notebook 2, §2.3.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        validate_config(cfg)
        self.cfg = dict(cfg)
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg["n_layers"])])
        self.final_norm = nn.LayerNorm(cfg["emb_dim"], eps=LAYER_NORM_EPS)
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    @property
    def context_length(self) -> int:
        """Quantos tokens o modelo aceita de uma vez (1024 no GPT-2)."""
        return self.pos_emb.num_embeddings

    def embed(self, in_idx: torch.Tensor) -> torch.Tensor:
        """Ids de tokens (lote, tokens) -> vetores de entrada do primeiro bloco."""
        num_tokens = in_idx.shape[1]
        if num_tokens > self.context_length:
            raise ValueError(f"Sequência com {num_tokens} tokens, mas o modelo aceita no máximo "
                             f"{self.context_length}. Trunque o texto antes.")
        positions = torch.arange(num_tokens, device=in_idx.device)
        return self.drop_emb(self.tok_emb(in_idx) + self.pos_emb(positions))

    def hidden_states(self, in_idx: torch.Tensor) -> torch.Tensor:
        """Representação de cada token depois do último bloco e de `final_norm`: o que `out_head`
        recebe, útil como *features* de um classificador clássico (Notebook 3, §3.1)."""
        return self.final_norm(self.trf_blocks(self.embed(in_idx)))

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        """Ids de tokens (lote, tokens) -> logits (lote, tokens, saídas de `out_head`)."""
        return self.out_head(self.hidden_states(in_idx))


def tie_weights(model: GPTModel) -> GPTModel:
    """Amarra a saída aos embeddings dos tokens, como no GPT-2: `out_head` usa a matriz de `tok_emb`.

    Os dois passam a ser o MESMO tensor (50.257 x 768 números guardados uma vez só). Devolve `model`.

    Ensinado no Notebook 2, §2.2.
    """
    model.out_head.weight = model.tok_emb.weight
    return model


def remove_causal_mask(model: GPTModel) -> GPTModel:
    """Tira a máscara causal de todos os blocos (no próprio modelo): cada token vê todos os outros.

    Os pesos não mudam; só a atenção deixa de esconder os tokens seguintes. Devolve `model`.

    Ensinado no Notebook 7, §7.4.
    """
    for block in model.trf_blocks:
        block.att.causal = False
    return model
