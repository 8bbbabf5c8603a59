"""Pesos pré-treinados do GPT-2: obter (Hugging Face, formato safetensors) e carregar no `GPTModel`.

O checkpoint oficial guarda as matrizes no formato `Conv1D` da OpenAI (entrada x saída),
enquanto `nn.Linear` guarda (saída x entrada): por isso várias matrizes são transpostas.
Além disso, Q, K e V vêm juntas numa só matriz (`c_attn`) e são separadas aqui.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .config import MODEL_SIZES
from .download import GPT2DownloadError, download_from_hub
from .model import tie_weights

__all__ = [
    "CheckpointError",
    "GPT2DownloadError",
    "download_and_load_gpt2",
    "load_weights_into_gpt",
    "read_checkpoint",
]

CHECKPOINT_FILES = ("config.json", "model.safetensors")


class CheckpointError(ValueError):
    """O checkpoint existe, mas está corrompido ou não combina com o modelo (Notebook 2, §2.2)."""


# --------------------------------------------------------------------------- download e leitura

def read_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Lê `config.json` e `model.safetensors` de uma pasta, com mensagens de erro claras.

    Ensinado no Notebook 2, §2.2.
    """
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
    """Garante os arquivos do GPT-2 em `models_dir/<model_size>/` e os carrega (Notebook 2, §2.2).

    `model_size` é `"124M"`, `"355M"`, `"774M"` ou `"1558M"`. Se os arquivos já estão na
    pasta, nada é baixado. Devolve `(settings, params)`: `settings` é o conteúdo de
    `config.json` (hiperparâmetros) e `params` um dicionário nome -> tensor.
    """
    if model_size not in MODEL_SIZES:
        raise ValueError(
            f"model_size desconhecido: {model_size!r}. Use um de: {', '.join(MODEL_SIZES)}."
        )
    repo, target = MODEL_SIZES[model_size], Path(models_dir) / model_size
    manual_help = (
        f"Para instalar à mão (por exemplo, num laboratório sem internet), baixe os arquivos "
        f"{' e '.join(CHECKPOINT_FILES)} de https://huggingface.co/{repo}/tree/main "
        f"e coloque-os em {target}/ (ou aponte a variável LLMDEFINITIONS_MODELS_DIR para uma "
        f"pasta que contenha {model_size}/config.json e {model_size}/model.safetensors)."
    )
    missing = [name for name in CHECKPOINT_FILES if not (target / name).is_file()]
    download_from_hub(repo, missing, target, f"do GPT-2 {model_size}", manual_help)
    return read_checkpoint(target)


# --------------------------------------------------------------------------- carga dos pesos

_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # máscaras causais, não são pesos


def _shape_mismatch(params: dict[str, torch.Tensor], layers: set[int], model) -> CheckpointError:
    """O erro de um checkpoint de outro tamanho, com as dimensões dos dois lados."""
    wte, wpe = params.get("wte.weight"), params.get("wpe.weight")
    found = [f"n_layers={len(layers)}"]
    if wte is not None:
        found += [f"vocab_size={wte.shape[0]}", f"emb_dim={wte.shape[1]}"]
    if wpe is not None:
        found.append(f"context_length={wpe.shape[0]}")
    expected = ", ".join(f"{key}={model.cfg[key]}" for key in ("n_layers", "vocab_size", "emb_dim", "context_length"))
    return CheckpointError(
        f"O checkpoint ({', '.join(found)}) não combina com o modelo "
        f"({expected}). Crie o GPTModel com a configuração do mesmo tamanho do checkpoint."
    )


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
    """Os tensores do checkpoint com os nomes do `GPTModel` (`wte` -> `tok_emb`, `ln_f` -> `final_norm`...)."""
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
    """Copia os pesos do GPT-2 (`params`, de `download_and_load_gpt2`) para `model` (Notebook 2, §2.2).

    Todas as formas são conferidas antes de qualquer cópia: um checkpoint de outro tamanho
    gera um erro que mostra as dimensões dos dois. No fim, `out_head` passa a compartilhar a
    matriz de embeddings dos tokens, como no GPT-2 original.
    """
    # As duas convenções de nomes (`h.0...` e `transformer.h.0...`) valem. Fora ficam as máscaras
    # causais guardadas no arquivo e `lm_head`, que é a própria matriz de embeddings (pesos amarrados).
    params = {name.removeprefix("transformer."): tensor for name, tensor in params.items()}
    params = {name: tensor for name, tensor in params.items()
              if not name.endswith(_IGNORED_SUFFIXES) and name != "lm_head.weight"}
    n_layers = model.cfg["n_layers"]
    layers = {int(m.group(1)) for name in params if (m := re.match(r"h\.(\d+)\.", name))}  # blocos h.0, h.1...
    if layers != set(range(n_layers)):
        raise _shape_mismatch(params, layers, model)
    try:
        new_state = _to_model_names(params, n_layers)
    except KeyError as err:
        raise CheckpointError(f"Falta o tensor {err} no checkpoint: não é um GPT-2 completo.") from err
    own_params = dict(model.named_parameters())
    if any(own_params[name].shape != tensor.shape for name, tensor in new_state.items()):
        raise _shape_mismatch(params, layers, model)
    with torch.no_grad():
        for name, tensor in new_state.items():
            own_params[name].copy_(tensor)
    if model.out_head.weight.shape == model.tok_emb.weight.shape:
        tie_weights(model)  # pesos amarrados (weight tying): out_head usa a matriz de tok_emb
    return model
