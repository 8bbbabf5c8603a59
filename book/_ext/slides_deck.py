"""Publica os slides do professor com o site.

Ao fim de um build HTML bem-sucedido, roda `tools/slides.py` e grava o deck reveal.js em
`<pasta do HTML>/slides/` (por exemplo, `book/_build/html/slides/index.html`). Assim `make book`,
`jupyter-book build book` e o livro dos testes publicam o mesmo deck, gerado das mesmas páginas.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sphinx.errors import ExtensionError

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "slides.py"


def build_slides(app, exception) -> None:
    """Gera o deck em <outdir>/slides; um erro aqui falha o build, com a mensagem do script."""
    if exception is not None or app.builder.format != "html":
        return
    output = Path(app.outdir) / "slides"
    result = subprocess.run([sys.executable, str(SCRIPT), "--saida", str(output)],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise ExtensionError("os slides do professor não foram gerados:\n" + result.stderr[-4000:])


def setup(app):
    app.connect("build-finished", build_slides)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
