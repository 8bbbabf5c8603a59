"""A descrição de um experimento (`experiments.py`): validação, linhas do notebook 7 e a tabela publicada."""

from __future__ import annotations

import pytest

from llmdefinitions.classifier import TOKEN_POSITIONS
from llmdefinitions.experiments import (
    DEFAULT_MODEL,
    REFERENCE_RESULTS,
    REFERENCE_SOURCE,
    Experiment,
    ExperimentError,
    ExperimentSkipped,
    check_unique_names,
    default_experiments,
    slow_experiments,
    split_frames,
)

N_LAYERS, CONTEXT = 12, 1024


def test_reference_table_comes_from_the_data_file():
    """A tabela publicada vem de reference_results.csv, com a fonte na primeira linha."""
    assert sorted(REFERENCE_RESULTS) == [1, 2, 3, 4, 5, 6, 7, 10, 11, 13, 16, 17, 19]
    row = REFERENCE_RESULTS[16]
    assert (row.row, row.train, row.val, row.test, row.minutes) == (16, 99.42, 98.66, 98.33, 0.30)
    assert row.setup == "gpt2-small, último token real (padding 120), último bloco"
    assert REFERENCE_RESULTS[1].test == 95.0 and REFERENCE_RESULTS[13].minutes == 2.46
    assert REFERENCE_SOURCE.startswith("S. Raschka, Build a Large Language Model (From Scratch)")
    assert "A100" in REFERENCE_SOURCE and "#" not in REFERENCE_SOURCE


def test_notebook_rows_are_valid_and_point_to_the_reference():
    fast, slow = default_experiments(epochs=1), slow_experiments(epochs=1)
    for exp in fast + slow:
        assert exp.token_position in TOKEN_POSITIONS and exp.epochs == 1
        assert exp.model_name.startswith("gpt2-")
    check_unique_names(fast + slow)
    for exp in fast:  # o gpt2-large (36 blocos) e o padding 1024 são conferidos no próprio modelo
        exp.validate(N_LAYERS, CONTEXT)
    assert not any(exp.slow for exp in fast) and all(exp.slow for exp in slow)
    assert [exp.reference.row for exp in fast[:2]] == [16, 1] and fast[-1].reference is None
    assert fast[0].model_name == DEFAULT_MODEL == "gpt2-small (124M)"


def test_which_tokens_the_frozen_part_sees():
    assert Experiment("a").frozen_view(longest=40) == ("real", 40)
    assert Experiment("b", padding=25).frozen_view(longest=40) == ("real", 25)
    assert Experiment("c", token_position="first").frozen_view(longest=40) == ("first",)
    assert Experiment("d", token_position="last", padding="longest").frozen_view(longest=40) == ("padded", 40)
    assert Experiment("e", pretrained=False, seed=7).model_key == (DEFAULT_MODEL, "aleatório, semente 7")


def test_tail_blocks_and_defaults():
    assert Experiment("a").resolved_trainable_blocks() == 1
    assert Experiment("b", lora_rank=4).resolved_trainable_blocks() == 0
    assert Experiment("c", lora_rank=4, lora_blocks=[1, -1]).tail_blocks(N_LAYERS) == 11
    assert Experiment("d", trainable_blocks="all").tail_blocks(N_LAYERS) == N_LAYERS
    assert "sem máscara causal" in Experiment("e", causal_mask=False, padding="longest").describe()


@pytest.mark.parametrize("fields, message", [
    (dict(token_position="meio"), "token_position"),
    (dict(trainable_blocks=13), "trainable_blocks"),
    (dict(token_position="last"), "padding fixo"),
    (dict(causal_mask=False), "máscara causal"),
    (dict(lora_rank=4, trainable_blocks=1), "congelados"),
    (dict(lora_rank=4, lora_blocks=13), "lora_blocks"),
    (dict(lora_rank=0), "lora_rank"),
    (dict(padding="curto"), "padding"),
    (dict(epochs=0), "epochs"),
    (dict(lr=0), "lr"),
])
def test_bad_description_is_explained_in_portuguese(fields, message):
    with pytest.raises(ExperimentError, match=message):
        Experiment("ruim", **fields).validate(N_LAYERS, CONTEXT)


def test_padding_longer_than_the_context_is_skipped_not_wrong():
    with pytest.raises(ExperimentSkipped, match="contexto"):
        Experiment("longo", token_position="last", padding=2048).validate(N_LAYERS, CONTEXT)


def test_data_and_names_are_checked():
    assert list(split_frames({"train": 1, "val": 2, "test": 3})) == ["train", "val", "test"]
    with pytest.raises(ExperimentError, match="faltam"):
        split_frames({"train": 1})
    with pytest.raises(ExperimentError, match="train_df"):
        split_frames(42)
    with pytest.raises(ExperimentError, match="repetidos"):
        check_unique_names([Experiment("a"), Experiment("a")])
