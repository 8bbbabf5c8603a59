"""show_source: o código mostrado nos notebooks é o código que roda."""

from __future__ import annotations

import inspect
import re
import sys

import pytest

from llmdefinitions import GPTModel, show_source, train_classifier_simple, training


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
    assert "class=" not in page  # nada que o CSS do tema (JupyterLab, livro) possa recolorir


def _relative_luminance(color: str) -> float:
    """Luminância relativa de uma cor #rgb ou #rrggbb (definição da WCAG 2)."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    high, low = sorted([_relative_luminance(a), _relative_luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _style_of(tag: str, page: str, index: int = 0) -> dict[str, str]:
    """As propriedades CSS do atributo style da tag `tag` de número `index` em `page`."""
    style = re.findall(rf'<{tag} style="([^"]*)"', page)[index]
    return {key.strip(): value.strip() for key, value in (part.split(":", 1) for part in style.split(";") if part)}


def test_contrast_helper_matches_known_values():
    assert contrast_ratio("#000", "#fff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_html_block_sets_its_own_colours_with_enough_contrast():
    page = show_source(train_classifier_simple)._repr_html_()
    code = _style_of("pre", page)
    background = code["background"]
    assert code["color"] and code["white-space"] == "pre" and code["overflow-x"] == "auto"
    token_colours = set(re.findall(r'<span style="color: (#[0-9A-Fa-f]{3,6})', page))
    assert len(token_colours) >= 3  # de fato colorido
    # A cor de cada token (e a do texto sem token) contra o fundo do próprio bloco: WCAG AA.
    for colour in token_colours | {code["color"]}:
        assert contrast_ratio(colour, background) >= 4.5, colour
    span_styles = re.findall(r'<span style="([^"]*)"', page)
    assert not any("background" in style for style in span_styles)  # nenhum token muda o fundo
    header = _style_of("div", page, index=1)  # o cabeçalho "nome — arquivo, linhas": cores próprias
    assert contrast_ratio(header["color"], header["background"]) >= 4.5


def test_every_colour_of_the_pygments_style_has_enough_contrast():
    from pygments.styles import get_style_by_name

    from llmdefinitions import source

    style = get_style_by_name(source._PYGMENTS_STYLE)
    background = _style_of("pre", show_source(train_classifier_simple)._repr_html_())["background"]
    colours = {f"#{definition['color']}" for _, definition in style if definition["color"]}
    assert all(not definition["bgcolor"] and not definition["border"] for _, definition in style)
    worst = min(contrast_ratio(colour, background) for colour in colours)
    assert worst >= 4.5, f"pior contraste do estilo {source._PYGMENTS_STYLE}: {worst:.2f}"


def test_without_pygments_the_html_is_plain_black_on_white(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)  # `import pygments` passa a falhar
    page = show_source(train_classifier_simple)._repr_html_()
    assert "<span" not in page and "def train_classifier_simple(" in page
    assert _style_of("pre", page)["white-space"] == "pre"


def test_objects_without_python_source_get_a_clear_message():
    with pytest.raises(TypeError, match="Não há código Python para mostrar"):
        show_source(len)
    with pytest.raises(TypeError, match="Não há código Python"):
        show_source(42)
