"""O conjunto de dados SMS Spam Collection: obter, ler do jeito certo, limpar, balancear e dividir.

A maquinaria de download e integridade (endereços alternativos, sha256, quarentena) mora em
`download.py`; aqui ficam os fatos deste conjunto de dados (URLs, sha256 esperado) e a lição.
O arquivo original tem uma mensagem por linha, no formato `rótulo<TAB>texto`, em UTF-8 e
sem aspas delimitando campos. Ler com as opções padrão do pandas junta linhas que contêm
aspas (`"`); por isso `load_sms_spam` desliga o tratamento de aspas (`csv.QUOTE_NONE`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from .download import (
    DataDownloadError,
    DataIntegrityError,
    download_first_available,
    extract_verified,
    sha256_of_file,
)

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
    "describe_line_numbers",
    "download_and_unzip_spam_data",
    "drop_duplicate_messages",
    "encode_labels",
    "load_sms_spam",
    "load_sms_spam_naive",
    "load_split",
    "prepare_spam_splits",
    "random_split",
    "require_columns",
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

_SPAM_MANUAL_HELP = (
    f"Para continuar sem internet, baixe o zip à mão na página da UCI ({SPAM_DATA_PAGE}, "
    f"botão 'Download'), salve-o no computador e passe o caminho local como `url`, por "
    f'exemplo download_and_unzip_spam_data(url="/caminho/sms+spam+collection.zip"), ou '
    f"defina a variável de ambiente {SPAM_ZIP_ENV_VAR} com esse caminho."
)


# --------------------------------------------------------------------------- download

def download_and_unzip_spam_data(
    url: str | os.PathLike = SPAM_DATA_URL,
    zip_path: str | os.PathLike = "sms_spam_collection.zip",
    extracted_path: str | os.PathLike = "sms_spam_collection",
    data_file_path: str | os.PathLike | None = None,
) -> Path:
    """Garante o SMS Spam Collection em `data_file_path` e devolve esse caminho (Notebook 1, §1.1).

    `url` pode ser uma URL http(s), uma URL `file://` ou o caminho de um zip local. Com a URL
    padrão, o zip indicado em `LLMDEFINITIONS_SPAM_ZIP` (baixado à mão) tem prioridade; sem ele,
    o endereço reserva é tentado se o oficial falhar. Se o arquivo de dados já existe e o sha256
    confere, nada é baixado. Um zip que já está em `zip_path` é reaproveitado.
    """
    zip_path = Path(zip_path)
    data_file_path = Path(extracted_path) / f"{DATA_MEMBER}.tsv" if data_file_path is None else Path(data_file_path)
    if data_file_path.exists():  # nunca sobrescrito: só conferido
        if (digest := sha256_of_file(data_file_path)) != SMS_SPAM_SHA256:
            raise DataIntegrityError(
                f"O arquivo {data_file_path} já existe, mas está corrompido ou foi alterado "
                f"(sha256 {digest}, esperado {SMS_SPAM_SHA256}). Ele não foi sobrescrito: "
                "apague-o e execute a função de novo para baixar e extrair o dataset outra vez."
            )
        print(f"{data_file_path} já existe e está íntegro (sha256 conferido). Download ignorado.")
        return data_file_path
    if zip_path.exists():
        print(f"Reaproveitando o zip {zip_path}, que já está no disco.")
    else:
        sources = [url]  # só a URL padrão ganha alternativas
        if url == SPAM_DATA_URL:
            local_zip = os.environ.get(SPAM_ZIP_ENV_VAR)
            sources = [local_zip] if local_zip else [SPAM_DATA_URL, SPAM_DATA_BACKUP_URL]
        download_first_available(sources, zip_path, "o SMS Spam Collection", _SPAM_MANUAL_HELP)
    extract_verified(zip_path, DATA_MEMBER, SMS_SPAM_SHA256, data_file_path, extras=(README_MEMBER,))
    print(f"Arquivo extraído, conferido (sha256) e salvo como {data_file_path}")
    return data_file_path


# --------------------------------------------------------------------------- leitura

COLUMNS = ["Label", "Text"]
_MAX_LISTED = 10  # quantos números de linha mostrar numa mensagem de erro


def describe_line_numbers(line_numbers: list[int]) -> str:
    """Números de linha para uma mensagem de erro: os 10 primeiros e "e mais N".

    Usada pelas mensagens de erro de `load_sms_spam` (Notebook 1, §1.2) e de
    `user_data.load_text_classification_file` (Notebook 7, §7.5).
    """
    shown = ", ".join(str(number) for number in line_numbers[:_MAX_LISTED])
    hidden = len(line_numbers) - _MAX_LISTED
    return shown + (f" e mais {hidden}" if hidden > 0 else "")


def _read_lines(data_file_path: Path) -> list[str]:
    """As linhas do arquivo, lido como UTF-8 (a última quebra de linha não gera uma linha vazia)."""
    try:
        text = data_file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{data_file_path} não está em UTF-8 ({err}).") from err
    return text.removesuffix("\n").split("\n")


def _check_one_tab_per_line(lines: list[str], data_file_path: Path) -> None:
    """Cada linha deve ser `rótulo<TAB>texto`: exatamente um TAB."""
    bad = [number for number, line in enumerate(lines, start=1) if line.count("\t") != 1]
    if bad:
        raise ValueError(
            f"Em {data_file_path}, cada linha deve ter exatamente um TAB separando rótulo e "
            f"texto, mas estas linhas não têm: {describe_line_numbers(bad)}."
        )


def _check_labels_and_texts(df: pd.DataFrame, data_file_path: Path) -> None:
    """Confere rótulos e textos; a linha do arquivo é a posição da linha no DataFrame + 1."""
    unknown = ~df["Label"].isin(list(LABELS))
    if unknown.any():
        labels = sorted(set(df.loc[unknown, "Label"]))
        lines = [position + 1 for position in unknown.to_numpy().nonzero()[0]]
        raise ValueError(
            f"Rótulos desconhecidos em {data_file_path}: {labels} (linhas "
            f"{describe_line_numbers(lines)}). Os únicos rótulos válidos são {list(LABELS)}."
        )
    empty = df["Text"].str.strip() == ""
    if empty.any():
        lines = [position + 1 for position in empty.to_numpy().nonzero()[0]]
        raise ValueError(f"Mensagens vazias em {data_file_path}, nas linhas {describe_line_numbers(lines)}.")


def load_sms_spam(data_file_path: str | os.PathLike) -> pd.DataFrame:
    """Lê o arquivo `rótulo<TAB>texto` num DataFrame com as colunas `Label` e `Text`.

    A forma correta: `quoting=csv.QUOTE_NONE` faz o pandas tratar `"` como um caractere
    qualquer (o arquivo não usa aspas para delimitar campos), e `keep_default_na=False`
    impede que um texto como "NA" vire valor ausente. Resultado no arquivo original:
    5.574 linhas, 4.827 ham e 747 spam. Ensinado no Notebook 1, §1.2.
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
    Comparada com a leitura certa no Notebook 1, §1.2.
    """
    return pd.read_csv(data_file_path, sep="\t", header=None, names=COLUMNS)


# --------------------------------------------------------------------------- duplicatas

def require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    """Recusa, com uma mensagem clara, uma tabela sem as colunas `columns` (Notebook 1, §1.5)."""
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise ValueError(
            f"O DataFrame não tem as colunas {missing}; são necessárias {columns} "
            f"(colunas encontradas: {list(df.columns)})."
        )


def count_duplicate_messages(df: pd.DataFrame) -> int:
    """Quantas linhas repetem exatamente (mesmo `Text` e mesmo `Label`) uma linha anterior.

    Ensinado no Notebook 1, §1.4.
    """
    require_columns(df, COLUMNS)
    return int(df.duplicated(subset=["Text", "Label"]).sum())


def drop_duplicate_messages(df: pd.DataFrame) -> pd.DataFrame:
    """Remove as cópias exatas de (`Text`, `Label`), mantendo a primeira ocorrência.

    O arquivo original tem mensagens repetidas; sem esta limpeza, uma divisão aleatória
    pode pôr a mesma mensagem no treino e no teste, e a acurácia de teste fica otimista.
    Quantas linhas saem: `count_duplicate_messages(df)`. Ensinado no Notebook 1, §1.4.
    """
    require_columns(df, COLUMNS)
    return df.drop_duplicates(subset=["Text", "Label"])


def count_shared_messages(first_df: pd.DataFrame, second_df: pd.DataFrame) -> int:
    """Quantos pares distintos (`Text`, `Label`) aparecem nos dois DataFrames (ex.: treino e teste).

    Mede o vazamento entre treino e teste. Ensinado no Notebook 1, §1.7.
    """
    require_columns(first_df, COLUMNS)
    require_columns(second_df, COLUMNS)
    first_pairs = set(zip(first_df["Text"], first_df["Label"]))
    return len(first_pairs & set(zip(second_df["Text"], second_df["Label"])))


# --------------------------------------------------------------------------- balanceamento e divisão

def create_balanced_dataset(df: pd.DataFrame, random_state: int = 123) -> pd.DataFrame:
    """Subamostra as mensagens "ham" até ficarem tantas quanto as "spam".

    O sorteio usa `random_state`, então o resultado é sempre o mesmo. As linhas "ham"
    sorteadas vêm primeiro, seguidas de todas as "spam". Ensinado no Notebook 1, §1.5.
    """
    require_columns(df, COLUMNS)
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


def random_split(
    df: pd.DataFrame, train_frac: float, val_frac: float, random_state: int = 123
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Embaralha `df` (com semente) e o divide em treino, validação e teste (Notebook 1, §1.7).

    Treino = as primeiras `int(n * train_frac)` linhas, validação = as `int(n * val_frac)`
    seguintes, teste = o resto. Ex.: 1.494 linhas com 0.7 e 0.1 -> 1.045 / 149 / 300.
    """
    for name, value in (("train_frac", train_frac), ("val_frac", val_frac)):
        if not 0 < value < 1:
            raise ValueError(f"{name} deve estar entre 0 e 1 (exclusive), mas é {value!r}.")
    if train_frac + val_frac >= 1:
        raise ValueError(
            f"train_frac + val_frac deve ser menor que 1 para sobrar dados de teste, "
            f"mas é {train_frac} + {val_frac} = {train_frac + val_frac}."
        )
    shuffled = df.sample(frac=1, random_state=random_state).reset_index(drop=True)
    train_end = int(len(shuffled) * train_frac)
    val_end = train_end + int(len(shuffled) * val_frac)
    return shuffled.iloc[:train_end], shuffled.iloc[train_end:val_end], shuffled.iloc[val_end:]


def encode_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Cópia de `df` com `Label` numérico: "ham" -> 0, "spam" -> 1 (0 e 1 ficam como estão).

    A troca da seção Notebook 1, §1.6, feita numa função no Notebook 1, §1.7.
    """
    require_columns(df, ["Label"])
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
    val_df: pd.DataFrame,
    test_df: pd.DataFrame,
    directory: str | os.PathLike = ".",
) -> tuple[Path, Path, Path]:
    """Grava train.csv, validation.csv e test.csv em `directory` e devolve os três caminhos.

    Ensinado no Notebook 1, §1.8.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = tuple(directory / f"{name}.csv" for name in SPLIT_NAMES)
    for split_df, path in zip((train_df, val_df, test_df), paths):
        split_df.to_csv(path, index=None)
    return paths


def load_split(path: str | os.PathLike) -> pd.DataFrame:
    """Lê um CSV gravado por `save_splits`, conferindo as colunas `Text` e `Label` (Notebook 1, §1.8)."""
    df = pd.read_csv(path, dtype={"Text": str}, keep_default_na=False)
    try:
        require_columns(df, ["Text", "Label"])
    except ValueError as err:
        raise ValueError(f"{path} não parece um CSV de divisão do dataset: {err}") from err
    return df


def prepare_spam_splits(
    directory: str | os.PathLike = "data",
    url: str | os.PathLike = SPAM_DATA_URL,
    deduplicate: bool = False,
    random_state: int = 123,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Faz todo o preparo de uma vez e devolve `(train_df, val_df, test_df)`.

    Baixa (ou reaproveita) o dataset em `directory`, lê do jeito certo, remove duplicatas
    se `deduplicate=True`, balanceia, converte os rótulos para 0/1, divide em 70% / 10% /
    20% e grava os três CSVs em `directory`. O preparo inteiro do Notebook 1, §1.8.
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
    """A partir de um DataFrame lido: (remove duplicatas), balanceia, codifica, divide e salva.

    Os passos das seções Notebook 1, §1.4 a §1.8, na mesma ordem.
    """
    if deduplicate:
        print(f"Removendo {count_duplicate_messages(df)} mensagens duplicadas.")
        df = drop_duplicate_messages(df)
    balanced_df = encode_labels(create_balanced_dataset(df, random_state=random_state))
    splits = random_split(balanced_df, 0.7, 0.1, random_state=random_state)
    save_splits(*splits, directory=directory)
    return splits
