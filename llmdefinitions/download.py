"""Baixar arquivos com segurança: endereços alternativos, barra de progresso, sha256 e quarentena.

Um só lugar para as duas coisas que o curso baixa da internet:
- o zip do SMS Spam Collection (`data.download_and_unzip_spam_data`): `download_first_available`
  tenta cada endereço, `download_file` grava os bytes sem deixar arquivo pela metade e
  `extract_verified` extrai e confere a impressão digital (sha256), pondo um zip ruim de quarentena;
- os pesos do GPT-2 (`weights.download_and_load_gpt2`): `download_from_hub` testa a rede antes
  (`offline_reason`) e baixa do Hugging Face Hub (`hub_download`).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import socket
import tempfile
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path

from .progress import tqdm

__all__ = [
    "DataDownloadError",
    "DataIntegrityError",
    "GPT2DownloadError",
    "download_file",
    "download_first_available",
    "download_from_hub",
    "extract_verified",
    "hub_download",
    "offline_reason",
    "sha256_of_file",
]

_CHUNK_SIZE = 64 * 1024
_TIMEOUT_SECONDS = 60
_OFFLINE_VALUES = {"1", "true", "yes", "on"}
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class DataDownloadError(RuntimeError):
    """Não foi possível baixar o zip do conjunto de dados (sem internet, site fora do ar...).

    Ensinado no Notebook 1, §1.1.
    """


class DataIntegrityError(RuntimeError):
    """Um arquivo de dados existe, mas está corrompido, incompleto ou foi alterado.

    Ensinado no Notebook 1, §1.1.
    """


class GPT2DownloadError(RuntimeError):
    """Os arquivos do GPT-2 não estão na pasta e não puderam ser baixados (Notebook 2, §2.2).

    `reason` resume a causa numa frase (para avisos curtos); a mensagem completa traz
    também o passo a passo para instalar os arquivos à mão.
    """

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


# --------------------------------------------------------------------------- sha256

def sha256_of_file(path: str | os.PathLike) -> str:
    """A impressão digital (sha256, em hexadecimal) de um arquivo: um byte diferente muda tudo.

    Ensinado no Notebook 1, §1.1.
    """
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# --------------------------------------------------------------------------- download de uma URL

def download_file(source: str | os.PathLike, path: Path) -> None:
    """Baixa `source` para `path` sem nunca deixar um arquivo pela metade com o nome final.

    `source` é uma URL http(s)/`file://` ou um caminho local (que vira URL `file://`). Os bytes
    vão, em blocos e com barra de progresso, para um arquivo temporário na mesma pasta; só no fim
    ele é renomeado com `os.replace`, que é atômico. Se algo falhar no meio (rede, Ctrl+C, menos
    bytes que o anunciado), o temporário é apagado. Ensinado no Notebook 1, §1.1.
    """
    url = os.fspath(source)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https", "file"):
        url = Path(url).resolve().as_uri()  # caminho local -> URL file://
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False)
    try:
        with temporary, urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            expected = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            # Cópia de um arquivo local (ex.: LLMDEFINITIONS_SPAM_ZIP): instantânea, sem barra.
            with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=path.name,
                      disable=url.startswith("file:")) as bar:
                while chunk := response.read(_CHUNK_SIZE):
                    temporary.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if expected is not None and received != expected:
                raise http.client.IncompleteRead(b"", expected - received)
        os.chmod(temporary.name, 0o644)  # o temporário nasce legível só pelo dono
        os.replace(temporary.name, path)
    except BaseException:  # inclusive KeyboardInterrupt
        Path(temporary.name).unlink(missing_ok=True)
        raise


def download_first_available(sources: list, path: Path, what: str, manual_help: str) -> None:
    """Tenta cada endereço de `sources`, em ordem, até um funcionar (Notebook 1, §1.1).

    Cada falha fica anotada. Se todas falharem, `DataDownloadError` lista as tentativas, cada
    uma com o seu motivo, e termina com `manual_help` (como obter `what` à mão).
    """
    failures = []
    for source in sources:
        try:
            download_file(source, path)
            return
        except (OSError, http.client.HTTPException, ValueError) as err:
            failures.append((source, err))
    attempts = "\n".join(f"  - {source}: {type(err).__name__}: {err}" for source, err in failures)
    raise DataDownloadError(
        f"Não foi possível baixar {what}. Tentativas:\n{attempts}\n{manual_help}"
    ) from failures[-1][1]


# --------------------------------------------------------------------------- extração conferida

def extract_verified(zip_path: Path, member: str, sha256: str, destination: Path, extras: tuple = ()) -> None:
    """Extrai `member` do zip para `destination`, conferindo o sha256 antes (Notebook 1, §1.1).

    Tudo é extraído numa pasta temporária ao lado do destino, apagada no fim aconteça o que
    acontecer. Um zip quebrado, sem `member` ou com o sha256 errado é posto de quarentena
    (renomeado para `.corrompido`: a próxima chamada baixa de novo) e a função para com
    `DataIntegrityError`. Os `extras` presentes (ex.: o `readme`) vão para a pasta do destino;
    `member` ganha o nome final por último: a existência dele significa "dados prontos".
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".extraindo-") as staging:
        staging, problem = Path(staging), None
        try:
            with zipfile.ZipFile(zip_path) as archive:
                names = archive.namelist()
                if member not in names:
                    problem = f"não contém o arquivo {member}"
                else:
                    for name in (member, *extras):
                        if name in names:
                            archive.extract(name, staging)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            problem = f"{type(err).__name__}: {err}"
        if problem is None and (digest := sha256_of_file(staging / member)) != sha256:
            problem = f"{member} tem sha256 {digest}, esperado {sha256}"
        if problem is not None:  # quarentena: o zip ruim sai do caminho
            quarantined = zip_path.with_name(zip_path.name + ".corrompido")
            os.replace(zip_path, quarantined)
            raise DataIntegrityError(
                f"O zip {zip_path} está corrompido ou incompleto ({problem}). Ele foi renomeado para "
                f"{quarantined}: apague esse arquivo e execute a função de novo para baixar o zip outra vez."
            )
        for name in extras:
            if (staging / name).exists():
                os.replace(staging / name, destination.parent / name)
        os.replace(staging / member, destination)


# --------------------------------------------------------------------------- Hugging Face Hub

def offline_reason(timeout_s: float = 1.0) -> str | None:
    """Por que não dá para baixar do Hugging Face agora (ou `None` se a rede parece disponível).

    Sem rede, o `huggingface_hub` tenta de novo cinco vezes (1+2+4+8+8 s) antes de desistir.
    Uma conexão de teste, limitada a `timeout_s`, descobre isso em menos de um segundo.
    Atrás de um proxy a conexão direta não diz nada: aí deixamos a biblioteca decidir.
    Ensinado no Notebook 2, §2.2.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES:
        return "HF_HUB_OFFLINE=1 está definida: nada é baixado do Hugging Face"
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return None
    url = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as err:
        return f"sem conexão com {url.hostname}:{port} ({err.strerror or err})"
    return None


def hub_download(repo_id: str, filename: str, target: Path) -> None:
    """Baixa um arquivo do Hugging Face Hub para `target` (Notebook 2, §2.2).

    O `huggingface_hub` mostra uma barra de progresso, grava num arquivo `.incomplete`
    (retomado numa próxima tentativa) e só renomeia para o nome final quando o download
    termina: um arquivo pela metade nunca aparece com o nome definitivo. Os avisos de
    "nova tentativa" ficam escondidos. Um espelho pode ser usado com a variável `HF_ENDPOINT`.
    """
    from huggingface_hub import hf_hub_download  # importado só quando há download

    logger = logging.getLogger("huggingface_hub")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        hf_hub_download(repo_id=repo_id, filename=filename, local_dir=target)
    finally:
        logger.setLevel(previous)


def download_from_hub(repo_id: str, filenames: list[str], target: Path, what: str, manual_help: str) -> None:
    """Baixa `filenames` do repositório `repo_id` do Hugging Face Hub para `target` (Notebook 2, §2.2).

    Antes de tudo, `offline_reason` testa a rede: sem conexão, desiste em cerca de um segundo.
    Qualquer falha vira `GPT2DownloadError`, com o motivo e `manual_help` (como instalar `what` à mão).
    """
    if filenames and (reason := offline_reason()):
        raise GPT2DownloadError(f"Não foi possível baixar {filenames[0]} {what}: {reason}. {manual_help}",
                                reason=reason)
    for filename in filenames:
        try:
            hub_download(repo_id, filename, target)
        except Exception as err:  # repositório fora do ar, disco cheio, rede caiu no meio...
            reason = f"{type(err).__name__}: {err}"
            raise GPT2DownloadError(f"Não foi possível baixar {filename} {what} ({reason}). {manual_help}",
                                    reason=reason) from err
