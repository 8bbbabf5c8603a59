"""Testes de llmdefinitions.dataset: tokenização, truncamento, *padding* e `DataLoader`s."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from llmdefinitions import SpamDataset, create_dataloaders, last_real_token_index, pad_batch


def test_seed_batch_counts_on_real_data(real_splits, tokenizer):
    train_loader, val_loader, test_loader = create_dataloaders(*real_splits, tokenizer, batch_size=8)
    assert [len(train_loader), len(val_loader), len(test_loader)] == [130, 19, 38]
    assert train_loader.dataset.max_length == val_loader.dataset.max_length == test_loader.dataset.max_length
    inputs, labels = next(iter(train_loader))
    assert inputs.shape == (8, train_loader.dataset.max_length) and labels.shape == (8,)


def test_dataset_truncates_pads_and_rejects_empty(tokenizer):
    frame = pd.DataFrame({"Text": ["a b c d e f g h", "hi"], "Label": [0, 1]})
    data = SpamDataset(frame, tokenizer, max_length=4)
    first, _ = data[0]
    second, label = data[1]
    assert first.tolist() == tokenizer.encode("a b c d e f g h")[:4]
    assert second.tolist() == tokenizer.encode("hi") + [50256] * 3 and label.item() == 1
    assert SpamDataset(frame, tokenizer).max_length == len(tokenizer.encode("a b c d e f g h"))
    with pytest.raises(ValueError, match="vazios"):
        SpamDataset(pd.DataFrame({"Text": ["ok", "  "], "Label": [0, 1]}), tokenizer)
    with pytest.raises(ValueError, match="colunas"):
        SpamDataset(pd.DataFrame({"Texto": ["ok"], "Label": [0]}), tokenizer)
    with pytest.raises(ValueError, match="Rótulos"):
        SpamDataset(pd.DataFrame({"Text": ["ok"], "Label": ["spam"]}), tokenizer)


def test_endoftext_in_a_message_is_plain_text(tokenizer):
    data = SpamDataset(pd.DataFrame({"Text": ["bye <|endoftext|>"], "Label": [0]}), tokenizer, pad=False)
    assert 50256 not in data[0][0].tolist()


def test_last_real_token_index():
    batch = torch.tensor([[5, 6, 7, 50256], [5, 50256, 50256, 50256], [1, 2, 3, 4]])
    assert last_real_token_index(batch).tolist() == [2, 0, 3]
    with pytest.raises(ValueError, match="padding"):
        last_real_token_index(torch.tensor([[50256, 50256]]))


def test_dynamic_padding_pads_to_longest_in_batch():
    inputs, labels = pad_batch([(torch.tensor([1, 2, 3]), torch.tensor(0)), (torch.tensor([4]), torch.tensor(1))])
    assert inputs.tolist() == [[1, 2, 3], [4, 50256, 50256]] and labels.tolist() == [0, 1]


def test_dataset_reads_a_csv_and_requires_its_columns(tmp_path, tokenizer):
    path = tmp_path / "train.csv"
    pd.DataFrame({"Text": ["oi", "ganhe já"], "Label": [0, 1]}).to_csv(path, index=None)
    assert SpamDataset(path, tokenizer).labels == [0, 1]
    with pytest.raises(ValueError, match=r"não tem as colunas \['Label'\]"):
        SpamDataset(pd.DataFrame({"Text": ["oi"]}), tokenizer)
