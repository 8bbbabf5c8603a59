"""Hiperparâmetros das quatro versões do GPT-2 e conversão a partir do `config.json` do Hugging Face."""

from __future__ import annotations

__all__ = [
    "BASE_CONFIG",
    "model_configs",
    "MODEL_SIZES",
    "gpt2_config",
    "model_size_from_name",
    "config_from_settings",
    "validate_config",
]

# Valores comuns a todas as versões do GPT-2.
BASE_CONFIG = {
    "vocab_size": 50257,  # tamanho do vocabulário BPE do GPT-2
    "context_length": 1024,  # número máximo de tokens que o modelo enxerga
    "drop_rate": 0.0,  # dropout (0 no fine-tuning deste curso)
    "qkv_bias": True,  # o GPT-2 original usa viés nas projeções Q, K e V
}

# O que muda de uma versão para outra: largura, profundidade e número de cabeças.
model_configs = {
    "gpt2-small (124M)": {"emb_dim": 768, "n_layers": 12, "n_heads": 12},
    "gpt2-medium (355M)": {"emb_dim": 1024, "n_layers": 24, "n_heads": 16},
    "gpt2-large (774M)": {"emb_dim": 1280, "n_layers": 36, "n_heads": 20},
    "gpt2-xl (1558M)": {"emb_dim": 1600, "n_layers": 48, "n_heads": 25},
}

# Tamanho -> repositório público no Hugging Face.
MODEL_SIZES = {
    "124M": "openai-community/gpt2",
    "355M": "openai-community/gpt2-medium",
    "774M": "openai-community/gpt2-large",
    "1558M": "openai-community/gpt2-xl",
}

_REQUIRED_CONFIG_KEYS = (
    "vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias",
)


def gpt2_config(name: str = "gpt2-small (124M)") -> dict:
    """Devolve uma cópia de `BASE_CONFIG` completada com a versão `name` (Notebook 2, §2.1)."""
    if name not in model_configs:
        raise ValueError(f"Modelo desconhecido: {name!r}. Opções: {', '.join(model_configs)}.")
    return {**BASE_CONFIG, **model_configs[name]}


def model_size_from_name(name: str) -> str:
    """`"gpt2-small (124M)"` -> `"124M"` (o formato que `download_and_load_gpt2` espera).

    A conta de texto da aula, feita no Notebook 2, §2.2.
    """
    if name not in model_configs:
        raise ValueError(f"Modelo desconhecido: {name!r}. Opções: {', '.join(model_configs)}.")
    return name.split(" ")[-1].strip("()")


def config_from_settings(settings: dict, drop_rate: float = 0.0) -> dict:
    """Converte o `config.json` de um checkpoint do Hugging Face para o formato de `GPTModel`.

    Ensinado no Notebook 2, §2.2.
    """
    try:
        return {
            "vocab_size": int(settings["vocab_size"]),
            "context_length": int(settings.get("n_positions", settings.get("n_ctx"))),
            "emb_dim": int(settings["n_embd"]),
            "n_heads": int(settings["n_head"]),
            "n_layers": int(settings["n_layer"]),
            "drop_rate": drop_rate,
            "qkv_bias": True,
        }
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"config.json não parece ser de um GPT-2: falta o campo {err}. "
            "Campos esperados: vocab_size, n_positions, n_embd, n_head, n_layer."
        ) from err


def validate_config(cfg: dict) -> None:
    """Confere se `cfg` tem todas as chaves e se as dimensões são coerentes (Notebook 2, §2.1)."""
    missing = [key for key in _REQUIRED_CONFIG_KEYS if key not in cfg]
    if missing:
        raise ValueError(f"Configuração incompleta: faltam as chaves {missing}.")
    if cfg["emb_dim"] % cfg["n_heads"] != 0:
        raise ValueError(
            f"emb_dim ({cfg['emb_dim']}) precisa ser divisível por n_heads ({cfg['n_heads']})."
        )
