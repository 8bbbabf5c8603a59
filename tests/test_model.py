"""O nosso GPT-2 calcula o mesmo que o `transformers` com os mesmos pesos."""

from __future__ import annotations

import pytest
import torch

from llmdefinitions import (
    GPTModel,
    config_from_settings,
    download_and_load_gpt2,
    generate,
    generate_text_simple,
    gpt2_config,
    load_weights_into_gpt,
    text_to_token_ids,
    token_ids_to_text,
)
from llmdefinitions.model import remove_causal_mask, tie_weights
from tests.checkpoints import make_hf_gpt2, save_hf_checkpoint


@pytest.fixture(scope="module")
def hf_model():
    return make_hf_gpt2(n_layer=2, n_embd=64, n_head=4, n_positions=128)


@pytest.fixture(scope="module")
def models_dir(hf_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    save_hf_checkpoint(hf_model, root / "124M")
    return root


def _load_ours(models_dir):
    settings, params = download_and_load_gpt2("124M", models_dir)
    model = GPTModel(config_from_settings(settings))
    load_weights_into_gpt(model, params)
    return model.eval()


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
    ours = _load_ours(models_dir)
    ids = torch.randint(0, 50257, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf_model(ids).logits
        got = ours(ids)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-4


def test_hidden_states_feed_out_head(models_dir):
    ours = _load_ours(models_dir)
    ids = torch.arange(10, 30).unsqueeze(0)
    with torch.no_grad():
        torch.testing.assert_close(ours.out_head(ours.hidden_states(ids)), ours(ids))


def test_greedy_generation_matches_transformers(hf_model, models_dir, tokenizer):
    ours = _load_ours(models_dir)
    prompt = text_to_token_ids("Every effort moves you", tokenizer)
    got = generate_text_simple(ours, prompt, max_new_tokens=12, context_size=128)
    expected = hf_model.generate(
        prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12, do_sample=False,
        eos_token_id=None, pad_token_id=50256,
    )
    assert got.tolist() == expected.tolist()
    assert token_ids_to_text(got, tokenizer).startswith("Every effort moves you")
    # Com temperatura 0, `generate` é a mesma busca gulosa.
    assert generate(ours, prompt, 12, 128).tolist() == got.tolist()


def test_sampling_is_reproducible_and_respects_top_k(models_dir):
    ours = _load_ours(models_dir)
    prompt = torch.tensor([[464, 1110]])
    first = generate(ours, prompt, 8, 128, temperature=1.5, top_k=3, generator=torch.Generator().manual_seed(5))
    second = generate(ours, prompt, 8, 128, temperature=1.5, top_k=3, generator=torch.Generator().manual_seed(5))
    assert first.tolist() == second.tolist()
    with torch.no_grad():  # cada token sorteado está entre os 3 mais prováveis naquele passo
        for step in range(prompt.shape[1], first.shape[1]):
            top3 = ours(first[:, :step])[0, -1].topk(3).indices.tolist()
            assert first[0, step].item() in top3


def test_generation_crops_to_context(models_dir):
    ours = _load_ours(models_dir)
    long_prompt = torch.randint(0, 50257, (1, 130))  # maior que o contexto (128)
    out = generate_text_simple(ours, long_prompt, max_new_tokens=3, context_size=128)
    assert out.shape == (1, 133)


def test_device_choice(monkeypatch):
    from llmdefinitions import get_device

    monkeypatch.delenv("LLMDEFINITIONS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = get_device()
    assert device.type in ("cuda", "mps", "cpu")
    if expected:
        assert device.type == expected
    monkeypatch.setenv("LLMDEFINITIONS_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("meta") == torch.device("meta")
