"""Geração de texto: o modelo prevê um token por vez e o acrescenta à entrada."""

from __future__ import annotations

import torch

__all__ = ["generate_text_simple", "generate"]


def _next_token_logits(model, idx: torch.Tensor, context_size: int) -> torch.Tensor:
    # Só os últimos `context_size` tokens cabem no modelo; só a última posição interessa.
    return model(idx[:, -context_size:])[:, -1, :]


@torch.inference_mode()
def generate_text_simple(model, idx: torch.Tensor, max_new_tokens: int, context_size: int) -> torch.Tensor:
    """Geração gulosa (*greedy*): a cada passo, escolhe o token de maior logit. Ensinado no Notebook 2, §2.6."""
    for _ in range(max_new_tokens):
        logits = _next_token_logits(model, idx, context_size)
        next_id = logits.argmax(dim=-1, keepdim=True)
        idx = torch.cat([idx, next_id], dim=1)
    return idx


@torch.inference_mode()
def generate(
    model,
    idx: torch.Tensor,
    max_new_tokens: int,
    context_size: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    eos_id: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Geração com amostragem.

    - `temperature=0`: gulosa, igual a `generate_text_simple`;
    - `temperature>0`: sorteia o próximo token de softmax(logits / temperature);
      valores altos deixam o texto mais variado (e mais estranho);
    - `top_k`: sorteia só entre os `top_k` tokens mais prováveis;
    - `eos_id`: para assim que esse token for gerado.

    Ensinado no Notebook 2, §2.6.
    """
    if temperature < 0:
        raise ValueError("temperature deve ser >= 0.")
    for _ in range(max_new_tokens):
        logits = _next_token_logits(model, idx, context_size)
        if top_k is not None:
            kth_best = torch.topk(logits, top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth_best, float("-inf"))
        if temperature > 0:
            probs = torch.softmax(logits / temperature, dim=-1)
            next_id = torch.multinomial(probs, num_samples=1, generator=generator)
        else:
            next_id = logits.argmax(dim=-1, keepdim=True)
        idx = torch.cat([idx, next_id], dim=1)
        if eos_id is not None and bool((next_id == eos_id).all()):
            break
    return idx
