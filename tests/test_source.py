"""show_source: o código mostrado nos notebooks é o código que roda."""

from __future__ import annotations

import inspect

import pytest

from llmdefinitions import GPTModel, show_source, train_classifier_simple
from llmdefinitions import training


def test_function_source_is_the_real_code_with_its_location():
    shown = show_source(train_classifier_simple)
    lines, first = inspect.getsourcelines(train_classifier_simple)
    assert shown.code == "".join(lines)
    assert shown.file == "llmdefinitions/training.py"
    assert shown.first_line == first
    assert shown.last_line == first + len(lines) - 1
    assert str(shown).startswith("# train_classifier_simple — llmdefinitions/training.py, linhas ")
    assert "def train_classifier_simple(" in repr(shown)


def test_methods_and_classes_and_modules():
    assert show_source(GPTModel.forward).name == "GPTModel.forward"
    assert show_source(GPTModel).code.startswith("class GPTModel(")
    module = show_source(training)
    assert module.first_line == 1 and "def calc_loss_loader(" in module.code


def test_html_is_highlighted_and_escaped():
    page = show_source(train_classifier_simple)._repr_html_()
    assert "<span" in page and "style=" in page  # cores embutidas, sem CSS externo
    assert "llmdefinitions/training.py" in page
    assert "def" in page and "<script" not in page


def test_objects_without_python_source_get_a_clear_message():
    with pytest.raises(TypeError, match="Não há código Python para mostrar"):
        show_source(len)
    with pytest.raises(TypeError, match="Não há código Python"):
        show_source(42)
