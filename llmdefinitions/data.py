"""O dataset SMS Spam Collection: download, leitura correta, balanceamento e divisão.

O arquivo original tem uma mensagem por linha, no formato `rótulo<TAB>texto`, em UTF-8 e
sem aspas delimitando campos. Ler com as opções padrão do pandas junta linhas que contêm
aspas (`"`); por isso `load_sms_spam` desliga o tratamento de aspas (`csv.QUOTE_NONE`).
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import os
import tempfile
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from .progress import tqdm

__all__ = [
    "CLASS_NAMES",
    "LABELS",
    "SMS_SPAM_SHA256",
    "SPAM_DATA_BACKUP_URL",
    "SPAM_DATA_URL",
    "SPAM_ZIP_ENV_VAR",
    "DataDownloadError",
    "DataIntegrityError",
    "count_duplicate_messages",
    "count_shared_messages",
    "create_balanced_dataset",
    "download_and_unzip_spam_data",
    "drop_duplicate_messages",
    "encode_labels",
    "load_sms_spam",
    "load_sms_spam_naive",
    "load_split",
    "prepare_spam_splits",
    "random_split",
    "save_splits",
    "split_spam_frame",
]

SPAM_DATA_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
SPAM_DATA_BACKUP_URL = "https://f001.backblazeb2.com/file/LLMs-from-scratch/sms%2Bspam%2Bcollection.zip"
SPAM_DATA_PAGE = "https://archive.ics.uci.edu/dataset/228/sms+spam+collection"
SPAM_ZIP_ENV_VAR = "LLMDEFINITIONS_SPAM_ZIP"  # caminho de um zip já baixado à mão

SMS_SPAM_SHA256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
DATA_MEMBER = "SMSSpamCollection"  # o arquivo de dados dentro do zip
README_MEMBER = "readme"

LABELS = {"ham": 0, "spam": 1}
CLASS_NAMES = ("not spam", "spam")  # nome legível de cada classe, na ordem 0, 1

_CHUNK_SIZE = 64 * 1024
_TIMEOUT_SECONDS = 60


class DataDownloadError(RuntimeError):
    """Não foi possível baixar o zip do dataset (sem internet, site fora do ar...)."""


class DataIntegrityError(RuntimeError):
    """Um arquivo do dataset existe, mas está corrompido, incompleto ou foi alterado."""


# --------------------------------------------------------------------------- download

def _sha256_of_file(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _sources_to_try(url: str | os.PathLike) -> list[str | os.PathLike]:
    """Endereços a tentar, em ordem.

    Só a URL padrão ganha alternativas: o zip local indicado em `LLMDEFINITIONS_SPAM_ZIP`
    (se a variável existir) ou, senão, o endereço reserva depois do oficial.
    """
    if url != SPAM_DATA_URL:
        return [url]
    local_zip = os.environ.get(SPAM_ZIP_ENV_VAR)
    if local_zip:
        return [local_zip]
    return [SPAM_DATA_URL, SPAM_DATA_BACKUP_URL]


def _as_url(source: str | os.PathLike) -> str:
    """Aceita URL http(s)/file ou caminho local; caminhos viram URLs `file://`."""
    source = os.fspath(source)
    if urllib.parse.urlsplit(source).scheme in ("http", "https", "file"):
        return source
    return Path(source).resolve().as_uri()


def _stream_to_file(response, file, description: str, progress: bool = True) -> None:
    """Copia a resposta em blocos para `file`, mostrando uma barra de progresso."""
    expected = int(response.headers.get("Content-Length") or 0) or None
    received = 0
    with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=description,
              disable=not progress) as bar:
        while chunk := response.read(_CHUNK_SIZE):
            file.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if expected is not None and received != expected:
        raise http.client.IncompleteRead(b"", expected - received)


def _download(url: str, zip_path: Path) -> None:
    """Baixa `url` para `zip_path` sem nunca deixar um zip pela metade com o nome final.

    Os bytes vão para um arquivo temporário na mesma pasta; só no fim ele é renomeado com
    `os.replace`, que é atômico. Se algo falhar no meio (rede, Ctrl+C), o temporário é apagado.
    """
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = tempfile.NamedTemporaryFile(
        dir=zip_path.parent, prefix=f".{zip_path.name}.", suffix=".part", delete=False
    )
    try:
        with temporary, urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            # Cópia de um arquivo local (ex.: LLMDEFINITIONS_SPAM_ZIP): instantânea, sem barra.
            _stream_to_file(response, temporary, zip_path.name, progress=not url.startswith("file:"))
        os.chmod(temporary.name, 0o644)  # o temporário nasce legível só pelo dono
        os.replace(temporary.name, zip_path)
    except BaseException:  # inclusive KeyboardInterrupt
        Path(temporary.name).unlink(missing_ok=True)
        raise


def _manual_download_help() -> str:
    return (
        f"Para continuar sem internet, baixe o zip à mão na página da UCI ({SPAM_DATA_PAGE}, "
        f"botão 'Download'), salve-o no computador e passe o caminho local como `url`, por "
        f'exemplo download_and_unzip_spam_data(url="/caminho/sms+spam+collection.zip"), ou '
        f"defina a variável de ambiente {SPAM_ZIP_ENV_VAR} com esse caminho."
    )


def _download_first_available(sources: list[str | os.PathLike], zip_path: Path) -> None:
    """Tenta cada endereço até um funcionar; se todos falharem, explica o que fazer."""
    failures = []
    for source in sources:
        try:
            _download(_as_url(source), zip_path)
            return
        except (OSError, http.client.HTTPException, ValueError) as err:
            failures.append((source, err))
    attempts = "\n".join(f"  - {source}: {type(err).__name__}: {err}" for source, err in failures)
    raise DataDownloadError(
        f"Não foi possível baixar o SMS Spam Collection. Tentativas:\n{attempts}\n"
        f"{_manual_download_help()}"
    ) from failures[-1][1]


# --------------------------------------------------------------------------- extração

def _unzip_into(zip_path: Path, staging: Path) -> str | None:
    """Extrai os membros conhecidos do zip para `staging`.

    Devolve `None` se deu certo, ou uma descrição do problema (zip corrompido, incompleto
    ou sem o arquivo de dados).
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
            if DATA_MEMBER not in names:
                return f"não contém o arquivo {DATA_MEMBER}"
            for member in (DATA_MEMBER, README_MEMBER):
                if member in names:
                    archive.extract(member, staging)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def _quarantine_zip(zip_path: Path, problem: str) -> DataIntegrityError:
    """Tira o zip ruim do caminho (a próxima chamada baixa de novo) e monta o erro."""
    quarantined = zip_path.with_name(zip_path.name + ".corrompido")
    os.replace(zip_path, quarantined)
    return DataIntegrityError(
        f"O zip {zip_path} está corrompido ou incompleto ({problem}). Ele foi renomeado para "
        f"{quarantined}: apague esse arquivo e execute a função de novo para baixar o zip outra vez."
    )


def _extract_verified(zip_path: Path, data_file_path: Path) -> None:
    """Extrai o arquivo de dados (e o `readme`) e confere o sha256 antes de publicá-lo.

    Tudo é extraído numa pasta temporária ao lado do destino, apagada no fim aconteça o
    que acontecer. O arquivo de dados só ganha o nome final (com `os.replace`, atômico)
    depois de conferido, e por último: a existência dele significa "dataset pronto".
    """
    data_file_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_file_path.parent, prefix=".extraindo-") as staging:
        staging = Path(staging)
        problem = _unzip_into(zip_path, staging)
        if problem is None:
            digest = _sha256_of_file(staging / DATA_MEMBER)
            if digest != SMS_SPAM_SHA256:
                problem = f"{DATA_MEMBER} tem sha256 {digest}, esperado {SMS_SPAM_SHA256}"
        if problem is not None:
            raise _quarantine_zip(zip_path, problem)
        if (staging / README_MEMBER).exists():
            os.replace(staging / README_MEMBER, data_file_path.parent / README_MEMBER)
        os.replace(staging / DATA_MEMBER, data_file_path)


def _check_existing_data_file(data_file_path: Path) -> None:
    """Confere um arquivo de dados que já existe; nunca o sobrescreve."""
    digest = _sha256_of_file(data_file_path)
    if digest != SMS_SPAM_SHA256:
        raise DataIntegrityError(
            f"O arquivo {data_file_path} já existe, mas está corrompido ou foi alterado "
            f"(sha256 {digest}, esperado {SMS_SPAM_SHA256}). Ele não foi sobrescrito: "
            "apague-o e execute a função de novo para baixar e extrair o dataset outra vez."
        )


def download_and_unzip_spam_data(
    url: str | os.PathLike = SPAM_DATA_URL,
    zip_path: str | os.PathLike = "sms_spam_collection.zip",
    extracted_path: str | os.PathLike = "sms_spam_collection",
    data_file_path: str | os.PathLike | None = None,
) -> Path:
    """Garante o SMS Spam Collection em `data_file_path` e devolve esse caminho.

    `url` pode ser uma URL http(s), uma URL `file://` ou o caminho de um zip local. Com a
    URL padrão, um endereço reserva é tentado se o primeiro falhar, e a variável de ambiente
    `LLMDEFINITIONS_SPAM_ZIP` (caminho de um zip baixado à mão) tem prioridade.
    Se o arquivo de dados já existe e o sha256 confere, nada é baixado. Um zip que já está
    em `zip_path` é reaproveitado.
    """
    zip_path = Path(zip_path)
    if data_file_path is None:
        data_file_path = Path(extracted_path) / f"{DATA_MEMBER}.tsv"
    data_file_path = Path(data_file_path)

    if data_file_path.exists():
        _check_existing_data_file(data_file_path)
        print(f"{data_file_path} já existe e está íntegro (sha256 conferido). Download ignorado.")
        return data_file_path
    if zip_path.exists():
        print(f"Reaproveitando o zip {zip_path}, que já está no disco.")
    else:
        _download_first_available(_sources_to_try(url), zip_path)
    _extract_verified(zip_path, data_file_path)
    print(f"Arquivo extraído, conferido (sha256) e salvo como {data_file_path}")
    return data_file_path


# --------------------------------------------------------------------------- leitura

COLUMNS = ["Label", "Text"]
_MAX_LISTED = 10  # quantos números de linha mostrar numa mensagem de erro


def _describe_lines(line_numbers: list[int]) -> str:
    shown = ", ".join(str(number) for number in line_numbers[:_MAX_LISTED])
    hidden = len(line_numbers) - _MAX_LISTED
    return shown + (f" e mais {hidden}" if hidden > 0 else "")


def _read_lines(data_file_path: Path) -> list[str]:
    try:
        text = data_file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{data_file_path} não está em UTF-8 ({err}).") from err
    return text.removesuffix("\n").split("\n")


def _check_one_tab_per_line(lines: list[str], data_file_path: Path) -> None:
    bad = [number for number, line in enumerate(lines, start=1) if line.count("\t") != 1]
    if bad:
        raise ValueError(
            f"Em {data_file_path}, cada linha deve ter exatamente um TAB separando rótulo e "
            f"texto, mas estas linhas não têm: {_describe_lines(bad)}."
        )


def _check_labels_and_texts(df: pd.DataFrame, data_file_path: Path) -> None:
    """Confere rótulos e textos; a linha do arquivo é a posição da linha no DataFrame + 1."""
    unknown = ~df["Label"].isin(list(LABELS))
    if unknown.any():
        labels = sorted(set(df.loc[unknown, "Label"]))
        lines = [position + 1 for position in unknown.to_numpy().nonzero()[0]]
        raise ValueError(
            f"Rótulos desconhecidos em {data_file_path}: {labels} (linhas "
            f"{_describe_lines(lines)}). Os únicos rótulos válidos são {list(LABELS)}."
        )
    empty = df["Text"].str.strip() == ""
    if empty.any():
        lines = [position + 1 for position in empty.to_numpy().nonzero()[0]]
        raise ValueError(f"Mensagens vazias em {data_file_path}, nas linhas {_describe_lines(lines)}.")


def load_sms_spam(data_file_path: str | os.PathLike) -> pd.DataFrame:
    """Lê o arquivo `rótulo<TAB>texto` num DataFrame com as colunas `Label` e `Text`.

    A forma correta: `quoting=csv.QUOTE_NONE` faz o pandas tratar `"` como um caractere
    qualquer (o arquivo não usa aspas para delimitar campos), e `keep_default_na=False`
    impede que um texto como "NA" vire valor ausente. Resultado no arquivo original:
    5.574 linhas, 4.827 ham e 747 spam.
    """
    data_file_path = Path(data_file_path)
    lines = _read_lines(data_file_path)
    _check_one_tab_per_line(lines, data_file_path)
    df = pd.read_csv(
        io.StringIO("\n".join(lines)),
        sep="\t",
        header=None,
        names=COLUMNS,
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
    )
    if len(df) != len(lines):  # salvaguarda: uma linha do arquivo = uma linha da tabela
        raise ValueError(
            f"{data_file_path} tem {len(lines)} linhas, mas a leitura produziu {len(df)} linhas."
        )
    _check_labels_and_texts(df, data_file_path)
    return df


def load_sms_spam_naive(data_file_path: str | os.PathLike) -> pd.DataFrame:
    """A forma ERRADA (mas comum) de ler o arquivo, mantida só para comparação no curso.

    Com as opções padrão, o pandas trata `"` como delimitador de campo: quando uma mensagem
    começa com aspas, o campo só termina na próxima aspa, e linhas vizinhas se fundem numa
    só. No arquivo original isso dá 5.572 linhas (4.825 ham) em vez de 5.574 (4.827 ham).
    """
    return pd.read_csv(data_file_path, sep="\t", header=None, names=COLUMNS)


# --------------------------------------------------------------------------- duplicatas

def _require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise ValueError(
            f"O DataFrame não tem as colunas {missing}; são necessárias {columns} "
            f"(colunas encontradas: {list(df.columns)})."
        )


def count_duplicate_messages(df: pd.DataFrame) -> int:
    """Quantas linhas repetem exatamente (mesmo `Text` e mesmo `Label`) uma linha anterior."""
    _require_columns(df, COLUMNS)
    return int(df.duplicated(subset=["Text", "Label"]).sum())


def drop_duplicate_messages(df: pd.DataFrame) -> pd.DataFrame:
    """Remove as cópias exatas de (`Text`, `Label`), mantendo a primeira ocorrência.

    O arquivo original tem mensagens repetidas; sem esta limpeza, uma divisão aleatória
    pode pôr a mesma mensagem no treino e no teste, e a acurácia de teste fica otimista.
    Quantas linhas saem: `count_duplicate_messages(df)`.
    """
    _require_columns(df, COLUMNS)
    return df.drop_duplicates(subset=["Text", "Label"])


def _message_pairs(df: pd.DataFrame) -> set[tuple]:
    _require_columns(df, COLUMNS)
    return set(zip(df["Text"], df["Label"]))


def count_shared_messages(first_df: pd.DataFrame, second_df: pd.DataFrame) -> int:
    """Quantos pares distintos (`Text`, `Label`) aparecem nos dois DataFrames (ex.: treino e teste)."""
    return len(_message_pairs(first_df) & _message_pairs(second_df))


# --------------------------------------------------------------------------- balanceamento e divisão

def create_balanced_dataset(df: pd.DataFrame, random_state: int = 123) -> pd.DataFrame:
    """Subamostra as mensagens "ham" até ficarem tantas quanto as "spam".

    O sorteio usa `random_state`, então o resultado é sempre o mesmo. As linhas "ham"
    sorteadas vêm primeiro, seguidas de todas as "spam".
    """
    _require_columns(df, COLUMNS)
    ham = df[df["Label"] == "ham"]
    spam = df[df["Label"] == "spam"]
    for name, subset in (("ham", ham), ("spam", spam)):
        if subset.empty:
            raise ValueError(f'Não há nenhuma mensagem com rótulo "{name}": impossível balancear.')
    if len(ham) < len(spam):
        raise ValueError(
            f"Há menos mensagens ham ({len(ham)}) do que spam ({len(spam)}); esta função só "
            "reduz a classe ham."
        )
    ham_subset = ham.sample(len(spam), random_state=random_state)
    return pd.concat([ham_subset, spam])


def _check_fractions(train_frac: float, validation_frac: float) -> None:
    for name, value in (("train_frac", train_frac), ("validation_frac", validation_frac)):
        if not 0 < value < 1:
            raise ValueError(f"{name} deve estar entre 0 e 1 (exclusive), mas é {value!r}.")
    if train_frac + validation_frac >= 1:
        raise ValueError(
            f"train_frac + validation_frac deve ser menor que 1 para sobrar dados de teste, "
            f"mas é {train_frac} + {validation_frac} = {train_frac + validation_frac}."
        )


def random_split(
    df: pd.DataFrame, train_frac: float, validation_frac: float, random_state: int = 123
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Embaralha `df` (com semente) e o divide em treino, validação e teste.

    Treino = as primeiras `int(n * train_frac)` linhas, validação = as `int(n * validation_frac)`
    seguintes, teste = o resto. Ex.: 1.494 linhas com 0.7 e 0.1 -> 1.045 / 149 / 300.
    """
    _check_fractions(train_frac, validation_frac)
    shuffled = df.sample(frac=1, random_state=random_state).reset_index(drop=True)
    train_end = int(len(shuffled) * train_frac)
    validation_end = train_end + int(len(shuffled) * validation_frac)
    return (
        shuffled.iloc[:train_end],
        shuffled.iloc[train_end:validation_end],
        shuffled.iloc[validation_end:],
    )


def encode_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Cópia de `df` com `Label` numérico: "ham" -> 0, "spam" -> 1 (0 e 1 ficam como estão)."""
    _require_columns(df, ["Label"])
    accepted = {**LABELS, **{number: number for number in LABELS.values()}}
    unknown = sorted({str(label) for label in df["Label"] if label not in accepted})
    if unknown:
        raise ValueError(
            f"Rótulos desconhecidos na coluna Label: {unknown}. Aceitos: {list(accepted)}."
        )
    encoded = df.copy()
    encoded["Label"] = encoded["Label"].map(accepted).astype("int64")
    return encoded


# --------------------------------------------------------------------------- CSVs

SPLIT_NAMES = ("train", "validation", "test")


def save_splits(
    train_df: pd.DataFrame,
    validation_df: pd.DataFrame,
    test_df: pd.DataFrame,
    directory: str | os.PathLike = ".",
) -> tuple[Path, Path, Path]:
    """Grava train.csv, validation.csv e test.csv em `directory` e devolve os três caminhos."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = tuple(directory / f"{name}.csv" for name in SPLIT_NAMES)
    for split_df, path in zip((train_df, validation_df, test_df), paths):
        split_df.to_csv(path, index=None)
    return paths


def load_split(path: str | os.PathLike) -> pd.DataFrame:
    """Lê um CSV gravado por `save_splits`, conferindo as colunas `Text` e `Label`."""
    df = pd.read_csv(path, dtype={"Text": str}, keep_default_na=False)
    try:
        _require_columns(df, ["Text", "Label"])
    except ValueError as err:
        raise ValueError(f"{path} não parece um CSV de divisão do dataset: {err}") from err
    return df


def prepare_spam_splits(
    directory: str | os.PathLike = "data",
    url: str | os.PathLike = SPAM_DATA_URL,
    deduplicate: bool = False,
    random_state: int = 123,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Faz todo o preparo de uma vez e devolve `(train_df, validation_df, test_df)`.

    Baixa (ou reaproveita) o dataset em `directory`, lê do jeito certo, remove duplicatas
    se `deduplicate=True`, balanceia, converte os rótulos para 0/1, divide em 70% / 10% /
    20% e grava os três CSVs em `directory`.
    """
    directory = Path(directory)
    data_file_path = download_and_unzip_spam_data(
        url=url,
        zip_path=directory / "sms_spam_collection.zip",
        extracted_path=directory / "sms_spam_collection",
    )
    return split_spam_frame(load_sms_spam(data_file_path), directory, deduplicate, random_state)


def split_spam_frame(
    df: pd.DataFrame,
    directory: str | os.PathLike = "data",
    deduplicate: bool = False,
    random_state: int = 123,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A partir de um DataFrame lido: (remove duplicatas), balanceia, codifica, divide e salva."""
    if deduplicate:
        print(f"Removendo {count_duplicate_messages(df)} mensagens duplicadas.")
        df = drop_duplicate_messages(df)
    balanced_df = encode_labels(create_balanced_dataset(df, random_state=random_state))
    splits = random_split(balanced_df, 0.7, 0.1, random_state=random_state)
    save_splits(*splits, directory=directory)
    return splits
