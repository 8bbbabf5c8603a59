"""Testes de llmdefinitions.evaluation: classificar um texto solto (longo, vazio, com ou sem padding)."""

from __future__ import annotations

import pytest

from llmdefinitions import classify_review, prepare_head_only
from tests.tiny_models import tiny_model


def test_classify_review_handles_long_empty_and_padding(tokenizer):
    model = prepare_head_only(tiny_model())
    long_text = "free prize " * 400  # ~800 tokens > contexto de 256
    assert classify_review(long_text, model, tokenizer, "cpu") in ("spam", "not spam")
    assert classify_review(long_text, model, tokenizer, "cpu", max_length=5000) in ("spam", "not spam")
    with pytest.raises(ValueError, match="vazio"):
        classify_review("   ", model, tokenizer, "cpu")
    text = "call now to claim"
    assert classify_review(text, model, tokenizer, "cpu") == classify_review(text, model, tokenizer, "cpu",
                                                                             max_length=120)
