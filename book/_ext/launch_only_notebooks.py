"""Botões "Abrir no Colab/Binder" só em páginas que são arquivos .ipynb.

Páginas em Markdown executável (MyST-NB, como conceitos/recursos.md) também são tratadas
como notebooks pelo tema, mas o Colab não abre um .md: nelas o botão levaria a um erro.
"""


def _drop_launch_buttons(app, pagename, templatename, context, doctree):
    if context.get("page_source_suffix") == ".ipynb":
        return
    buttons = context.get("header_buttons", [])
    context["header_buttons"] = [b for b in buttons if b.get("label") != "launch-buttons"]


def setup(app):
    # Depois do tema (prioridade 501), que é quem acrescenta os botões.
    app.connect("html-page-context", _drop_launch_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
