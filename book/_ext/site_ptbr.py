"""O site do curso em português, sem erros no console do navegador.

1. Textos da interface. O pydata-sphinx-theme 0.17.1 não tem tradução para o português e o
   sphinx-book-theme 1.3.0 só tem a de Portugal, incompleta ("Lançamento", "questão aberta").
   Os textos que faltam entram como último recurso do catálogo "sphinx" (o do pydata); os do
   catálogo "booktheme" são consultados aqui antes dos do tema.
2. A caixa de busca (o Jupyter Book fixa "Search this book...").
3. O botão "Relatar problema" abre o formulário em português de .github/ISSUE_TEMPLATE,
   com a página já preenchida (o tema monta um título e um texto em inglês).
4. Scripts repetidos: o sphinx-thebe 0.3.1 chama app.add_js_file() no evento
   env-before-read-docs; o script sem arquivo entra duas vezes na página (uma com
   filename=None, outra com filename=''), e a segunda cópia de `const THEBE_JS_URL` lança
   "Identifier 'THEBE_JS_URL' has already been declared" em todas as páginas.
5. Bibliografia: estilos do pybtex e do sphinxcontrib-bibtex com as palavras em português
   ("e", "Em", "Relatório técnico", meses...), registrados como plugins.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from urllib.parse import quote

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style import FormattedEntry
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.template import Node, optional, sentence, words
from pybtex.style.template import field as campo
from pybtex.style.template import names as nomes
from sphinx import locale
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

# Nome do arquivo em .github/ISSUE_TEMPLATE/ (um formulário do GitHub).
FORMULARIO_DE_PROBLEMA = "problema-no-site.yml"

# Textos dos modelos do pydata-sphinx-theme (catálogo "sphinx") sem tradução pt_BR.
TEXTOS_SPHINX = {
    "Skip to main content": "Pular para o conteúdo principal",
    "Back to top": "Voltar ao topo",
    "Color mode": "Modo de cor",
    "Light": "Claro",
    "Dark": "Escuro",
    "System Settings": "Igual ao sistema",
    "Site navigation": "Navegação do livro",
    "On this page": "Nesta página",
    "Section Navigation": "Navegação da seção",
    "Version warning": "Aviso de versão",
    "Announcement": "Aviso",
    "Breadcrumb": "Trilha de navegação",
    "Home": "Início",
    "Expand Sidebar": "Mostrar a barra lateral",
    "Collapse Sidebar": "Ocultar a barra lateral",
    "next page": "próxima página",
    "previous page": "página anterior",
    "Please activate JavaScript to enable the search functionality.":
        "Ative o JavaScript para usar a busca.",
}

# Catálogo "booktheme" (sphinx-book-theme): estes textos têm prioridade sobre a tradução do tema.
TEXTOS_LIVRO = {
    "Repository": "Repositório",
    "Source repository": "Repositório do curso",
    "Source repositories": "Repositório do curso",
    "Open issue": "Relatar problema",
    "Open an issue": "Relatar um problema nesta página",
    "open issue": "relatar problema",
    "Launch": "Abrir",
    "Launch on": "Abrir no",
    "Launch interactive content": "Abrir para executar",
    "logo": "(logotipo)",
    "Download this page": "Baixar esta página",
    "Download source file": "Baixar o arquivo-fonte",
    "Download notebook file": "Baixar o notebook",
    "Print to PDF": "Imprimir em PDF",
    "Fullscreen mode": "Tela cheia",
    "Edit this page": "Editar esta página",
    "Suggest edit": "Sugerir edição",
    "Show source": "Ver o código-fonte",
    "Toggle navigation": "Mostrar ou ocultar a navegação",
    "By": "Por",
    "Contents": "Conteúdo",
}

BUSCA = "Buscar neste livro…"


class _Dicionario(gettext.NullTranslations):
    """Tradução a partir de um dicionário; o que não estiver nele vai para o catálogo seguinte."""

    def __init__(self, textos):
        super().__init__()
        self._textos = textos

    def gettext(self, message):
        if message in self._textos:
            return self._textos[message]
        return super().gettext(message)

    def ngettext(self, msgid1, msgid2, n):
        if n == 1 and msgid1 in self._textos:
            return self._textos[msgid1]
        return super().ngettext(msgid1, msgid2, n)


def _instalar_textos(app):
    if not str(app.config.language or "").startswith("pt"):
        return
    # Catálogo "sphinx": o Jinja já guardou app.translator, então os textos entram no fim da cadeia.
    app.translator.add_fallback(_Dicionario(TEXTOS_SPHINX))
    # Catálogo "booktheme": lido a cada chamada em locale.translators, então entra na frente.
    chave = ("general", "booktheme")
    atual = locale.translators.get(chave)
    if not isinstance(atual, _Dicionario):
        nosso = _Dicionario(TEXTOS_LIVRO)
        if atual is not None:
            nosso.add_fallback(atual)
        locale.translators[chave] = nosso


def _caixa_de_busca(app, config):
    opcoes = config.html_theme_options
    if opcoes.get("search_bar_text") in (None, "Search this book..."):
        opcoes["search_bar_text"] = BUSCA


def _botao_de_problema(botoes, pagina, repo_url):
    for botao in botoes:
        if botao.get("label") == "source-issues-button" and "github.com" in botao.get("url", ""):
            titulo = f"Problema na página {pagina}"
            botao["url"] = (
                f"{repo_url.rstrip('/')}/issues/new?template={FORMULARIO_DE_PROBLEMA}"
                f"&title={quote(titulo)}&pagina={quote(pagina)}"
            )
        _botao_de_problema(botao.get("buttons", []), pagina, repo_url)


def _scripts_sem_repeticao(scripts):
    vistos, unicos = set(), []
    for script in scripts:
        nome = getattr(script, "filename", None)
        chave = ("arquivo", nome) if nome else ("corpo", getattr(script, "attributes", {}).get("body"))
        if chave not in vistos:
            vistos.add(chave)
            unicos.append(script)
    return unicos


def _ajustar_pagina(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = _scripts_sem_repeticao(context["script_files"])
    repo_url = app.config.html_theme_options.get("repository_url", "")
    if repo_url:
        _botao_de_problema(context.get("header_buttons", []), f"{pagename}.html", repo_url)


# ---------------------------------------------------------------- bibliografia

MESES = {
    "January": "janeiro", "February": "fevereiro", "March": "março", "April": "abril",
    "May": "maio", "June": "junho", "July": "julho", "August": "agosto",
    "September": "setembro", "October": "outubro", "November": "novembro", "December": "dezembro",
}
EDICOES = {"revised": "revisada", "second": "2ª", "third": "3ª", "fourth": "4ª", "fifth": "5ª"}
# Palavras fixas dos modelos do estilo unsrt do pybtex.
PALAVRAS = {
    "In": "Em", "in": "em", "of": "de", "Number": "Número", "number": "número",
    "pages": "páginas", "chapter": "capítulo", "editor": "editor", "editors": "editores",
    "Technical Report": "Relatório técnico", "PhD thesis": "Tese de doutorado",
    "Master's thesis": "Dissertação de mestrado",
}


def _mes(texto):
    return Text(MESES.get(str(texto), str(texto)))


def _traduzir_modelo(no):
    """Copia um modelo do pybtex trocando as palavras fixas (os nomes de campos ficam)."""
    if isinstance(no, str):
        return PALAVRAS.get(no, no)
    if not isinstance(no, Node):
        return no
    copia = no._clone()
    copia.children = [_traduzir_modelo(filho) for filho in copia.children]
    if copia.name in ("field", "optional_field") and copia.args[:1] == ["month"]:
        copia.kwargs.setdefault("apply_func", _mes)
    return copia


def _edicao(texto):
    return Text(EDICOES.get(str(texto).lower(), str(texto).lower()))


class EstiloPtBr(AlphaStyle):
    """O estilo "alpha" (o padrão do sphinxcontrib-bibtex) com as palavras em português."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        formatar = self.format_name  # o pybtex guarda o formatador de nomes na instância

        def format_name(person, abbreviate=False):
            # "and others" no .bib vira a pessoa "others"
            return Text("outros") if str(person) == "others" else formatar(person, abbreviate)

        self.format_name = format_name

    def format_names(self, role, as_sentence=True):
        lista = nomes(role, sep=", ", sep2=" e ", last_sep=" e ")
        return sentence[lista] if as_sentence else lista

    def format_edition(self, e):
        edicao = campo("edition", apply_func=_edicao)
        return optional[words["edição", edicao]]

    def format_entry(self, label, entry, bib_data=None):
        modelo = getattr(self, f"get_{entry.type}_template", None)
        if modelo is None:
            return super().format_entry(label, entry, bib_data)
        contexto = {"entry": entry, "style": self, "bib_data": bib_data}
        return FormattedEntry(entry.key, _traduzir_modelo(modelo(entry)).format_data(contexto), label)


def _pessoas_ptbr() -> PersonStyle:
    return PersonStyle(sep2=" e ", last_sep=" e ")


@dataclass
class ReferenciaPtBr(AuthorYearReferenceStyle):
    """Citações "autor, ano" com "e" entre dois autores (Howard e Ruder, 2018)."""

    person: PersonStyle = field(default_factory=_pessoas_ptbr)


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.formatting", "alpha_ptbr", EstiloPtBr)
    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_ptbr", ReferenciaPtBr)
    app.connect("config-inited", _caixa_de_busca)
    app.connect("builder-inited", _instalar_textos)
    # Depois do tema (prioridade 501), que é quem monta os botões e a lista de scripts.
    app.connect("html-page-context", _ajustar_pagina, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
