"""Salvar e recarregar um classificador ajustado, com segurança (safetensors).

Um `.pth` salvo com `torch.save` é um *pickle*: carregá-lo pode executar código. Por isso
usamos safetensors (só tensores) e guardamos junto, como metadados em JSON, o que é
preciso para reconstruir o modelo: configuração, abordagem, `max_length` e métricas.
"""

from __future__ import annotations

import json
import os

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .classifier import add_classification_head
from .model import GPTModel
from .weights import CheckpointError

__all__ = ["save_classifier", "load_classifier", "read_metadata"]

METADATA_KEY = "llmdefinitions"


def save_classifier(model, path, approach: str, max_length: int, metrics: dict | None = None) -> dict:
    """Salva os pesos de `model` e os metadados num arquivo `.safetensors`. Ensinado no Notebook 5, §5.8."""
    metadata = {
        "config": model.cfg,
        "num_classes": model.out_head.out_features,
        "approach": approach,
        "max_length": int(max_length),
        "metrics": metrics or {},
    }
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    if model.out_head.weight is model.tok_emb.weight:
        tensors.pop("out_head.weight")  # pesos amarrados: guardamos uma cópia só
    save_file(tensors, os.fspath(path), metadata={METADATA_KEY: json.dumps(metadata)})
    return metadata


def read_metadata(path, key: str = METADATA_KEY, error: type[Exception] = CheckpointError,
                  expected: str = "um classificador salvo por save_classifier") -> dict:
    """Os metadados (JSON) guardados dentro de um `.safetensors` na chave `key`, sem ler os tensores.

    Serve aos classificadores (`save_classifier`) e aos adaptadores LoRA (`save_lora`, que passa a sua
    chave, `error=LoRAError` e o que esperava). Um arquivo ausente, inválido ou sem os metadados gera `error`.
    Ensinado no Notebook 5, §5.8 e no Notebook 7, §7.3.
    """
    if not os.path.isfile(path):
        raise error(f"Arquivo não encontrado: {path}.")
    try:
        with safe_open(os.fspath(path), framework="pt") as handle:
            raw = (handle.metadata() or {}).get(key)
    except (SafetensorError, OSError) as err:
        raise error(f"{path} não é um arquivo safetensors válido ({err}).") from err
    if raw is None:
        raise error(f"{path} não é {expected}: faltam os metadados.")
    return json.loads(raw)


def load_classifier(path, device="cpu"):
    """Reconstrói o classificador salvo por `save_classifier`. Devolve `(model, metadata)`.

    Ensinado no Notebook 5, §5.8.
    """
    metadata = read_metadata(path)
    model = add_classification_head(GPTModel(metadata["config"]), metadata["num_classes"])
    state = load_file(os.fspath(path))
    expected = model.state_dict()
    problems = [
        f"{name}: arquivo {tuple(state[name].shape)} x modelo {tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in state and state[name].shape != tensor.shape
    ]
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if problems or missing or unexpected:
        raise CheckpointError(
            f"{path} não corresponde à arquitetura descrita nos seus metadados. "
            f"Formas diferentes: {problems[:3]}; faltando: {missing[:3]}; sobrando: {unexpected[:3]}."
        )
    model.load_state_dict(state)
    return model.to(device).eval(), metadata
