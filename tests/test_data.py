"""Testes de llmdefinitions.data: download verificado, leitura, duplicatas, balanceamento e divisão.

Rodam sem internet: o zip real vem do espelho local em ../shared/data (relativo à raiz do
repositório; fixture `spam_zip` do conftest) e os casos de erro usam arquivos sintéticos em
`tmp_path`.
"""

import hashlib
import io
import socket
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from llmdefinitions.data import (
    CLASS_NAMES,
    LABELS,
    SMS_SPAM_SHA256,
    SPAM_DATA_BACKUP_URL,
    SPAM_DATA_URL,
    SPAM_ZIP_ENV_VAR,
    DataDownloadError,
    DataIntegrityError,
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


def refuse_network(*args, **kwargs):
    raise AssertionError("acesso à rede não era esperado")


@pytest.fixture
def no_network(monkeypatch):
    """Qualquer tentativa de abrir uma URL faz o teste falhar."""
    monkeypatch.setattr(urllib.request, "urlopen", refuse_network)


def paths_in(tmp_path):
    return {"zip_path": tmp_path / "sms.zip", "extracted_path": tmp_path / "sms"}


def all_files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def make_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/sms.zip"


class FakeResponse:
    """Imita a resposta do urlopen; `fail_with` é levantado depois do primeiro bloco."""

    def __init__(self, content: bytes, fail_with=None, declared_size=None):
        self.stream = io.BytesIO(content)
        self.fail_with = fail_with
        self.headers = {"Content-Length": str(declared_size or len(content))}
        self.blocks_read = 0

    def read(self, size=-1):
        if self.fail_with is not None and self.blocks_read == 1:
            raise self.fail_with
        self.blocks_read += 1
        return self.stream.read(min(size, 1000))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------- download e extração

def test_download_extracts_and_verifies(tmp_path, spam_zip):
    path = download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path))
    assert path == tmp_path / "sms" / "SMSSpamCollection.tsv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SMS_SPAM_SHA256
    # só os arquivos finais: nenhum temporário (.part, .extraindo-*) sobra
    assert all_files(tmp_path) == ["sms.zip", "sms/SMSSpamCollection.tsv", "sms/readme"]


def test_custom_data_file_path(tmp_path, spam_zip):
    target = tmp_path / "outra" / "dados.tsv"
    path = download_and_unzip_spam_data(spam_zip, tmp_path / "z.zip", tmp_path / "x", target)
    assert path == target and target.is_file() and (target.parent / "readme").is_file()


def test_second_call_does_not_download(tmp_path, spam_zip, monkeypatch, capsys):
    first = download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path))
    (tmp_path / "sms.zip").unlink()  # nem o zip é necessário numa segunda chamada
    monkeypatch.setattr(urllib.request, "urlopen", refuse_network)
    capsys.readouterr()
    assert download_and_unzip_spam_data(SPAM_DATA_URL, **paths_in(tmp_path)) == first
    assert "já existe" in capsys.readouterr().out


def test_file_url_works(tmp_path, spam_zip):
    path = download_and_unzip_spam_data(spam_zip.as_uri(), **paths_in(tmp_path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SMS_SPAM_SHA256


def test_env_var_replaces_default_url(tmp_path, spam_zip, monkeypatch):
    monkeypatch.setenv(SPAM_ZIP_ENV_VAR, str(spam_zip))
    path = download_and_unzip_spam_data(**paths_in(tmp_path))
    assert path.is_file()


def test_backup_url_is_tried_when_primary_fails(tmp_path, spam_zip, monkeypatch):
    real_urlopen = urllib.request.urlopen
    requested = []

    def fake_urlopen(url, *args, **kwargs):
        requested.append(url)
        if url == SPAM_DATA_URL:
            raise urllib.error.URLError("site fora do ar")
        return real_urlopen(spam_zip.as_uri())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    assert download_and_unzip_spam_data(**paths_in(tmp_path)).is_file()
    assert requested == [SPAM_DATA_URL, SPAM_DATA_BACKUP_URL]


def test_offline_gives_help_and_leaves_nothing(tmp_path):
    with pytest.raises(DataDownloadError) as info:
        download_and_unzip_spam_data(closed_port_url(), **paths_in(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "Não foi possível baixar" in message and "UCI" in message
    assert SPAM_ZIP_ENV_VAR in message and "url" in message
    assert "URLError" in message  # o erro original aparece na mensagem...
    assert info.value.__cause__ is not None  # ...e fica encadeado
    assert all_files(tmp_path) == []


def test_offline_with_default_url_lists_both_attempts(tmp_path, monkeypatch):
    def unreachable(url, *args, **kwargs):
        raise urllib.error.URLError("sem rede")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(DataDownloadError) as info:
        download_and_unzip_spam_data(**paths_in(tmp_path))
    assert SPAM_DATA_URL in str(info.value) and SPAM_DATA_BACKUP_URL in str(info.value)
    assert all_files(tmp_path) == []


def test_missing_local_zip_is_a_download_error(tmp_path):
    with pytest.raises(DataDownloadError, match="não_existe.zip"):
        download_and_unzip_spam_data(tmp_path / "não_existe.zip", **paths_in(tmp_path))


@pytest.mark.parametrize(
    "failure, expected",
    [(ConnectionResetError("conexão caiu"), DataDownloadError), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_interrupted_download_leaves_nothing(tmp_path, spam_zip, monkeypatch, failure, expected):
    content = spam_zip.read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(content, failure))
    with pytest.raises(expected):
        download_and_unzip_spam_data(SPAM_DATA_URL, **paths_in(tmp_path))
    assert all_files(tmp_path) == []  # nada pela metade que a próxima chamada aceitaria

    monkeypatch.undo()
    assert download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path)).is_file()


def test_download_shorter_than_announced_is_rejected(tmp_path, spam_zip, monkeypatch):
    content = spam_zip.read_bytes()
    short = FakeResponse(content[:5000], declared_size=len(content))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: short)
    with pytest.raises(DataDownloadError, match="IncompleteRead"):
        download_and_unzip_spam_data("https://exemplo.invalid/sms.zip", **paths_in(tmp_path))
    assert all_files(tmp_path) == []


def test_leftover_temporary_file_is_ignored(tmp_path, spam_zip):
    """Simula um processo morto no meio do download: sobra um .part, que é ignorado."""
    leftover = tmp_path / ".sms.zip.abc123.part"
    leftover.write_bytes(spam_zip.read_bytes()[:1000])
    path = download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SMS_SPAM_SHA256


def assert_zip_quarantined(tmp_path):
    assert not (tmp_path / "sms.zip").exists()  # a próxima chamada baixa de novo
    assert (tmp_path / "sms.zip.corrompido").is_file()
    assert not (tmp_path / "sms" / "SMSSpamCollection.tsv").exists()
    assert [p.name for p in (tmp_path / "sms").iterdir()] == []  # nenhuma pasta temporária


def test_truncated_zip_is_quarantined_and_retry_works(tmp_path, spam_zip):
    truncated = tmp_path / "origem" / "truncado.zip"
    truncated.parent.mkdir()
    truncated.write_bytes(spam_zip.read_bytes()[:100_000])
    with pytest.raises(DataIntegrityError, match="corrompido") as info:
        download_and_unzip_spam_data(truncated, **paths_in(tmp_path))
    assert "apague" in str(info.value) and "BadZipFile" in str(info.value)
    assert_zip_quarantined(tmp_path)
    assert truncated.is_file()  # o arquivo de origem do usuário não é mexido

    path = download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SMS_SPAM_SHA256


def test_zip_with_damaged_bytes_is_quarantined(tmp_path):
    content = b"ham\tmensagem de teste\n" * 200
    source = make_zip(tmp_path / "origem.zip", {"SMSSpamCollection": content}, zipfile.ZIP_STORED)
    damaged = bytearray(source.read_bytes())
    position = damaged.index(content[:20]) + 100
    damaged[position] ^= 0xFF  # um byte trocado no meio dos dados: CRC não confere
    source.write_bytes(damaged)
    with pytest.raises(DataIntegrityError, match="CRC"):
        download_and_unzip_spam_data(source, **paths_in(tmp_path))
    assert_zip_quarantined(tmp_path)


def test_zip_without_data_member(tmp_path):
    source = make_zip(tmp_path / "origem.zip", {"outro.txt": b"nada"})
    with pytest.raises(DataIntegrityError, match="não contém o arquivo SMSSpamCollection"):
        download_and_unzip_spam_data(source, **paths_in(tmp_path))
    assert_zip_quarantined(tmp_path)


def test_zip_with_unexpected_content(tmp_path):
    source = make_zip(tmp_path / "origem.zip", {"SMSSpamCollection": b"ham\toi\n", "readme": b"x"})
    with pytest.raises(DataIntegrityError, match="sha256"):
        download_and_unzip_spam_data(source, **paths_in(tmp_path))
    assert_zip_quarantined(tmp_path)


def test_existing_data_file_with_wrong_hash_is_not_overwritten(tmp_path, no_network):
    data_file = tmp_path / "sms" / "SMSSpamCollection.tsv"
    data_file.parent.mkdir()
    data_file.write_text("ham\teditado pelo usuário\n", encoding="utf-8")
    with pytest.raises(DataIntegrityError) as info:
        download_and_unzip_spam_data(**paths_in(tmp_path))
    message = str(info.value)
    assert str(data_file) in message and "corrompido ou foi alterado" in message
    assert "apague-o" in message
    assert data_file.read_text(encoding="utf-8") == "ham\teditado pelo usuário\n"


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
    "train_frac, validation_frac, message",
    [
        (0, 0.1, "train_frac deve estar entre 0 e 1"),
        (-0.5, 0.1, "train_frac deve estar entre 0 e 1"),
        (1.2, 0.1, "train_frac deve estar entre 0 e 1"),
        (0.7, 0, "validation_frac deve estar entre 0 e 1"),
        (0.9, 0.1, "deve ser menor que 1"),
        (0.8, 0.3, "deve ser menor que 1"),
    ],
)
def test_split_rejects_bad_fractions(train_frac, validation_frac, message):
    df = pd.DataFrame({"Label": ["ham"] * 10, "Text": list("abcdefghij")})
    with pytest.raises(ValueError, match=message):
        random_split(df, train_frac, validation_frac)


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
    train, validation, test = prepare_spam_splits(tmp_path / "data", url=spam_zip)
    assert [len(train), len(validation), len(test)] == [1045, 149, 300]
    assert set(train["Label"]) == {0, 1}
    expected = random_split(encode_labels(create_balanced_dataset(real_df)), 0.7, 0.1)
    assert all(a.equals(b) for a, b in zip((train, validation, test), expected))
    assert load_split(tmp_path / "data" / "test.csv")["Text"].tolist() == test["Text"].tolist()


def test_prepare_spam_splits_deduplicated_uses_env_zip(tmp_path, spam_zip, monkeypatch):
    monkeypatch.setenv(SPAM_ZIP_ENV_VAR, str(spam_zip))
    train, validation, test = prepare_spam_splits(tmp_path / "data", deduplicate=True)
    assert [len(train), len(validation), len(test)] == [914, 130, 262]
    assert count_shared_messages(train, test) == 0
    assert (tmp_path / "data" / "sms_spam_collection" / "SMSSpamCollection.tsv").is_file()
