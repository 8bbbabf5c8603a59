"""Checkpoints GPT-2 aleatórios e pequenos, no layout exato do Hugging Face.

Os pesos reais do GPT-2 não podem ser baixados nas máquinas de teste (sem internet).
Criamos então um `GPT2LMHeadModel` do `transformers` (implementação independente da nossa),
com pesos aleatórios, e o salvamos com `save_pretrained` (model.safetensors + config.json).

O mesmo para o DistilBERT da aula (notebook 3, §3.7): um `DistilBertForMaskedLM` aleatório, a classe do
`distilbert-base-uncased` do Hub, com um `vocab.txt` pequeno escrito aqui, em PASTA/distilbert-base-uncased/.

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


# Letras, algarismos e pontuação, inteiros e como continuação (##x): nenhum texto em inglês vira [UNK].
_CHARACTERS = list("abcdefghijklmnopqrstuvwxyz0123456789") + list("!?.,:;'&£$%/()-+*#@\"")
DISTILBERT_WORDS = ["free", "prize", "call", "now", "win", "cash", "txt", "claim", "see", "you", "at", "lunch",
                    "ok", "tomorrow", "the", "to", "and", "i", "a", "is", "are", "we", "for", "still", "meeting"]


def save_hf_distilbert(directory: Path, dim=32, n_layers=2, n_heads=4, hidden_dim=64, seed=0,
                       vocabulary: list[str] | None = None, vocab_size: int | None = None):
    """Um DistilBERT aleatório no layout do Hub (config, safetensors, vocab e tokenizador); devolve o modelo.

    `vocabulary`: o vocabulário WordPiece (padrão: umas poucas palavras e os caracteres). `vocab_size`
    completa-o com `[unusedN]`, como o vocabulário do BERT, até esse tamanho."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokens = vocabulary or ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *DISTILBERT_WORDS, *_CHARACTERS,
                            *(f"##{c}" for c in _CHARACTERS)]
    tokens = list(dict.fromkeys(tokens))
    tokens += [f"[unused{i}]" for i in range(max((vocab_size or 0) - len(tokens), 0))]
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    # Os arquivos do tokenizador do Hub: vocab.txt, tokenizer.json (o mesmo WordPiece) e tokenizer_config.json.
    BertWordPieceTokenizer(str(vocab), lowercase=True).save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text('{"do_lower_case": true, "model_max_length": 512}\n')
    torch.manual_seed(seed)
    config = DistilBertConfig(vocab_size=len(tokens), dim=dim, n_layers=n_layers, n_heads=n_heads,
                              hidden_dim=hidden_dim, dropout=0.0, attention_dropout=0.0)
    model = DistilBertForMaskedLM(config).eval()
    with torch.no_grad():  # mais espalhados que o padrão (0,02): as diferenças aparecem
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    model.save_pretrained(directory, safe_serialization=True)
    return model


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
    save_hf_distilbert(args.models_dir / "distilbert-base-uncased")
    print(f"DistilBERT aleatório salvo em {args.models_dir / 'distilbert-base-uncased'}")


if __name__ == "__main__":
    main()
