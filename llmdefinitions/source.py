"""Mostrar o código do pacote dentro dos notebooks.

O curso não esconde o que roda: quando um notebook usa uma função do pacote, ele primeiro
mostra o código dela com `show_source(funcao)`. O resultado aparece com cores no JupyterLab,
no Colab e no livro (HTML), e como texto simples em qualquer outro lugar (terminal, testes).
"""

from __future__ import annotations

import html
import inspect
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceCode", "show_source"]

_PACKAGE_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SourceCode:
    """O código-fonte de um objeto, com o arquivo e as linhas de onde veio. Ensinado no Notebook 1, §1.1."""

    name: str
    code: str
    file: str
    first_line: int

    @property
    def last_line(self) -> int:
        return self.first_line + self.code.count("\n") - (1 if self.code.endswith("\n") else 0)

    @property
    def header(self) -> str:
        return f"{self.name} — {self.file}, linhas {self.first_line}–{self.last_line}"

    def __str__(self) -> str:
        return f"# {self.header}\n{self.code}"

    def __repr__(self) -> str:  # texto simples (terminal, testes, text/plain)
        return str(self)

    def _repr_html_(self) -> str:  # JupyterLab, Colab e o livro
        return (
            f'<div style="{_BOX_CSS}"><div style="{_HEADER_CSS}">{html.escape(self.header)}</div>'
            f'<pre style="{_CODE_CSS}">{_highlight_html(self.code)}</pre></div>'
        )


# O bloco define o próprio fundo e a cor de cada token (estilos embutidos, sem CSS externo): fica igual
# no JupyterLab claro ou escuro, no Colab e no livro. O estilo "xcode" do pygments, sobre fundo branco,
# tem contraste >= 4,5:1 (WCAG AA) em todas as cores (conferido em tests/test_source.py).
# `white-space:pre` + rolagem lateral: linhas longas não quebram a indentação do Python.
_PYGMENTS_STYLE = "xcode"
_BOX_CSS = "margin:0.5em 0;border:1px solid #d0d7de;border-radius:6px;overflow:hidden;background:#fff;color:#000"
_HEADER_CSS = "padding:4px 10px;background:#eef1f4;color:#24292f;font:12px monospace;border-bottom:1px solid #d0d7de"
_CODE_CSS = (
    "margin:0;padding:8px 10px;border:0;background:#fff;color:#000;"
    "white-space:pre;overflow-x:auto;font-family:monospace;font-size:13px;line-height:1.4"
)


def _highlight_html(code: str) -> str:
    """Código Python em HTML, com a cor de cada token num `style` embutido."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # sem pygments: texto sem cores (preto no branco), mas legível
        return html.escape(code)
    formatter = HtmlFormatter(noclasses=True, nowrap=True, style=_PYGMENTS_STYLE)  # só os <span> coloridos
    return highlight(code, PythonLexer(), formatter)


def _relative_file(path: str) -> str:
    """Caminho como o aluno o encontra no repositório (`llmdefinitions/arquivo.py`)."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to(_PACKAGE_ROOT):
        return f"llmdefinitions/{resolved.relative_to(_PACKAGE_ROOT).as_posix()}"
    return resolved.name


def show_source(obj) -> SourceCode:
    """Devolve o código de uma função, classe ou método; no notebook ele aparece colorido.

    Exemplo: `show_source(train_classifier_simple)` ou `show_source(GPTModel.forward)`.

    Ensinado no Notebook 1, §1.1.
    """
    target = inspect.unwrap(obj)
    try:
        lines, first_line = inspect.getsourcelines(target)
        file = inspect.getsourcefile(target)
    except (OSError, TypeError) as error:
        raise TypeError(
            f"Não há código Python para mostrar de {obj!r}: use show_source com uma função, "
            "classe ou método escritos em Python (por exemplo, do pacote llmdefinitions)."
        ) from error
    name = getattr(target, "__qualname__", getattr(target, "__name__", repr(target)))
    return SourceCode(name=name, code="".join(lines), file=_relative_file(file), first_line=max(first_line, 1))
