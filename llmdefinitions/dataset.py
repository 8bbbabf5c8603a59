"""Do texto ao lote: tokenização, truncamento, *padding* e `DataLoader`s.

Textos têm tamanhos diferentes, mas um lote é um tensor retangular. Completamos cada texto
à direita com o token `<|endoftext|>` (id 50256) até o tamanho do maior texto:
- *padding fixo*: todos os textos até o maior texto do treino (o jeito da aula);
- *padding dinâmico*: cada lote só até o maior texto daquele lote (bem mais rápido).
Como o GPT-2 tem atenção causal, os tokens de preenchimento (que vêm depois) não alteram
a representação dos tokens reais: as duas formas dão as mesmas previsões, desde que o
classificador olhe para o último token REAL (veja `last_real_token_index`).
"""

from __future__ import annotations

import os

import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from .data import require_columns
from .tokenizer import PAD_TOKEN_ID

__all__ = ["SpamDataset", "pad_batch", "create_dataloaders", "last_real_token_index", "MAX_CONTEXT"]

MAX_CONTEXT = 1024  # contexto do GPT-2: nenhum texto passa disso


def _check_texts(frame: pd.DataFrame) -> None:
    """Recusa textos vazios e rótulos que não são 0 ou 1."""
    empty = frame.index[frame["Text"].isna() | (frame["Text"].astype(str).str.strip() == "")].tolist()
    if empty:
        raise ValueError(f"Há textos vazios nas linhas {empty[:10]}: remova-os antes de tokenizar.")
    unknown = sorted(set(frame["Label"]) - {0, 1})
    if unknown:
        raise ValueError(f"Rótulos devem ser 0 (não spam) ou 1 (spam); encontrados: {unknown}. Use encode_labels.")


class SpamDataset(Dataset):
    """Textos tokenizados e rótulos (0 = não spam, 1 = spam).

    `max_length=None` usa o maior texto deste dataset; para validação e teste passe o
    `max_length` do treino. `pad=True` completa cada item até `max_length` (padding fixo);
    `pad=False` devolve os itens sem preenchimento (padding dinâmico, com `pad_batch`).
    Ensinado no Notebook 1, §1.10.
    """

    def __init__(self, data, tokenizer, max_length: int | None = None,
                 pad_token_id: int = PAD_TOKEN_ID, pad: bool = True):
        frame = pd.read_csv(data) if isinstance(data, (str, os.PathLike)) else data  # tabela ou CSV
        require_columns(frame, ["Text", "Label"])
        _check_texts(frame)
        # disallowed_special=(): um "<|endoftext|>" escrito no SMS vira texto comum, nunca o id 50256.
        encoded = [tokenizer.encode(str(text), disallowed_special=()) for text in frame["Text"]]
        longest = max(len(ids) for ids in encoded)
        self.max_length = min(max_length or longest, MAX_CONTEXT)
        self.encoded_texts = [ids[: self.max_length] for ids in encoded]
        self.labels = [int(label) for label in frame["Label"]]
        self.pad_token_id = pad_token_id
        self.pad = pad

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        ids = self.encoded_texts[index]
        if self.pad:
            ids = ids + [self.pad_token_id] * (self.max_length - len(ids))
        return torch.tensor(ids, dtype=torch.long), torch.tensor(self.labels[index], dtype=torch.long)


def pad_batch(batch, pad_token_id: int = PAD_TOKEN_ID):
    """Junta itens de tamanhos diferentes num lote, completando até o maior do lote (Notebook 1, §1.11)."""
    sequences, labels = zip(*batch)
    longest = max(len(seq) for seq in sequences)
    inputs = torch.full((len(sequences), longest), pad_token_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        inputs[row, : len(seq)] = seq
    return inputs, torch.stack(labels)


def create_dataloaders(train_data, val_data, test_data, tokenizer, batch_size: int = 8,
                       padding: str = "fixed", max_length: int | None = None,
                       seed: int = 123, num_workers: int = 0):
    """Cria os três `DataLoader`s (Notebook 1, §1.11).

    O treino é embaralhado (semente fixa) e descarta o último lote incompleto; validação e
    teste mantêm a ordem e todos os exemplos.
    """
    if padding not in ("fixed", "dynamic"):
        raise ValueError("padding deve ser 'fixed' ou 'dynamic'.")
    fixed = padding == "fixed"
    train_set = SpamDataset(train_data, tokenizer, max_length=max_length, pad=fixed)
    val_set = SpamDataset(val_data, tokenizer, max_length=train_set.max_length, pad=fixed)
    test_set = SpamDataset(test_data, tokenizer, max_length=train_set.max_length, pad=fixed)
    common = {"batch_size": batch_size, "num_workers": num_workers, "collate_fn": pad_batch}
    generator = torch.Generator().manual_seed(seed)
    return (
        DataLoader(train_set, shuffle=True, drop_last=True, generator=generator, **common),
        DataLoader(val_set, shuffle=False, drop_last=False, **common),
        DataLoader(test_set, shuffle=False, drop_last=False, **common),
    )


def last_real_token_index(input_ids: torch.Tensor, pad_token_id: int = PAD_TOKEN_ID) -> torch.Tensor:
    """Posição do último token real de cada linha de um lote com padding à direita.

    Ensinado no Notebook 5, §5.9 (a posição lida e o *padding*).
    """
    lengths = (input_ids != pad_token_id).sum(dim=1)
    if bool((lengths == 0).any()):
        rows = torch.nonzero(lengths == 0).flatten().tolist()
        raise ValueError(f"As linhas {rows} do lote só têm padding: não há token real para classificar.")
    return lengths - 1
