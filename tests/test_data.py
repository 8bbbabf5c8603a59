"""Testes de llmdefinitions.data: leitura, duplicatas, balanceamento, divisão e CSVs.

Rodam sem internet: o zip real vem do espelho local em ../shared/data (relativo à raiz do
repositório; fixture `spam_zip` do conftest) e os casos de erro usam arquivos sintéticos em
`tmp_path`. O download e a conferência do zip estão em test_download.py.
"""

from pathlib import Path

import pandas as pd
import pytest

from llmdefinitions.data import (
    CLASS_NAMES,
    LABELS,
    SPAM_ZIP_ENV_VAR,
    count_duplicate_messages,
    count_shared_messages,
    create_balanced_dataset,
    download_and_unzip_spam_data,
    drop_duplicate_messages,
    encode_labels,
    load_sms_spam,
    load_sms_spam_naive,
    load_split,
    prepare_spam_splits,
    random_split,
    save_splits,
)

# Fatos medidos no arquivo original (leitura correta, salvo indicação).
N_ROWS, N_HAM, N_SPAM = 5574, 4827, 747
N_ROWS_NAIVE, N_HAM_NAIVE = 5572, 4825
N_EXACT_DUPLICATES = 403  # linhas que repetem (Text, Label) de uma linha anterior
N_SHARED_TRAIN_TEST = 32  # pares (Text, Label) distintos em treino e teste, sem deduplicar


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(autouse=True)
def _without_env_zip(monkeypatch):
    """A variável de ambiente do usuário não pode mudar o resultado dos testes."""
    monkeypatch.delenv(SPAM_ZIP_ENV_VAR, raising=False)


@pytest.fixture(scope="session")
def real_data_file(spam_zip, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("real")
    return download_and_unzip_spam_data(spam_zip, base / "sms.zip", base / "sms")


@pytest.fixture(scope="session")
def real_df(real_data_file) -> pd.DataFrame:
    return load_sms_spam(real_data_file)


# --------------------------------------------------------------------------- leitura

def test_correct_parse_counts(real_df):
    assert list(real_df.columns) == ["Label", "Text"]
    assert len(real_df) == N_ROWS
    assert real_df["Label"].value_counts().to_dict() == {"ham": N_HAM, "spam": N_SPAM}


def test_naive_parse_merges_lines_with_quotes(real_data_file):
    naive = load_sms_spam_naive(real_data_file)
    assert len(naive) == N_ROWS_NAIVE
    assert naive["Label"].value_counts().to_dict() == {"ham": N_HAM_NAIVE, "spam": N_SPAM}
    merged = naive[naive["Text"].str.contains("\nham\t", regex=False)]
    assert len(merged) == 1  # três linhas do arquivo viraram uma só


def test_texts_keep_quotes_and_are_never_missing(real_df):
    assert real_df["Text"].str.contains('"', regex=False).sum() > 0
    assert real_df["Text"].notna().all()


def write_tsv(tmp_path, text: str) -> Path:
    path = tmp_path / "dados.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_small_file_with_quotes(tmp_path):
    df = load_sms_spam(write_tsv(tmp_path, 'ham\t"Oi" ela disse\nspam\tGanhe já!\nham\tNA\n'))
    assert df.to_dict("records") == [
        {"Label": "ham", "Text": '"Oi" ela disse'},
        {"Label": "spam", "Text": "Ganhe já!"},
        {"Label": "ham", "Text": "NA"},
    ]


def test_unknown_label_names_label_and_line(tmp_path):
    path = write_tsv(tmp_path, "ham\tok\nspan\toi\nham\tok\nHAM\tok\n")
    with pytest.raises(ValueError, match="Rótulos desconhecidos") as info:
        load_sms_spam(path)
    assert "'HAM'" in str(info.value) and "'span'" in str(info.value)
    assert "linhas 2, 4" in str(info.value)


def test_empty_text_names_the_line(tmp_path):
    with pytest.raises(ValueError, match="Mensagens vazias.*linhas 2"):
        load_sms_spam(write_tsv(tmp_path, "ham\tok\nspam\t  \nham\tok\n"))


@pytest.mark.parametrize("bad_line", ["ham sem tab", "ham\tdois\ttabs", ""])
def test_lines_without_exactly_one_tab(tmp_path, bad_line):
    with pytest.raises(ValueError, match="exatamente um TAB.*linhas não têm: 2"):
        load_sms_spam(write_tsv(tmp_path, f"ham\tok\n{bad_line}\nspam\tok\n"))


def test_file_not_in_utf8(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("ham\tcoração\n".encode("latin-1"))
    with pytest.raises(ValueError, match="UTF-8"):
        load_sms_spam(path)


# --------------------------------------------------------------------------- duplicatas

def test_duplicate_counts(real_df):
    assert count_duplicate_messages(real_df) == N_EXACT_DUPLICATES
    deduplicated = drop_duplicate_messages(real_df)
    assert len(deduplicated) == N_ROWS - N_EXACT_DUPLICATES
    assert deduplicated["Label"].value_counts().to_dict() == {"ham": 4518, "spam": 653}
    assert count_duplicate_messages(deduplicated) == 0
    assert len(real_df) == N_ROWS  # o original não muda


def test_seed_style_split_leaks_messages_between_train_and_test(real_df, real_data_file):
    train, _, test = random_split(create_balanced_dataset(real_df), 0.7, 0.1)
    assert count_shared_messages(train, test) == N_SHARED_TRAIN_TEST
    # a leitura padrão do pandas (a do material original) dá o mesmo número
    naive = load_sms_spam_naive(real_data_file)
    naive_train, _, naive_test = random_split(create_balanced_dataset(naive), 0.7, 0.1)
    assert count_shared_messages(naive_train, naive_test) == N_SHARED_TRAIN_TEST


def test_deduplicated_split_shares_nothing(real_df):
    splits = random_split(create_balanced_dataset(drop_duplicate_messages(real_df)), 0.7, 0.1)
    assert [len(s) for s in splits] == [914, 130, 262]
    train, validation, test = splits
    assert count_shared_messages(train, test) == 0
    assert count_shared_messages(train, validation) == 0
    assert count_shared_messages(validation, test) == 0


# --------------------------------------------------------------------------- balanceamento

def test_balanced_dataset(real_df):
    balanced = create_balanced_dataset(real_df)
    assert balanced["Label"].value_counts().to_dict() == {"ham": N_SPAM, "spam": N_SPAM}
    assert balanced.equals(create_balanced_dataset(real_df, random_state=123))
    assert not balanced.equals(create_balanced_dataset(real_df, random_state=7))


def test_balanced_dataset_errors():
    with pytest.raises(ValueError, match=r"não tem as colunas \['Text'\]"):
        create_balanced_dataset(pd.DataFrame({"Label": ["ham", "spam"]}))
    with pytest.raises(ValueError, match='rótulo "spam"'):
        create_balanced_dataset(pd.DataFrame({"Label": ["ham"], "Text": ["oi"]}))
    with pytest.raises(ValueError, match="menos mensagens ham"):
        create_balanced_dataset(pd.DataFrame({"Label": ["ham", "spam", "spam"], "Text": list("abc")}))


# --------------------------------------------------------------------------- divisão

def test_split_sizes_and_reproducibility(real_df):
    balanced = create_balanced_dataset(real_df)
    splits = random_split(balanced, 0.7, 0.1)
    assert [len(s) for s in splits] == [1045, 149, 300]
    assert pd.concat(splits)["Text"].sort_values().tolist() == balanced["Text"].sort_values().tolist()
    again = random_split(balanced, 0.7, 0.1)
    assert all(a.equals(b) for a, b in zip(splits, again))
    other = random_split(balanced, 0.7, 0.1, random_state=1)
    assert not splits[0].equals(other[0])


@pytest.mark.parametrize(
    "train_frac, val_frac, message",
    [
        (0, 0.1, "train_frac deve estar entre 0 e 1"),
        (-0.5, 0.1, "train_frac deve estar entre 0 e 1"),
        (1.2, 0.1, "train_frac deve estar entre 0 e 1"),
        (0.7, 0, "val_frac deve estar entre 0 e 1"),
        (0.9, 0.1, "deve ser menor que 1"),
        (0.8, 0.3, "deve ser menor que 1"),
    ],
)
def test_split_rejects_bad_fractions(train_frac, val_frac, message):
    df = pd.DataFrame({"Label": ["ham"] * 10, "Text": list("abcdefghij")})
    with pytest.raises(ValueError, match=message):
        random_split(df, train_frac, val_frac)


def test_split_accepts_the_lecture_call_and_val_frac(real_df):
    balanced = create_balanced_dataset(real_df)
    positional = random_split(balanced, 0.7, 0.1)  # a chamada da aula
    by_name = random_split(balanced, train_frac=0.7, val_frac=0.1)
    assert all(a.equals(b) for a, b in zip(positional, by_name))


# --------------------------------------------------------------------------- rótulos

def test_encode_labels():
    df = pd.DataFrame({"Label": ["ham", "spam", "ham"], "Text": ["a", "b", "c"]})
    encoded = encode_labels(df)
    assert encoded["Label"].tolist() == [0, 1, 0]
    assert df["Label"].tolist() == ["ham", "spam", "ham"]  # devolve uma cópia
    assert encode_labels(encoded).equals(encoded)  # idempotente
    assert LABELS == {"ham": 0, "spam": 1} and CLASS_NAMES == ("not spam", "spam")


def test_encode_labels_rejects_unknown():
    with pytest.raises(ValueError, match=r"Rótulos desconhecidos na coluna Label: \['2', 'eggs'\]"):
        encode_labels(pd.DataFrame({"Label": ["ham", "eggs", 2]}))
    with pytest.raises(ValueError, match="não tem as colunas"):
        encode_labels(pd.DataFrame({"Texto": ["a"]}))


# --------------------------------------------------------------------------- CSVs e preparo completo

def test_save_and_load_splits_roundtrip(tmp_path, real_df):
    splits = random_split(encode_labels(create_balanced_dataset(real_df)), 0.7, 0.1)
    paths = save_splits(*splits, directory=tmp_path / "csv")
    assert [p.name for p in paths] == ["train.csv", "validation.csv", "test.csv"]
    for split_df, path in zip(splits, paths):
        loaded = load_split(path)
        assert loaded["Text"].tolist() == split_df["Text"].tolist()
        assert loaded["Label"].tolist() == split_df["Label"].tolist()


def test_load_split_requires_columns(tmp_path):
    path = tmp_path / "ruim.csv"
    pd.DataFrame({"texto": ["a"], "Label": [0]}).to_csv(path, index=None)
    with pytest.raises(ValueError, match=r"ruim.csv não parece.*\['Text'\]"):
        load_split(path)


def test_prepare_spam_splits(tmp_path, spam_zip, real_df):
    train, val, test = prepare_spam_splits(tmp_path / "data", url=spam_zip)
    assert [len(train), len(val), len(test)] == [1045, 149, 300]
    assert set(train["Label"]) == {0, 1}
    expected = random_split(encode_labels(create_balanced_dataset(real_df)), 0.7, 0.1)
    assert all(a.equals(b) for a, b in zip((train, val, test), expected))
    assert load_split(tmp_path / "data" / "test.csv")["Text"].tolist() == test["Text"].tolist()


def test_prepare_spam_splits_deduplicated_uses_env_zip(tmp_path, spam_zip, monkeypatch):
    monkeypatch.setenv(SPAM_ZIP_ENV_VAR, str(spam_zip))
    train, val, test = prepare_spam_splits(tmp_path / "data", deduplicate=True)
    assert [len(train), len(val), len(test)] == [914, 130, 262]
    assert count_shared_messages(train, test) == 0
    assert (tmp_path / "data" / "sms_spam_collection" / "SMSSpamCollection.tsv").is_file()
