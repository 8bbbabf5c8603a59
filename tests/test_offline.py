"""Sem rede, o curso cai no modo de demonstração depressa e sem ruído das bibliotecas."""

from __future__ import annotations

import contextlib
import io
import time
import warnings

import pytest

import llmdefinitions.download as download
from llmdefinitions import GPT2DownloadError, describe_config, download_and_load_gpt2, load_course_model
from llmdefinitions.course import DEMO_CONFIG

LIBRARY_NOISE = ("Retrying", "Traceback", "Warning", "warn", "thrown while requesting", "HEAD https://")


def _load_quietly(**kwargs):
    out, err = io.StringIO(), io.StringIO()
    quiet = contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)
    with warnings.catch_warnings(record=True) as caught, quiet[0], quiet[1]:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = load_course_model(**kwargs)
        elapsed = time.perf_counter() - start
    return result, elapsed, out.getvalue(), err.getvalue(), caught


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9", "https://nao-existe.invalid"])
def test_unreachable_hub_falls_back_at_once_without_library_noise(tmp_path, monkeypatch, endpoint):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LLMDEFINITIONS_DEMO", raising=False)
    for name in download._PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    called = []
    monkeypatch.setattr(download, "hub_download", lambda *args: called.append(args))

    # O custo de estar sem rede: quanto demora para o download desistir (antes: 1+2+4+8+8 s).
    start = time.perf_counter()
    with pytest.raises(GPT2DownloadError, match="sem conexão com"):
        download_and_load_gpt2("124M", tmp_path)
    gave_up_after = time.perf_counter() - start
    assert gave_up_after < 2.0, f"o download levou {gave_up_after:.1f} s para desistir"

    result, _, out, err, caught = _load_quietly(models_dir=tmp_path)
    assert result.mode == "demo"
    assert not called, "sem rede, a biblioteca de download nem deveria ser chamada"
    assert err == "" and not caught
    assert not [noise for noise in LIBRARY_NOISE if noise in out], out
    assert "MODO DE DEMONSTRAÇÃO" in out and "sem conexão com" in out


def test_hf_hub_offline_attempts_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(download.socket, "create_connection", lambda *a, **k: pytest.fail("tentou conectar"))
    with pytest.raises(GPT2DownloadError, match="HF_HUB_OFFLINE=1") as info:
        download_and_load_gpt2("124M", tmp_path)
    assert "HF_HUB_OFFLINE=1" in info.value.reason
    assert "config.json e model.safetensors" in str(info.value)  # o passo a passo continua na mensagem


def test_behind_a_proxy_the_library_decides(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.da.universidade:3128")
    monkeypatch.setattr(download.socket, "create_connection", lambda *a, **k: pytest.fail("tentou conectar"))
    assert download.offline_reason() is None


def test_demo_banner_is_short_and_lists_the_demo_model(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, _, out, _, _ = _load_quietly(models_dir=tmp_path)
    lines = [line for line in out.splitlines() if line.startswith("!! ")]
    expected = ["!! MODO DE DEMONSTRAÇÃO", "!! Motivo", "!! Para usar o GPT-2 real", "!! Detalhes"]
    assert [line.split(":")[0] for line in lines] == expected
    assert describe_config(DEMO_CONFIG) in out


def test_describe_config_counts_parameters_from_the_config():
    text = describe_config({**DEMO_CONFIG, "n_layers": 12, "emb_dim": 768, "n_heads": 12})
    assert text == "12 blocos, 768 dimensões, 12 cabeças, contexto de 1024 tokens, 124,4 milhões de parâmetros"
