"""Salvar/carregar, estimativa de memória, model card e o modo de demonstração."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

import llmdefinitions.course as course
from llmdefinitions import (
    CheckpointError,
    GPTModel,
    classify_review,
    demo_tag,
    estimate_finetune_memory,
    gpt2_config,
    is_demo,
    load_classifier,
    load_course_model,
    prepare_course_data,
    prepare_last_block,
    save_classifier,
    write_model_card,
    describe_data,
)
from tests.checkpoints import make_hf_gpt2, save_hf_checkpoint

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 2, "context_length": 128}


@pytest.fixture(autouse=True)
def fresh_course_state(monkeypatch):
    monkeypatch.setattr(course, "_state", {"model": None, "data": None})
    for var in ("LLMDEFINITIONS_DEMO", "LLMDEFINITIONS_MODELS_DIR", "LLMDEFINITIONS_SPAM_ZIP"):
        monkeypatch.delenv(var, raising=False)


# ----------------------------------------------------------------------------- checkpoints

def test_save_and_load_classifier_round_trip(tmp_path, tokenizer):
    torch.manual_seed(0)
    model = prepare_last_block(GPTModel(TINY))
    path = tmp_path / "classificador.safetensors"
    save_classifier(model, path, approach="último bloco", max_length=40, metrics={"test_accuracy": 0.9})
    loaded, meta = load_classifier(path)
    assert meta["approach"] == "último bloco" and meta["max_length"] == 40 and meta["config"] == TINY
    ids = torch.tensor([tokenizer.encode("claim your prize")])
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), model.eval()(ids))
    text = "claim your prize"
    assert classify_review(text, loaded, tokenizer, "cpu") == classify_review(text, model, tokenizer, "cpu")


def test_loading_wrong_or_foreign_files_fails_clearly(tmp_path):
    model = prepare_last_block(GPTModel(TINY))
    path = tmp_path / "c.safetensors"
    save_classifier(model, path, "x", 10)
    tensors = {n: t.contiguous() for n, t in model.state_dict().items()}
    tensors["out_head.weight"] = torch.zeros(3, 32)  # outra arquitetura, metadados de 2 classes
    import json

    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    save_file(tensors, tmp_path / "wrong.safetensors", metadata=metadata)
    with pytest.raises(CheckpointError, match="out_head.weight"):
        load_classifier(tmp_path / "wrong.safetensors")
    save_file({"x": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="metadados"):
        load_classifier(tmp_path / "foreign.safetensors")
    (tmp_path / "half.safetensors").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="safetensors válido"):
        load_classifier(tmp_path / "half.safetensors")
    assert json.loads(metadata["llmdefinitions"])["num_classes"] == 2


# ----------------------------------------------------------------------------- memória

def test_memory_estimate_reproduces_lecture_figure():
    est = estimate_finetune_memory(7e9)
    assert est.gb() == 112.0
    assert (est.gb("weights"), est.gb("gradients"), est.gb("optimizer")) == (28.0, 28.0, 56.0)
    assert [estimate_finetune_memory(7e9, weight_bits=b).gb() for b in (16, 8, 4)] == [56.0, 28.0, 14.0]
    # Base de 4 bits congelada + 1% treinável com gradientes e estados em 32 bits (estilo QLoRA).
    qlora = estimate_finetune_memory(7e9, weight_bits=4, trainable_params=7e7, grad_bits=32, optimizer_state_bits=32)
    assert qlora.gb() == pytest.approx(3.5 + 0.28 + 0.56)
    assert estimate_finetune_memory(100, optimizer="sgd").total_bytes == 800
    with pytest.raises(ValueError, match="Otimizador"):
        estimate_finetune_memory(100, optimizer="lion")
    with pytest.raises(ValueError):
        estimate_finetune_memory(100, trainable_params=200)


def test_lora_memory_estimate_only_adapters_carry_optimizer_state():
    from llmdefinitions.memory import estimate_lora_memory

    lora = 32 * 2 * 8 * (4096 + 4096)  # LLaMA-2 7B, posto 8 em consulta e valor
    est = estimate_lora_memory(7e9, lora, weight_bits=16)
    assert est.trainable_params == lora and est.num_params == 7e9 + lora
    assert est.gradients_bytes == lora * 4 and est.optimizer_bytes == lora * 2 * 4
    assert est.gb() == pytest.approx(14.0 + lora * 16 / 1e9)
    assert estimate_lora_memory(7e9, lora, weight_bits=4).gb() < 3.6 < estimate_finetune_memory(7e9).gb() / 30
    with pytest.raises(ValueError, match="lora_params"):
        estimate_lora_memory(100, 0)


# ----------------------------------------------------------------------------- model card

def test_model_card_documents_run(tmp_path):
    card = write_model_card(tmp_path / "card.md", model_name="GPT-2 small spam", approach="Abordagem 3",
                            metrics={"Acurácia no teste": 0.9567}, training={"Épocas": 5})
    assert (tmp_path / "card.md").read_text(encoding="utf-8") == card
    for section in ("Uso pretendido", "Dados", "Métricas", "Limitações", "Vieses", "95,67%", "Épocas"):
        assert section in card
    assert "modo de demonstração" not in card
    assert "modo de demonstração" in write_model_card(model_name="x", approach="y", metrics={}, demo=True)


def test_model_card_data_section_follows_the_data():
    import pandas as pd

    def frame(ham, spam):
        return pd.DataFrame({"Text": ["t"] * (ham + spam), "Label": [0] * ham + [1] * spam})

    real = describe_data(frame(520, 525), frame(76, 73), frame(151, 149), sample=False)
    assert "Gómez Hidalgo" in real and "da UCI" in real
    assert "747 legítimos + 747 spam = 1.494 mensagens" in real
    assert "1.045 (treino) / 149 (validação) / 300 (teste)" in real
    sample = describe_data(frame(56, 56), frame(8, 8), frame(16, 16), sample=True)
    assert "amostra do curso" in sample.lower() and "NÃO é a SMS Spam Collection" in sample
    assert "80 legítimos + 80 spam = 160 mensagens" in sample and "5.574" not in sample.split("NÃO")[1]


# ----------------------------------------------------------------------------- modo de demonstração

def test_forced_demo_mode_is_labelled(monkeypatch, capsys):
    monkeypatch.setenv("LLMDEFINITIONS_DEMO", "1")
    result = load_course_model()
    assert result.mode == "demo" and is_demo() and demo_tag() == " [DEMONSTRAÇÃO]"
    assert "MODO DE DEMONSTRAÇÃO" in capsys.readouterr().out
    assert result.model.out_head.weight.shape == (50257, 64)


def test_offline_without_weights_falls_back_to_demo(tmp_path, monkeypatch, capsys):
    import llmdefinitions.download as download

    def offline(*args, **kwargs):
        raise OSError("sem rede")

    # A rede parece disponível (a conexão de teste passa), mas o download em si falha.
    monkeypatch.setattr(download, "offline_reason", lambda: None)
    monkeypatch.setattr(download, "hub_download", offline)
    assert load_course_model(models_dir=tmp_path).mode == "demo"
    assert "OSError: sem rede" in capsys.readouterr().out


def test_local_weights_dir_gives_real_mode(tmp_path, monkeypatch, capsys):
    save_hf_checkpoint(make_hf_gpt2(n_layer=1, n_embd=32, n_head=2, n_positions=64), tmp_path / "124M")
    monkeypatch.setenv("LLMDEFINITIONS_MODELS_DIR", str(tmp_path))
    result = load_course_model()
    assert result.mode == "real" and not is_demo() and demo_tag() == ""
    assert result.config["emb_dim"] == 32
    assert "difere" in capsys.readouterr().out  # avisa que não é o GPT-2 small oficial


def test_corrupt_weights_raise_instead_of_silent_demo(tmp_path):
    target = tmp_path / "124M"
    target.mkdir()
    (target / "config.json").write_text("{}")
    (target / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError):
        load_course_model(models_dir=tmp_path)


def test_course_data_from_local_zip(spam_zip, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMDEFINITIONS_SPAM_ZIP", str(spam_zip))
    train, val, test = prepare_course_data(tmp_path)
    assert (len(train), len(val), len(test)) == (1045, 149, 300)
    assert not is_demo()


def test_course_data_falls_back_to_sample(tmp_path, monkeypatch, capsys):
    import llmdefinitions.course as course_module

    def offline(*args, **kwargs):
        from llmdefinitions import DataDownloadError

        raise DataDownloadError("sem rede")

    monkeypatch.setattr(course_module, "download_and_unzip_spam_data", offline)
    train, val, test = prepare_course_data(tmp_path)
    assert (len(train), len(val), len(test)) == (112, 16, 32)  # 80 + 80 mensagens da amostra
    assert set(train["Label"]) == {0, 1}
    out = capsys.readouterr().out
    assert "amostra" in out and "[DEMONSTRAÇÃO]" in out and is_demo()
    assert (tmp_path / "train.csv").is_file()
