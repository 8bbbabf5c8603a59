"""Seus próprios dados: um CSV/TSV com uma coluna de texto e uma de rótulo.

Tudo o que o curso faz com o SMS Spam Collection funciona com outra tabela de duas classes
(spam ou não, reclamação ou elogio, urgente ou não...). `load_text_classification_file`
lê o arquivo, descobre o separador e as colunas, transforma os dois rótulos em 0 e 1 e
devolve o mesmo formato dos outros DataFrames do curso (colunas `Label` e `Text`), junto
com um `LabelMapping` que diz qual nome virou 1 e quantos exemplos há de cada classe.
Para dividir em treino/validação/teste, use `random_split` de `data.py`.

Arquivos com problema geram `UserDataError` (um `ValueError`) com o motivo e o que fazer.

Como exemplo, o pacote traz `mensagens_pt_curso.csv` (`course_portuguese_sample_path()`):
160 mensagens curtas em português, ESCRITAS PARA ESTE CURSO (não são mensagens reais de
ninguém nem cópias de outro dataset), 80 spam e 80 normais.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from .data import COLUMNS, describe_line_numbers

__all__ = [
    "LabelMapping",
    "UserDataError",
    "UserDataFileNotFoundError",
    "course_portuguese_sample_path",
    "load_text_classification_file",
]

PORTUGUESE_SAMPLE_FILE = "mensagens_pt_curso.csv"

# Nomes de coluna reconhecidos sem precisar dizer (maiúsculas e minúsculas tanto faz).
TEXT_COLUMN_NAMES = ("text", "texto", "mensagem", "message", "sms", "msg", "conteudo", "conteúdo",
                     "frase", "comentario", "comentário", "review", "avaliacao", "avaliação")
LABEL_COLUMN_NAMES = ("label", "rotulo", "rótulo", "classe", "class", "categoria", "category",
                      "target", "alvo", "y")

# Pares conhecidos (classe 1, classe 0). Fora deles, "spam" é sempre a classe 1.
KNOWN_PAIRS = (
    ("spam", "ham"), ("1", "0"), ("sim", "não"), ("sim", "nao"), ("yes", "no"), ("true", "false"),
    ("verdadeiro", "falso"), ("positivo", "negativo"), ("positive", "negative"),
)
TAB_EXTENSIONS = (".tsv", ".tab")
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")


class UserDataError(ValueError):
    """O arquivo de dados não pode ser usado como está (a mensagem diz por quê). Notebook 7, §7.5."""


class UserDataFileNotFoundError(UserDataError, FileNotFoundError):
    """O caminho indicado não existe ou não é um arquivo (Notebook 7, §7.5)."""


@dataclass(frozen=True)
class LabelMapping:
    """Como os rótulos do arquivo viraram 0 e 1, e o que foi lido (Notebook 7, §7.5)."""

    positive: str  # o rótulo que virou 1
    negative: str  # o rótulo que virou 0
    counts: dict  # {rótulo: quantas linhas}
    rule: str  # por que este rótulo virou 1
    path: str
    text_column: str
    label_column: str
    delimiter: str
    encoding: str
    n_duplicates: int = 0
    n_conflicting: int = 0
    class_names: tuple = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "class_names", (self.negative, self.positive))  # na ordem 0, 1

    @property
    def n_rows(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        """Resumo em português: colunas usadas, mapeamento e contagens."""
        separator = "TAB" if self.delimiter == "\t" else repr(self.delimiter)
        lines = [
            f"{Path(self.path).name}: {self.n_rows} linhas (separador {separator}, codificação {self.encoding}).",
            f"Texto na coluna {self.text_column!r}, rótulo na coluna {self.label_column!r}.",
            f"1 = {self.positive!r} ({self.counts[self.positive]} linhas); "
            f"0 = {self.negative!r} ({self.counts[self.negative]} linhas). Motivo: {self.rule}.",
        ]
        if self.n_duplicates:
            lines.append(f"Atenção: {self.n_duplicates} linhas repetem texto e rótulo de outra linha "
                         "(uma cópia pode cair no treino e outra no teste).")
        if self.n_conflicting:
            lines.append(f"Atenção: {self.n_conflicting} textos aparecem com os dois rótulos.")
        return "\n".join(lines)

    __str__ = describe


def course_portuguese_sample_path() -> Path:
    """Caminho do exemplo em português que vem com o pacote (160 mensagens escritas para o curso).

    Usado no Notebook 7, §7.5.
    """
    return Path(resources.files(__package__) / PORTUGUESE_SAMPLE_FILE)


# --------------------------------------------------------------------------- leitura do arquivo

def _file_lines(mask: pd.Series) -> list[int]:
    """Número da linha no arquivo de cada linha marcada (o índice da tabela, ver `_read_table`)."""
    return [int(line) for line in mask.index[mask]]


def _read_text(path: Path) -> tuple[str, str]:
    """Conteúdo do arquivo e a codificação usada: UTF-8 (com ou sem BOM) ou, senão, Windows-1252."""
    if not path.is_file():
        what = "é uma pasta, não um arquivo" if path.is_dir() else "não existe"
        raise UserDataFileNotFoundError(f"O arquivo {path} {what}. Confira o caminho (pasta atual: {Path.cwd()}).")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):  # o Excel no Windows costuma salvar em cp1252
        try:
            return raw.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            continue
    raise UserDataError(f"{path} não está em UTF-8 nem em Windows-1252: salve-o como 'CSV UTF-8'.")


def _delimiter(path: Path, text: str) -> str:
    """TAB para .tsv; senão, o separador que mais aparece no cabeçalho (`,` `;` TAB ou `|`)."""
    if path.suffix.lower() in TAB_EXTENSIONS:
        return "\t"
    header = text.split("\n", 1)[0]
    counts = {candidate: header.count(candidate) for candidate in CANDIDATE_DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise UserDataError(
            f"A primeira linha de {path} deveria ser um cabeçalho com pelo menos duas colunas "
            f"(texto e rótulo) separadas por vírgula, ponto e vírgula ou TAB, mas é: {header[:80]!r}."
        )
    return best


def _read_table(path: Path, text: str, delimiter: str) -> pd.DataFrame:
    """A tabela do arquivo, com o número da linha no arquivo como índice (o cabeçalho é a linha 1).

    Usamos o módulo `csv` (aspas no padrão do Excel) para conferir que cada linha tem o mesmo
    número de colunas do cabeçalho e apontar exatamente as que não têm.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [column.strip() for column in next(reader, [])]
        rows, line_numbers, bad = [], [], []
        for row in reader:
            if not any(field.strip() for field in row):
                continue  # linha em branco
            if len(row) == len(header):
                rows.append(row)
                line_numbers.append(reader.line_num)  # onde a linha termina (textos podem ter quebras)
            else:
                bad.append(reader.line_num)
    except csv.Error as err:
        raise UserDataError(f"Não consegui ler {path} como tabela ({err}): confira as aspas.") from err
    if len(header) < 2:
        raise UserDataError(
            f"{path} está vazio ou o cabeçalho tem uma coluna só: {header}. São precisas texto e rótulo."
        )
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise UserDataError(
            f"O cabeçalho de {path} repete os nomes de coluna {repeated}: dê um nome diferente a cada uma."
        )
    if bad:
        raise UserDataError(
            f"Em {path}, o cabeçalho tem {len(header)} colunas, mas as linhas {describe_line_numbers(bad)} não. "
            "Se um texto contém o separador, ele precisa estar entre aspas."
        )
    if not rows:
        raise UserDataError(f"{path} só tem o cabeçalho: nenhuma linha de dados.")
    return pd.DataFrame(rows, columns=header, index=line_numbers, dtype=str)


def _pick_column(frame: pd.DataFrame, chosen, known: tuple, role: str, argument: str, path: Path) -> str:
    columns = list(frame.columns)
    if chosen is not None:
        if chosen not in columns:
            raise UserDataError(f"{path} não tem a coluna {chosen!r} ({role}). Colunas encontradas: {columns}.")
        return chosen
    for column in columns:
        if column.casefold() in known:
            return column
    raise UserDataError(
        f"Não encontrei a coluna de {role} em {path}. Colunas encontradas: {columns}. "
        f"Diga qual é com {argument}='nome da coluna'."
    )


# --------------------------------------------------------------------------- rótulos

def _normalize(label) -> str:
    return str(label).strip().casefold()


def _check_not_empty(values: pd.Series, role: str, path: Path) -> None:
    empty = values.str.strip() == ""
    if empty.any():
        raise UserDataError(
            f"Há {role} vazios em {path}, nas linhas {describe_line_numbers(_file_lines(empty))} "
            "(o cabeçalho é a linha 1). Preencha ou apague essas linhas."
        )


def _check_declared(labels: pd.Series, declared: list[str], path: Path) -> None:
    """Com os dois rótulos declarados, qualquer outro é erro (mostrando onde está)."""
    other = ~labels.isin(declared)
    if other.any():
        found = sorted(set(labels[other]))
        raise UserDataError(
            f"Em {path} há rótulos que não são nem {declared[0]!r} nem {declared[1]!r}: {found} "
            f"(linhas {describe_line_numbers(_file_lines(other))})."
        )


def _two_class_counts(labels: pd.Series, label_col: str, path: Path) -> dict:
    """Quantas linhas de cada rótulo; recusa uma classe só ou mais de duas."""
    counts = labels.value_counts().to_dict()
    if len(counts) == 1:
        (only, count), = counts.items()
        raise UserDataError(
            f"{path} só tem uma classe ({only!r}, {count} linhas): o classificador precisa de exemplos "
            "das duas classes."
        )
    if len(counts) > 2:
        listed = ", ".join(f"{name!r} ({count})" for name, count in sorted(counts.items()))
        raise UserDataError(
            f"{path} tem {len(counts)} rótulos diferentes na coluna {label_col!r}: {listed}. Este curso "
            "classifica em duas classes: junte ou remova as linhas das classes a mais."
        )
    return counts


def _declared_present(label, argument: str, counts: dict, path: Path) -> str:
    name = _normalize(label)
    if name not in counts:
        raise UserDataError(f"{argument}={label!r} não aparece em {path}; rótulos encontrados: {sorted(counts)}.")
    return name


def _choose_positive(counts: dict, positive_label, negative_label, path: Path) -> tuple[str, str, str]:
    """Decide qual dos dois rótulos vira 1. Devolve `(positivo, negativo, motivo)`."""
    names = sorted(counts)
    if positive_label is not None:
        positive = _declared_present(positive_label, "positive_label", counts, path)
        return positive, next(name for name in names if name != positive), "escolhido com positive_label"
    if negative_label is not None:
        negative = _declared_present(negative_label, "negative_label", counts, path)
        return next(name for name in names if name != negative), negative, "escolhido com negative_label"
    for positive, negative in KNOWN_PAIRS:
        if set(names) == {positive, negative}:
            return positive, negative, f"par conhecido {positive}/{negative}"
    if "spam" in counts:
        return "spam", next(name for name in names if name != "spam"), '"spam" é sempre a classe 1'
    return names[1], names[0], "ordem alfabética (use positive_label=... para escolher)"


def load_text_classification_file(path, text_column=None, label_column=None, positive_label=None,
                                  negative_label=None) -> tuple[pd.DataFrame, LabelMapping]:
    """Lê um CSV/TSV de duas classes e devolve `(df, mapeamento)`.

    `df` tem as colunas `Label` (0 ou 1) e `Text`, como os DataFrames do SMS Spam Collection
    depois de `encode_labels`. O separador vem da extensão (.tsv = TAB) ou do cabeçalho
    (`,` `;` TAB `|`). Sem `text_column`/`label_column`, procura nomes comuns ("texto",
    "mensagem", "rotulo", "classe", "label"...). Rótulos são comparados sem diferenciar
    maiúsculas. Qual vira 1: `positive_label`, se dado; senão spam/ham, 1/0, sim/não...;
    senão "spam"; senão a ordem alfabética. Com `positive_label` e `negative_label`,
    qualquer outro rótulo é erro. Ensinado no Notebook 7, §7.5.
    """
    path = Path(path)
    text, encoding = _read_text(path)
    delimiter = _delimiter(path, text)
    frame = _read_table(path, text, delimiter)
    text_col = _pick_column(frame, text_column, TEXT_COLUMN_NAMES, "texto", "text_column", path)
    label_col = _pick_column(frame, label_column, LABEL_COLUMN_NAMES, "rótulo", "label_column", path)
    if text_col == label_col:
        raise UserDataError(f"A mesma coluna ({text_col!r}) foi escolhida para texto e rótulo.")

    _check_not_empty(frame[label_col], "rótulos", path)
    _check_not_empty(frame[text_col], "textos", path)
    labels = frame[label_col].map(_normalize)
    if positive_label is not None and negative_label is not None:
        _check_declared(labels, [_normalize(positive_label), _normalize(negative_label)], path)
    counts = _two_class_counts(labels, label_col, path)
    positive, negative, rule = _choose_positive(counts, positive_label, negative_label, path)

    df = pd.DataFrame({"Label": (labels == positive).astype("int64"), "Text": frame[text_col]})[COLUMNS]
    df = df.reset_index(drop=True)
    mapping = LabelMapping(
        positive=positive, negative=negative, counts={positive: counts[positive], negative: counts[negative]},
        rule=rule, path=str(path), text_column=text_col, label_column=label_col, delimiter=delimiter,
        encoding=encoding, n_duplicates=int(df.duplicated().sum()),
        n_conflicting=int((df.groupby("Text")["Label"].nunique() > 1).sum()),
    )
    return df, mapping
