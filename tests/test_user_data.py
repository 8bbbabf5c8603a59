"""Seus próprios dados: leitura de CSV/TSV, mapeamento dos rótulos e erros claros."""

from __future__ import annotations

import pytest

from llmdefinitions import SpamDataset, random_split
from llmdefinitions.user_data import (
    UserDataError,
    UserDataFileNotFoundError,
    course_portuguese_sample_path,
    load_text_classification_file,
)


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_course_sample_is_balanced_portuguese_and_ready_for_the_pipeline(tokenizer):
    path = course_portuguese_sample_path()
    df, mapping = load_text_classification_file(path)
    assert list(df.columns) == ["Label", "Text"] and len(df) == 160
    assert mapping.counts == {"spam": 80, "normal": 80} and mapping.positive == "spam"
    assert mapping.n_duplicates == 0 and mapping.n_conflicting == 0
    assert "1 = 'spam' (80 linhas)" in mapping.describe()
    assert (path.parent / "mensagens_pt_curso_LEIAME.md").read_text(encoding="utf-8").count("escritas para o")
    train, validation, test = random_split(df, 0.7, 0.1)  # a divisão de data.py serve como está
    assert (len(train), len(validation), len(test)) == (112, 16, 32)
    assert set(SpamDataset(train, tokenizer).labels) == {0, 1}


@pytest.mark.parametrize("name, text, positive, rule", [
    ("a.tsv", "text\tlabel\nganhe já\tspam\noi tudo bem\tham\n", "spam", "par conhecido spam/ham"),
    ("b.csv", "Mensagem;Classe\nganhe já;1\noi, tudo bem;0\n", "1", "par conhecido 1/0"),
    ("c.csv", 'texto,rotulo\n"ganhe já, agora",SIM\noi,Não\n', "sim", "par conhecido sim/não"),
    ("d.csv", "texto,rotulo\nganhe já,urgente\noi,tranquilo\n", "urgente", "ordem alfabética"),
])
def test_reads_separators_headers_and_label_pairs(tmp_path, name, text, positive, rule):
    df, mapping = load_text_classification_file(_write(tmp_path, name, text))
    assert df["Label"].tolist() == [1, 0]
    assert df["Text"].iloc[0].startswith("ganhe já")
    assert mapping.positive == positive and mapping.rule.startswith(rule)


def test_explicit_columns_positive_label_and_windows_encoding(tmp_path):
    path = _write(tmp_path, "excel.csv",
                  "id;assunto;tipo\n1;Promoção imperdível;propaganda\n2;Reunião às 10h;pessoal\n",
                  encoding="cp1252")
    df, mapping = load_text_classification_file(path, text_column="assunto", label_column="tipo",
                                                positive_label="Pessoal")
    assert df["Label"].tolist() == [0, 1] and df["Text"].iloc[1] == "Reunião às 10h"
    assert mapping.encoding == "cp1252" and mapping.class_names == ("propaganda", "pessoal")
    _, by_negative = load_text_classification_file(path, text_column="assunto", label_column="tipo",
                                                   negative_label="pessoal")
    assert by_negative.positive == "propaganda"
    bom = _write(tmp_path, "bom.csv", "\ufefftexto,rotulo\na,spam\nb,ham\n")
    assert load_text_classification_file(bom)[1].text_column == "texto"


@pytest.mark.parametrize("text, kwargs, message", [
    ("texto,rotulo\na,spam\nb,ham\n", {"text_column": "mensagem"},
     r"não tem a coluna 'mensagem'.*\['texto', 'rotulo'\]"),
    ("corpo,tipo\na,spam\nb,ham\n", {}, r"Não encontrei a coluna de texto.*\['corpo', 'tipo'\].*text_column="),
    ("texto,rotulo\na,spam\nb,spam\n", {}, r"só tem uma classe \('spam', 2 linhas\)"),
    ("texto,rotulo\na,spam\n  ,ham\nc,ham\n,spam\n", {}, r"textos vazios.*linhas 3, 5"),
    ("texto,rotulo\na,spam\nb,\n", {}, r"rótulos vazios.*linhas 3"),
    ("texto,rotulo\na,spam\nb,ham\nc,talvez\n", {}, r"3 rótulos diferentes.*'ham' \(1\), 'spam' \(1\), 'talvez' \(1\)"),
    ("texto,rotulo\na,spam\nb,ham\nc,hma\n", {"positive_label": "spam", "negative_label": "ham"},
     r"nem 'spam' nem 'ham': \['hma'\] \(linhas 4\)"),
    ("texto,rotulo\na,spam\nb,ham\n", {"positive_label": "sim"}, r"positive_label='sim' não aparece"),
    ("texto rotulo\na spam\n", {}, r"cabeçalho com pelo menos duas colunas"),
    ("texto,rotulo\n", {}, r"só tem o cabeçalho"),
    ("texto,rotulo\na,spam,extra\nb,ham\nc,ham,x\n", {}, r"cabeçalho tem 2 colunas, mas as linhas 2, 4 não"),
    ("texto,texto\na,spam\n", {}, r"repete os nomes de coluna \['texto'\]"),
])
def test_bad_files_get_clear_portuguese_errors(tmp_path, text, kwargs, message):
    with pytest.raises(UserDataError, match=message):
        load_text_classification_file(_write(tmp_path, "dados.csv", text), **kwargs)


def test_multiline_texts_keep_file_line_numbers_and_empty_tsv(tmp_path):
    path = _write(tmp_path, "m.csv", 'texto,rotulo\n"linha um\nlinha dois",spam\n\n"",ham\nok,ham\n')
    with pytest.raises(UserDataError, match="textos vazios.*linhas 5 "):
        load_text_classification_file(path)
    with pytest.raises(UserDataError, match="está vazio"):
        load_text_classification_file(_write(tmp_path, "vazio.tsv", ""))


def test_missing_file(tmp_path):
    with pytest.raises(UserDataFileNotFoundError, match="não existe") as info:
        load_text_classification_file(tmp_path / "nada.csv")
    assert isinstance(info.value, ValueError) and isinstance(info.value, FileNotFoundError)
    with pytest.raises(UserDataError, match="é uma pasta"):
        load_text_classification_file(tmp_path)


def test_reports_duplicates_and_conflicts(tmp_path):
    path = _write(tmp_path, "d.csv", "texto,rotulo\noi,ham\noi,ham\noi,spam\nganhe,spam\n")
    _, mapping = load_text_classification_file(path)
    assert (mapping.n_duplicates, mapping.n_conflicting) == (1, 1)
    assert "1 linhas repetem" in mapping.describe() and "1 textos aparecem com os dois rótulos" in mapping.describe()
