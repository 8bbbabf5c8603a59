"""O DistilBERT da aula (llmdefinitions/encoder.py): o caminho real de carga, as features e o modo de demonstração.

Sem internet: o "DistilBERT real" é um `DistilBertForMaskedLM` aleatório e pequeno (`tests.checkpoints`), salvo
com `save_pretrained` numa pasta no layout do Hugging Face (a mesma classe e os mesmos arquivos do
`distilbert-base-uncased` do Hub), com um `vocab.txt` pequeno. `load_encoder` o lê pelas mesmas chamadas
`from_pretrained` da aula.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("transformers")

from llmdefinitions.encoder import (  # noqa: E402
    DEMO_ENCODER_CONFIG,
    ENCODER_NAME,
    ENCODER_POSITIONS,
    EncoderUnavailableError,
    build_demo_encoder,
    encoder_features,
    load_encoder,
    require_transformers,
    transformers_available,
    wordpiece_vocabulary,
)
from tests.checkpoints import save_hf_distilbert  # noqa: E402

TEXTS = ["Free prize! Call now", "see you at lunch tomorrow", "ok", "win cash now! call the prize line now now"]
FRAME = pd.DataFrame({"Text": TEXTS, "Label": [1, 0, 0, 1]})


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """Uma pasta de modelos com `distilbert-base-uncased/` no layout do Hub, pesos aleatórios."""
    root = tmp_path_factory.mktemp("modelos")
    reference = save_hf_distilbert(root / ENCODER_NAME)  # a mesma pasta que o CI usa nos notebooks
    return root, reference


@pytest.fixture(scope="module")
def real_encoder(models_dir):
    root, _ = models_dir
    return load_encoder(models_dir=root)


def test_real_path_reads_the_hub_layout(models_dir, real_encoder, monkeypatch, capsys):
    root, reference = models_dir
    assert real_encoder.mode == "real" and "demonstração" not in real_encoder.description
    # Os pesos do codificador são os do checkpoint (a cabeça de MLM do pré-treino fica de fora).
    ours = real_encoder.model.state_dict()
    for name, tensor in reference.distilbert.state_dict().items():
        torch.testing.assert_close(ours[name], tensor)
    assert real_encoder.n_parameters == sum(p.numel() for p in reference.distilbert.parameters())
    # O mesmo caminho pela variável de ambiente, e com HF_HUB_OFFLINE=1 (pasta local não precisa de rede).
    monkeypatch.setenv("LLMDEFINITIONS_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load_encoder().mode == "real"
    assert "pré-treinado" in capsys.readouterr().out


def test_features_shapes_and_positions(real_encoder):
    X_cls, y = encoder_features(real_encoder, FRAME, "cpu", token_position="first")
    X_mean, y_mean = encoder_features(real_encoder, FRAME, "cpu", token_position="mean")
    assert X_cls.shape == X_mean.shape == (len(FRAME), 32) and X_cls.dtype == np.float32
    assert y.tolist() == y_mean.tolist() == [1, 0, 0, 1]
    assert not np.allclose(X_cls, X_mean, atol=1e-3)  # [CLS] e média são resumos diferentes
    assert set(ENCODER_POSITIONS) == {"first", "mean"}


def test_features_match_the_lecture_code(real_encoder):
    """[CLS] = `last_hidden_state[:, 0]` e média = média dos tokens reais, texto a texto, sem padding."""
    X_cls, _ = encoder_features(real_encoder, FRAME, "cpu", token_position="first")
    X_mean, _ = encoder_features(real_encoder, FRAME, "cpu", token_position="mean")
    for row, text in enumerate(TEXTS):
        inputs = real_encoder.tokenizer(text, return_tensors="pt")
        assert inputs["input_ids"][0, 0] == real_encoder.tokenizer.cls_token_id
        assert inputs["input_ids"][0, -1] == real_encoder.tokenizer.sep_token_id
        assert real_encoder.tokenizer.unk_token_id not in inputs["input_ids"][0]
        with torch.no_grad():
            hidden = real_encoder.model(input_ids=inputs["input_ids"]).last_hidden_state[0]
        np.testing.assert_allclose(X_cls[row], hidden[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(X_mean[row], hidden.mean(dim=0).numpy(), atol=1e-5)


def test_one_pass_on_disk_serves_both_positions_and_any_row_order(real_encoder, tmp_path, monkeypatch):
    from llmdefinitions import disk_cache

    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV_VAR, str(tmp_path / "cache"))
    with disk_cache.cache_use() as first:
        X_cls, _ = encoder_features(real_encoder, FRAME, "cpu", token_position="first")
    with disk_cache.cache_use() as second:
        X_mean, _ = encoder_features(real_encoder, FRAME, "cpu", token_position="mean")
    assert (first.misses, second.hits, second.misses) == (1, 1, 0)  # a média veio da mesma passada
    with disk_cache.disabled():
        fresh, _ = encoder_features(real_encoder, FRAME, "cpu", token_position="mean")
    np.testing.assert_array_equal(X_mean, fresh)
    reversed_frame = FRAME.iloc[::-1].reset_index(drop=True)  # outra ordem: outra chave, linhas no lugar certo
    X_reversed, y_reversed = encoder_features(real_encoder, reversed_frame, "cpu", token_position="first")
    np.testing.assert_allclose(X_reversed, X_cls[::-1], atol=1e-5)
    assert y_reversed.tolist() == FRAME["Label"].tolist()[::-1]


@pytest.mark.parametrize("position", ["first", "mean"])
def test_padding_does_not_change_features(real_encoder, position):
    one_by_one, _ = encoder_features(real_encoder, FRAME, "cpu", token_position=position, batch_size=1)
    together, _ = encoder_features(real_encoder, FRAME, "cpu", token_position=position, batch_size=8)
    np.testing.assert_allclose(one_by_one, together, atol=1e-5)


def test_bad_arguments(real_encoder):
    with pytest.raises(ValueError, match="token_position"):
        encoder_features(real_encoder, FRAME, "cpu", token_position="last_real")
    with pytest.raises(ValueError, match="Label"):
        encoder_features(real_encoder, FRAME[["Text"]], "cpu")


def test_demo_layout(tmp_path):
    from transformers import AutoModel, AutoTokenizer

    directory = build_demo_encoder(tmp_path / "demo", TEXTS * 5)
    assert {"config.json", "model.safetensors", "vocab.txt"} <= {p.name for p in directory.iterdir()}
    model, tokenizer = AutoModel.from_pretrained(directory), AutoTokenizer.from_pretrained(directory)
    assert type(model).__name__ == "DistilBertModel" and model.config.dim == DEMO_ENCODER_CONFIG["dim"]
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("FREE prize")["input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "free" in tokens  # "uncased"
    pieces = tokenizer.tokenize("prizes Zebra")  # palavra fora do vocabulário: pedaços, nunca [UNK]
    assert pieces[:2] == ["prize", "##s"] and "[UNK]" not in pieces
    again = build_demo_encoder(tmp_path / "de-novo", TEXTS * 5)  # reprodutível: mesmos textos, mesmos arquivos
    for name in ("vocab.txt", "model.safetensors"):
        assert (again / name).read_bytes() == (directory / name).read_bytes()


def test_demo_fallback_offline_is_labelled(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LLMDEFINITIONS_DEMO", raising=False)
    # Um nome que não está em cache nenhum, e uma pasta de modelos vazia.
    encoder = load_encoder("llmdefinitions-teste/nao-existe", models_dir=tmp_path, demo_texts=TEXTS * 5)
    out = capsys.readouterr().out
    assert encoder.mode == "demo" and "demonstração" in encoder.description
    assert "MODO DE DEMONSTRAÇÃO" in out and "HF_HUB_OFFLINE" in out
    X, _ = encoder_features(encoder, FRAME, "cpu")
    assert X.shape == (len(FRAME), DEMO_ENCODER_CONFIG["dim"])


def test_demo_fallback_without_network(tmp_path, monkeypatch, capsys):
    """Sem HF_HUB_OFFLINE, mas sem rede (um endpoint numa porta fechada): desiste rápido e cai na demonstração."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LLMDEFINITIONS_DEMO", raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    encoder = load_encoder("llmdefinitions-teste/nao-existe", models_dir=tmp_path, demo_texts=TEXTS * 5)
    assert encoder.mode == "demo" and "sem conexão com 127.0.0.1:9" in capsys.readouterr().out


def test_demo_forced(models_dir, monkeypatch, capsys):
    monkeypatch.setenv("LLMDEFINITIONS_DEMO", "1")
    assert load_encoder(models_dir=models_dir[0], demo_texts=TEXTS * 5).mode == "demo"
    assert "LLMDEFINITIONS_DEMO=1" in capsys.readouterr().out


def test_local_copy_broken_is_an_error(models_dir, tmp_path):
    broken = tmp_path / ENCODER_NAME
    broken.mkdir()
    (broken / "config.json").write_text("{não é json", encoding="utf-8")
    with pytest.raises(Exception):  # nunca troca calada pelo modo de demonstração
        load_encoder(models_dir=tmp_path)


def test_missing_transformers_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` falha
    assert transformers_available() is False
    with pytest.raises(EncoderUnavailableError, match=r'pip install -e "\.\[encoder\]"'):
        require_transformers()
    with pytest.raises(ImportError, match="transformers"):
        load_encoder()


def test_wordpiece_vocabulary_keeps_words_seen_min_count_times():
    texts = ["Free prize NOW", "free cash", "Free!", "cash now"]
    vocabulary = wordpiece_vocabulary(texts, size=1000, min_count=2)
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = [token for token in vocabulary if len(token) > 1 and not token.startswith(("[", "##"))]
    assert words == ["free", "cash", "now"]  # 3, 2 e 2 vezes; "prize" só uma vez vira pedaços
    assert "##z" in vocabulary and "p" in vocabulary
    assert len(wordpiece_vocabulary(texts, size=len(vocabulary) - 1, min_count=2)) == len(vocabulary) - 1
