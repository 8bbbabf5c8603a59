"""Testes de llmdefinitions.tokenizer: o BPE do GPT-2 (via `tiktoken`) e as conversões texto <-> tensor."""

from __future__ import annotations

import pytest

from llmdefinitions import PAD_TOKEN_ID, get_tokenizer, text_to_token_ids, token_ids_to_text


def test_tokenizer_offline(tokenizer):
    ids = text_to_token_ids("Hello world <|endoftext|>", tokenizer)
    assert ids.tolist() == [[15496, 995, 220, 50256]]
    assert token_ids_to_text(ids, tokenizer) == "Hello world <|endoftext|>"


def test_pad_token_is_endoftext(tokenizer):
    assert tokenizer.encode("<|endoftext|>", allowed_special={"<|endoftext|>"}) == [PAD_TOKEN_ID]


def test_missing_cache_explains_tiktoken_cache_dir(monkeypatch):
    import tiktoken

    def offline(name):
        raise ConnectionError("sem rede")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/pasta/vazia")
    with pytest.raises(RuntimeError, match="TIKTOKEN_CACHE_DIR.*/pasta/vazia"):
        get_tokenizer()
