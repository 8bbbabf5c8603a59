"""O nosso GPT-2 calcula o mesmo que o `transformers` com os mesmos pesos."""

from __future__ import annotations

import torch

from llmdefinitions import GPTModel, gpt2_config
from llmdefinitions.model import remove_causal_mask, tie_weights
from tests.tiny_models import load_ours


def test_parameter_count_of_gpt2_small():
    model = tie_weights(GPTModel(gpt2_config("gpt2-small (124M)")))
    assert model.out_head.weight is model.tok_emb.weight
    assert sum(p.numel() for p in model.parameters()) == 124_439_808


def test_remove_causal_mask_changes_only_multi_token_outputs():
    torch.manual_seed(0)
    model = GPTModel({**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 2, "context_length": 16}).eval()
    att, x = model.trf_blocks[0].att, torch.randn(2, 5, 32)
    with torch.no_grad():
        causal, one_token = att(x), att(x[:, :1])
        assert remove_causal_mask(model) is model
        assert not any(block.att.causal for block in model.trf_blocks)
        bidirectional = att(x)
        torch.testing.assert_close(att(x[:, :1]), one_token)  # um token só: nada a esconder
    torch.testing.assert_close(bidirectional[:, -1], causal[:, -1])  # o último token já via todos
    assert (bidirectional[:, 0] - causal[:, 0]).abs().max() > 1e-3  # o primeiro passa a ver os seguintes


def test_logits_match_transformers(hf_model, models_dir):
    ours = load_ours(models_dir)
    ids = torch.randint(0, 50257, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf_model(ids).logits
        got = ours(ids)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-4


def test_hidden_states_feed_out_head(models_dir):
    ours = load_ours(models_dir)
    ids = torch.arange(10, 30).unsqueeze(0)
    with torch.no_grad():
        torch.testing.assert_close(ours.out_head(ours.hidden_states(ids)), ours(ids))
