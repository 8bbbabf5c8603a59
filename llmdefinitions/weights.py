"""Pesos pré-treinados do GPT-2: download (Hugging Face, formato safetensors) e carga no `GPTModel`.

O checkpoint oficial guarda as matrizes no formato `Conv1D` da OpenAI (entrada x saída),
enquanto `nn.Linear` guarda (saída x entrada): por isso várias matrizes são transpostas.
Além disso, Q, K e V vêm juntas numa só matriz (`c_attn`) e são separadas aqui.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .config import MODEL_SIZES

__all__ = [
    "CHECKPOINT_FILES",
    "CheckpointError",
    "GPT2DownloadError",
    "download_and_load_gpt2",
    "load_weights_into_gpt",
    "read_checkpoint",
]

CHECKPOINT_FILES = ("config.json", "model.safetensors")


class GPT2DownloadError(RuntimeError):
    """Os arquivos do GPT-2 não estão na pasta e não puderam ser baixados.

    `reason` resume a causa numa frase (para avisos curtos); a mensagem completa traz
    também o passo a passo para instalar os arquivos à mão.
    """

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


class CheckpointError(ValueError):
    """O checkpoint existe, mas está corrompido ou não combina com o modelo."""


# --------------------------------------------------------------------------- download

def _manual_download_help(model_size: str, target: Path) -> str:
    repo = MODEL_SIZES[model_size]
    return (
        f"Para instalar à mão (por exemplo, num laboratório sem internet), baixe os arquivos "
        f"{' e '.join(CHECKPOINT_FILES)} de https://huggingface.co/{repo}/tree/main "
        f"e coloque-os em {target}/ (ou aponte a variável LLMDEFINITIONS_MODELS_DIR para uma "
        f"pasta que contenha {model_size}/config.json e {model_size}/model.safetensors)."
    )


_OFFLINE_VALUES = {"1", "true", "yes", "on"}
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _offline_reason(timeout_s: float = 1.0) -> str | None:
    """Por que não dá para baixar agora (ou `None` se a rede parece disponível).

    Sem rede, o `huggingface_hub` tenta de novo cinco vezes (1+2+4+8+8 s) antes de desistir.
    Uma conexão de teste, limitada a `timeout_s`, descobre isso em menos de um segundo.
    Atrás de um proxy a conexão direta não diz nada: aí deixamos a biblioteca decidir.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES:
        return "HF_HUB_OFFLINE=1 está definida: nada é baixado do Hugging Face"
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return None
    url = urlsplit(_hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as err:
        return f"sem conexão com {url.hostname}:{port} ({err.strerror or err})"
    return None


@contextmanager
def _quiet_hub_logs():
    """Esconde os avisos de 'nova tentativa' do huggingface_hub (a barra de progresso continua)."""
    logger = logging.getLogger("huggingface_hub")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _download_file(repo_id: str, filename: str, target: Path) -> None:
    """Baixa um arquivo do Hugging Face Hub para `target`.

    O `huggingface_hub` mostra uma barra de progresso, grava num arquivo `.incomplete`
    (retomado numa próxima tentativa) e só renomeia para o nome final quando o download
    termina: um arquivo pela metade nunca aparece com o nome definitivo.
    Um espelho pode ser usado com a variável de ambiente `HF_ENDPOINT`.
    """
    from huggingface_hub import hf_hub_download  # importado só quando há download

    with _quiet_hub_logs():
        hf_hub_download(repo_id=repo_id, filename=filename, local_dir=target)


def read_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Lê `config.json` e `model.safetensors` de uma pasta, com mensagens de erro claras."""
    directory = Path(directory)
    config_path = directory / "config.json"
    weights_path = directory / "model.safetensors"
    try:
        settings = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(
            f"{config_path} não é um JSON válido ({err}). Apague o arquivo e rode de novo "
            "para baixá-lo outra vez."
        ) from err
    try:
        params = load_file(weights_path)
    except (SafetensorError, OSError, ValueError) as err:
        size = weights_path.stat().st_size if weights_path.exists() else 0
        raise CheckpointError(
            f"{weights_path} está corrompido ou incompleto ({size:,} bytes; erro: {err}). "
            "Apague o arquivo e rode de novo para baixá-lo outra vez."
        ) from err
    return settings, params


def download_and_load_gpt2(model_size: str, models_dir: str | os.PathLike = "gpt2"):
    """Garante os arquivos do GPT-2 em `models_dir/<model_size>/` e os carrega.

    `model_size` é `"124M"`, `"355M"`, `"774M"` ou `"1558M"`. Se os arquivos já estão na
    pasta, nada é baixado. Devolve `(settings, params)`: `settings` é o conteúdo de
    `config.json` (hiperparâmetros) e `params` um dicionário nome -> tensor.
    """
    if model_size not in MODEL_SIZES:
        raise ValueError(
            f"model_size desconhecido: {model_size!r}. Use um de: {', '.join(MODEL_SIZES)}."
        )
    target = Path(models_dir) / model_size
    missing = [name for name in CHECKPOINT_FILES if not (target / name).is_file()]
    if missing and (reason := _offline_reason()):
        raise GPT2DownloadError(
            f"Não foi possível baixar {missing[0]} do GPT-2 {model_size}: {reason}. "
            f"{_manual_download_help(model_size, target)}",
            reason=reason,
        )
    for filename in missing:
        try:
            _download_file(MODEL_SIZES[model_size], filename, target)
        except Exception as err:  # repositório fora do ar, disco cheio, rede caiu no meio...
            reason = f"{type(err).__name__}: {err}"
            raise GPT2DownloadError(
                f"Não foi possível baixar {filename} do GPT-2 {model_size} ({reason}). "
                f"{_manual_download_help(model_size, target)}",
                reason=reason,
            ) from err
    return read_checkpoint(target)


# --------------------------------------------------------------------------- carga dos pesos

_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # máscaras causais, não são pesos


def _normalize_keys(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Aceita as duas convenções de nomes (`h.0...` e `transformer.h.0...`)."""
    normalized = {}
    for name, tensor in params.items():
        name = name.removeprefix("transformer.")
        if name.endswith(_IGNORED_SUFFIXES) or name == "lm_head.weight":
            continue  # lm_head é a própria matriz de embeddings (pesos amarrados)
        normalized[name] = tensor
    return normalized


def _layer_indices(params: dict[str, torch.Tensor]) -> set[int]:
    """Os índices dos blocos presentes no checkpoint (`h.0...`, `h.1...`)."""
    return {int(m.group(1)) for key in params if (m := re.match(r"h\.(\d+)\.", key))}


def _checkpoint_dims(params: dict[str, torch.Tensor]) -> str:
    """Resumo legível das dimensões de um checkpoint, para mensagens de erro."""
    layers = _layer_indices(params)
    wte, wpe = params.get("wte.weight"), params.get("wpe.weight")
    parts = [f"n_layers={len(layers)}"]
    if wte is not None:
        parts += [f"vocab_size={wte.shape[0]}", f"emb_dim={wte.shape[1]}"]
    if wpe is not None:
        parts.append(f"context_length={wpe.shape[0]}")
    return ", ".join(parts)


def _model_dims(model) -> str:
    cfg = model.cfg
    return ", ".join(f"{k}={cfg[k]}" for k in ("n_layers", "vocab_size", "emb_dim", "context_length"))


def _block_params(params: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
    """Pesos do bloco `i` já no formato de `TransformerBlock` (transpostos e separados)."""
    p = lambda name: params[f"h.{i}.{name}"]  # noqa: E731 - atalho local de leitura
    q_w, k_w, v_w = p("attn.c_attn.weight").T.chunk(3, dim=0)  # Q, K e V vêm concatenadas
    q_b, k_b, v_b = p("attn.c_attn.bias").chunk(3, dim=0)
    prefix = f"trf_blocks.{i}."
    return {
        prefix + "norm1.weight": p("ln_1.weight"),
        prefix + "norm1.bias": p("ln_1.bias"),
        prefix + "att.W_query.weight": q_w, prefix + "att.W_query.bias": q_b,
        prefix + "att.W_key.weight": k_w, prefix + "att.W_key.bias": k_b,
        prefix + "att.W_value.weight": v_w, prefix + "att.W_value.bias": v_b,
        prefix + "att.out_proj.weight": p("attn.c_proj.weight").T,
        prefix + "att.out_proj.bias": p("attn.c_proj.bias"),
        prefix + "norm2.weight": p("ln_2.weight"),
        prefix + "norm2.bias": p("ln_2.bias"),
        prefix + "ff.fc1.weight": p("mlp.c_fc.weight").T,
        prefix + "ff.fc1.bias": p("mlp.c_fc.bias"),
        prefix + "ff.fc2.weight": p("mlp.c_proj.weight").T,
        prefix + "ff.fc2.bias": p("mlp.c_proj.bias"),
    }


def _to_model_names(params: dict[str, torch.Tensor], n_layers: int) -> dict[str, torch.Tensor]:
    state = {
        "tok_emb.weight": params["wte.weight"],
        "pos_emb.weight": params["wpe.weight"],
        "final_norm.weight": params["ln_f.weight"],
        "final_norm.bias": params["ln_f.bias"],
    }
    for i in range(n_layers):
        state.update(_block_params(params, i))
    return state


def load_weights_into_gpt(model, params: dict[str, torch.Tensor]):
    """Copia os pesos do GPT-2 (`params`, como devolvido por `download_and_load_gpt2`) para `model`.

    Todas as formas são conferidas antes de qualquer cópia: um checkpoint de outro tamanho
    gera um erro que mostra as dimensões dos dois. No fim, `out_head` passa a compartilhar a
    matriz de embeddings dos tokens, como no GPT-2 original.
    """
    params = _normalize_keys(params)
    mismatch = CheckpointError(
        f"O checkpoint ({_checkpoint_dims(params)}) não combina com o modelo "
        f"({_model_dims(model)}). Crie o GPTModel com a configuração do mesmo tamanho do checkpoint."
    )
    if _layer_indices(params) != set(range(model.cfg["n_layers"])):
        raise mismatch
    try:
        new_state = _to_model_names(params, model.cfg["n_layers"])
    except KeyError as err:
        raise CheckpointError(f"Falta o tensor {err} no checkpoint: não é um GPT-2 completo.") from err

    own_params = dict(model.named_parameters())
    for name, tensor in new_state.items():
        if own_params[name].shape != tensor.shape:
            raise mismatch
    with torch.no_grad():
        for name, tensor in new_state.items():
            own_params[name].copy_(tensor)
    if model.out_head.weight.shape == model.tok_emb.weight.shape:
        model.out_head.weight = model.tok_emb.weight  # pesos amarrados (weight tying)
    return model
