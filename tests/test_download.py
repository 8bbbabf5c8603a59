"""Testes de llmdefinitions.download: download atômico, endereços alternativos, sha256 e quarentena.

Rodam sem internet: o zip real vem do espelho local em ../shared/data (relativo à raiz do
repositório; fixture `spam_zip` do conftest), os casos de erro usam arquivos sintéticos em
`tmp_path` e a rede é simulada trocando `urllib.request.urlopen`. Os testes do Hugging Face Hub
(`offline_reason`, `hub_download`) estão em test_weights.py e test_offline.py.
"""

import hashlib
import io
import socket
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from llmdefinitions.data import (
    SMS_SPAM_SHA256,
    SPAM_DATA_BACKUP_URL,
    SPAM_DATA_URL,
    SPAM_ZIP_ENV_VAR,
    download_and_unzip_spam_data,
)
from llmdefinitions.download import DataDownloadError, DataIntegrityError, sha256_of_file


@pytest.fixture(autouse=True)
def _without_env_zip(monkeypatch):
    """A variável de ambiente do usuário não pode mudar o resultado dos testes."""
    monkeypatch.delenv(SPAM_ZIP_ENV_VAR, raising=False)


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


# --------------------------------------------------------------------------- sha256

def test_sha256_of_file(tmp_path, spam_zip):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert sha256_of_file(path) == hashlib.sha256(b"abc").hexdigest()
    data_file = download_and_unzip_spam_data(spam_zip, **paths_in(tmp_path))
    assert sha256_of_file(data_file) == SMS_SPAM_SHA256
