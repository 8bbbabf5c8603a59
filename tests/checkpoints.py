"""Checkpoints GPT-2 aleatórios e pequenos, no layout exato do Hugging Face.

Os pesos reais do GPT-2 não podem ser baixados nas máquinas de teste (sem internet).
Criamos então um `GPT2LMHeadModel` do `transformers` (implementação independente da nossa),
com pesos aleatórios, e o salvamos com `save_pretrained` (model.safetensors + config.json).

Uso pela linha de comando (CI e benchmark):
    python -m tests.checkpoints PASTA_DOS_MODELOS [--size 124M] [--n-layer 2] [--n-embd 64]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def make_hf_gpt2(n_layer=2, n_embd=64, n_head=4, n_positions=256, vocab_size=50257, seed=0):
    """Um GPT-2 aleatório do `transformers`, em float32 e modo de avaliação."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
        n_head=n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    model = GPT2LMHeadModel(config).eval()
    # A inicialização padrão tem desvio 0.02: aumentamos para que as diferenças apareçam.
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    model.tie_weights()
    return model


def save_hf_checkpoint(model, directory: Path, strip_prefix: bool = False) -> Path:
    """Salva no layout do Hugging Face; `strip_prefix` grava chaves sem `transformer.`."""
    directory = Path(directory)
    model.save_pretrained(directory, safe_serialization=True)
    if strip_prefix:
        from safetensors.torch import load_file, save_file

        path = directory / "model.safetensors"
        tensors = {k.removeprefix("transformer."): v.contiguous() for k, v in load_file(path).items()}
        tensors.pop("lm_head.weight", None)
        save_file(tensors, path, metadata={"format": "pt"})
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models_dir", type=Path)
    parser.add_argument("--size", default="124M")
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-positions", type=int, default=256)
    args = parser.parse_args()
    model = make_hf_gpt2(args.n_layer, args.n_embd, args.n_head, args.n_positions)
    target = save_hf_checkpoint(model, args.models_dir / args.size)
    print(f"Checkpoint aleatório salvo em {target}")


if __name__ == "__main__":
    main()
