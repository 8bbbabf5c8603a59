"""O tokenizador BPE do GPT-2 (via `tiktoken`) e conversões texto <-> tensor."""

from __future__ import annotations

import os

import tiktoken
import torch

__all__ = ["END_OF_TEXT", "PAD_TOKEN_ID", "get_tokenizer", "text_to_token_ids", "token_ids_to_text"]

END_OF_TEXT = "<|endoftext|>"
PAD_TOKEN_ID = 50256  # id de <|endoftext|>, usado também como preenchimento (padding)


def get_tokenizer() -> tiktoken.Encoding:
    """Carrega o tokenizador do GPT-2 (o `tiktoken` baixa dois arquivos na primeira vez).

    Ensinado no Notebook 1, §1.9.
    """
    try:
        return tiktoken.get_encoding("gpt2")
    except Exception as err:  # sem internet e sem cache local
        cache = os.environ.get("TIKTOKEN_CACHE_DIR", "(não definido)")
        raise RuntimeError(
            "Não foi possível carregar o tokenizador do GPT-2. Na primeira vez o tiktoken baixa "
            "os arquivos 'vocab.bpe' e 'encoder.json' da internet. Sem internet, copie esses "
            "arquivos (com os nomes que o tiktoken usa no cache) para uma pasta e aponte para ela "
            f"com a variável de ambiente TIKTOKEN_CACHE_DIR (valor atual: {cache}). "
            f"Erro original: {err}"
        ) from err


def text_to_token_ids(text: str, tokenizer: tiktoken.Encoding) -> torch.Tensor:
    """Texto -> tensor (1, tokens). `<|endoftext|>` no texto vira o token especial 50256.

    Ensinado no Notebook 2, §2.4.
    """
    ids = tokenizer.encode(text, allowed_special={END_OF_TEXT})
    return torch.tensor(ids, dtype=torch.long).unsqueeze(0)


def token_ids_to_text(token_ids: torch.Tensor, tokenizer: tiktoken.Encoding) -> str:
    """Tensor (1, tokens) ou (tokens,) -> texto (Notebook 2, §2.4)."""
    return tokenizer.decode(token_ids.reshape(-1).tolist())
