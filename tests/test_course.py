"""`course`: como os notebooks obtêm modelo e dados, e o modo de demonstração."""

from __future__ import annotations

import pytest

import llmdefinitions.course as course
from llmdefinitions import CheckpointError, demo_tag, is_demo, load_course_model, prepare_course_data
from tests.checkpoints import make_hf_gpt2, save_hf_checkpoint


@pytest.fixture(autouse=True)
def fresh_course_state(monkeypatch):
    monkeypatch.setattr(course, "_state", {"model": None, "data": None})
    for var in ("LLMDEFINITIONS_DEMO", "LLMDEFINITIONS_MODELS_DIR", "LLMDEFINITIONS_SPAM_ZIP"):
        monkeypatch.delenv(var, raising=False)


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


def test_session_modes_are_read_through_public_functions(monkeypatch, capsys):
    assert course.model_mode() is None and course.data_mode() is None
    monkeypatch.setenv("LLMDEFINITIONS_DEMO", "1")
    load_course_model()
    assert course.model_mode() == "demo" and course.data_mode() is None
