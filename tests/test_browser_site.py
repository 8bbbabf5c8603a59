"""O site construído, aberto num navegador de verdade, como o aluno o lê (computador e celular).

Em 1366×900 e 390×844, com o HTML do livro servido por um servidor local:
- no celular, o botão ☰ abre a navegação e o botão ☷ abre o conteúdo da página; no computador,
  o ☰ recolhe e devolve a barra lateral;
- nenhuma página tem erro de JavaScript (console.error ou exceção) nem pedido local que falhe;
- toda imagem local carrega; nenhuma página rola para o lado no celular;
- as respostas da autoavaliação (<details>) ficam fechadas até o clique e abrem com ele;
- no modo escuro, o texto das páginas tem contraste ≥ 4,5 com o fundo real.

Pedidos para fora (MathJax de um CDN, selo do Colab) recebem uma resposta vazia: o teste não
depende de internet, e eles não contam como falha.

Capturas de tela (claro e escuro, nas duas larguras) ficam em `_build/capturas/site/` (ou em
`$CAPTURAS_DIR/site/`); o fim do relatório do pytest diz onde.
Usa o Chromium do Debian (`/usr/bin/chromium`) pelo pacote `playwright`; nunca baixa um navegador.
Com `LLMDEFINITIONS_BUILT_HTML=/caminho/_build/html`, testa um site já construído em vez de construir o livro.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"Chromium do sistema ausente ({CHROMIUM}): apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pacote playwright ausente (extra [test])")

CAPTURAS = Path(os.environ.get("CAPTURAS_DIR") or REPO_ROOT / "_build" / "capturas") / "site"
TELAS = {"computador": (1366, 900), "celular": (390, 844)}
# Páginas fotografadas (claro e escuro, nas duas larguras).
PAGINAS_CAPTURADAS = [
    "intro.html",
    "conceitos/pipeline.html",
    "notebooks/05_abordagem3_ultimo_bloco.html",
    "exercises/release/ex01_divisao/ex01_divisao.html",
    "conceitos/leituras.html",
]
CONTRASTE_MINIMO = 4.5  # WCAG AA para texto comum


# ----------------------------------------------------------------------------- infraestrutura

@pytest.fixture(scope="module")
def site_html(built_html) -> Path:
    return built_html


class _Silencioso(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site_html):
    servidor = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Silencioso, directory=str(site_html))
    )
    threading.Thread(target=servidor.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{servidor.server_port}/"
    servidor.shutdown()
    servidor.server_close()


@pytest.fixture(scope="module")
def navegador():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def paginas(site_html) -> list[str]:
    """Todas as páginas do site, menos index.html (só redireciona para intro.html)."""
    nomes = sorted(
        p.relative_to(site_html).as_posix()
        for p in site_html.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(p.relative_to(site_html).parts)
    )
    nomes.remove("index.html")
    assert len(nomes) >= 25, nomes
    return nomes


def _abrir_contexto(navegador, base_url, tela: str, esquema: str = "light"):
    largura, altura = TELAS[tela]
    contexto = navegador.new_context(viewport={"width": largura, "height": altura}, color_scheme=esquema)
    # Sem internet: o que for de fora recebe uma resposta vazia (não é do site, não é testado aqui);
    # imagens de fora (o selo do Colab) viram um retângulo cinza, para as capturas não mostrarem
    # um ícone de imagem quebrada.
    def responder(rota):
        if rota.request.resource_type == "image":
            rota.fulfill(status=200, body=_IMAGEM_DE_FORA, content_type="image/svg+xml")
        else:
            rota.fulfill(status=200, body="")

    contexto.route(lambda url: not url.startswith(base_url), responder)
    return contexto


_IMAGEM_DE_FORA = ('<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20">'
                   '<rect width="117" height="20" rx="3" fill="#888"/></svg>')


class _Problemas:
    """Erros de JavaScript e pedidos locais que falharam, por página."""

    def __init__(self, pagina, base_url):
        self.lista: list[str] = []
        self.base_url = base_url
        pagina.on("pageerror", lambda erro: self.lista.append(f"exceção: {erro}"))
        pagina.on("console", self._console)
        pagina.on("response", self._resposta)
        pagina.on("requestfailed", self._falha)

    def _console(self, mensagem):
        if mensagem.type != "error":
            return
        # Erros sobre recursos de fora (aqui respondidos com um corpo vazio: o "integrity" do
        # require.js do CDN falha, por exemplo) não são do site e não dá para julgá-los sem internet.
        urls = re.findall(r"https?://[^\s'\"]+", mensagem.text) + [(mensagem.location or {}).get("url") or ""]
        if any(url and not url.startswith(self.base_url) for url in urls):
            return
        self.lista.append(f"console.error: {mensagem.text}")

    def _resposta(self, resposta):
        if resposta.url.startswith(self.base_url) and resposta.status >= 400:
            self.lista.append(f"HTTP {resposta.status}: {resposta.url.removeprefix(self.base_url)}")

    def _falha(self, pedido):
        # ERR_ABORTED: a próxima navegação do próprio teste cancelou o pedido (ex.: o ícone).
        if pedido.url.startswith(self.base_url) and "ERR_ABORTED" not in (pedido.failure or ""):
            self.lista.append(f"falhou ({pedido.failure}): {pedido.url.removeprefix(self.base_url)}")


def _relatar(request, linha: str) -> None:
    """Escreve no terminal mesmo com a captura de saída do pytest ligada (o log do CI mostra)."""
    captura = request.config.pluginmanager.getplugin("capturemanager")
    with captura.global_and_fixture_disabled():
        print(linha, flush=True)


def _capturar(pagina, nome: str) -> Path:
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    caminho = CAPTURAS / f"{nome}.png"
    pagina.screenshot(path=str(caminho))
    return caminho


def _nome_da_captura(pagina_html: str, tela: str, esquema: str, extra: str = "") -> str:
    base = pagina_html.removesuffix(".html").replace("/", "_")
    return "-".join(filter(None, [base, tela, esquema, extra]))


# Imagens locais que não carregaram (as "lazy" são forçadas a carregar antes de medir).
_IMAGENS_QUEBRADAS = """async () => {
  const locais = [...document.images].filter(i => i.src.startsWith(location.origin));
  await Promise.all(locais.map(i => { i.loading = "eager"; return i.decode().catch(() => null); }));
  return locais.filter(i => i.naturalWidth === 0).map(i => i.getAttribute("src"));
}"""

# Respostas da autoavaliação: quantas há, quantas já abertas, e se o conteúdo está escondido.
_DETALHES = """() => {
  const todos = [...document.querySelectorAll("article details")];
  const abertos = todos.filter(d => d.open).map(d => d.querySelector("summary")?.textContent.trim());
  return {total: todos.length, abertos};
}"""


# ----------------------------------------------------------------------------- testes

@pytest.mark.parametrize("tela", list(TELAS))
def test_todas_as_paginas_sem_erros_imagens_e_rolagem_lateral(request, navegador, base_url, paginas, tela):
    inicio = time.monotonic()
    contexto = _abrir_contexto(navegador, base_url, tela)
    pagina = contexto.new_page()
    problemas_por_pagina = {}
    largura = TELAS[tela][0]
    problemas = _Problemas(pagina, base_url)
    for nome in paginas:
        problemas.lista = []
        pagina.goto(base_url + nome, wait_until="load")
        quebradas = pagina.evaluate(_IMAGENS_QUEBRADAS)
        problemas.lista += [f"imagem não carregou: {src}" for src in quebradas]
        rolagem = pagina.evaluate("document.scrollingElement.scrollWidth")
        if rolagem > pagina.evaluate("innerWidth") + 1:
            problemas.lista.append(f"rola para o lado: {rolagem} px numa tela de {largura} px")
        detalhes = pagina.evaluate(_DETALHES)
        if detalhes["abertos"]:
            problemas.lista.append(f"<details> abertos sem clique: {detalhes['abertos']}")
        if problemas.lista:
            problemas_por_pagina[nome] = problemas.lista
    contexto.close()
    _relatar(request, f"\n[site, {tela}] {len(paginas)} páginas em {time.monotonic() - inicio:.0f} s; "
                      f"com problemas: {len(problemas_por_pagina)}")
    assert not problemas_por_pagina, "\n".join(
        f"{nome}: {lista}" for nome, lista in problemas_por_pagina.items()
    )


def test_icone_do_site(navegador, base_url):
    contexto = _abrir_contexto(navegador, base_url, "computador")
    pagina = contexto.new_page()
    pagina.goto(base_url + "intro.html")
    icone = pagina.get_attribute("link[rel='icon']", "href")
    assert icone, "sem <link rel='icon'>: o navegador pediria /favicon.ico (404)"
    resposta = pagina.request.get(base_url + icone)
    assert resposta.ok and resposta.body().lstrip().startswith(b"<svg"), icone
    contexto.close()


@pytest.mark.parametrize("pagina_html", ["intro.html", "notebooks/02_gpt2_pretreinado.html"])
def test_menus_no_celular_abrem_navegacao_e_conteudo(navegador, base_url, pagina_html):
    contexto = _abrir_contexto(navegador, base_url, "celular")
    pagina = contexto.new_page()
    problemas = _Problemas(pagina, base_url)
    pagina.goto(base_url + pagina_html)
    gaveta_nav = pagina.locator("#pst-primary-sidebar-modal")
    gaveta_toc = pagina.locator("#pst-secondary-sidebar-modal")
    assert not gaveta_nav.is_visible() and not gaveta_toc.is_visible()

    pagina.locator(".primary-toggle:visible").click()
    sumario = gaveta_nav.locator("nav.bd-docs-nav a.reference")
    sumario.first.wait_for(state="visible", timeout=3000)
    assert sumario.count() >= 25  # todas as páginas do sumário
    _capturar(pagina, _nome_da_captura(pagina_html, "celular", "claro", "menu"))
    pagina.keyboard.press("Escape")
    gaveta_nav.wait_for(state="hidden", timeout=3000)

    pagina.locator(".secondary-toggle:visible").click()
    secoes = gaveta_toc.locator("nav.page-toc a")
    secoes.first.wait_for(state="visible", timeout=3000)
    assert secoes.count() >= 3
    _capturar(pagina, _nome_da_captura(pagina_html, "celular", "claro", "conteudo"))
    pagina.keyboard.press("Escape")
    gaveta_toc.wait_for(state="hidden", timeout=3000)
    assert not problemas.lista, problemas.lista
    contexto.close()


def test_menu_no_computador_recolhe_a_barra_lateral(navegador, base_url):
    contexto = _abrir_contexto(navegador, base_url, "computador")
    pagina = contexto.new_page()
    pagina.goto(base_url + "intro.html")
    barra = pagina.locator("#pst-primary-sidebar")
    assert barra.is_visible()
    largura_antes = pagina.locator("article").bounding_box()["width"]
    pagina.locator(".primary-toggle:visible").click()
    barra.wait_for(state="hidden", timeout=3000)
    pagina.wait_for_timeout(500)  # fim da animação do tema
    assert pagina.locator("article").bounding_box()["width"] > largura_antes
    assert not pagina.locator("#pst-primary-sidebar-modal").is_visible()  # recolhe, não abre gaveta
    pagina.locator(".primary-toggle:visible").click()
    barra.wait_for(state="visible", timeout=3000)
    contexto.close()


@pytest.mark.parametrize("tela", list(TELAS))
def test_autoavaliacao_fechada_ate_o_clique(navegador, base_url, site_html, tela):
    def artigo(caminho):  # a barra lateral também usa <details> (seções do sumário)
        html = caminho.read_text(encoding="utf-8")
        return html[html.find("<article"):html.rfind("</article>")]

    com_detalhes = [
        p.relative_to(site_html).as_posix()
        for p in sorted(site_html.rglob("*.html"))
        if "_static" not in p.parts and "<details" in artigo(p)
    ]
    assert len(com_detalhes) >= 10, com_detalhes
    contexto = _abrir_contexto(navegador, base_url, tela)
    pagina = contexto.new_page()
    for nome in com_detalhes[:4] if tela == "computador" else com_detalhes:
        pagina.goto(base_url + nome)
        detalhes = pagina.locator("article details")
        assert detalhes.count() >= 1, nome
        primeiro = detalhes.first
        resposta = primeiro.locator(":scope > :not(summary)").first
        assert not primeiro.evaluate("d => d.open") and not resposta.is_visible(), nome
        primeiro.locator("summary").click()
        assert primeiro.evaluate("d => d.open"), nome
        resposta.wait_for(state="visible", timeout=2000)
    contexto.close()


# Contraste de cada texto do artigo com o fundo efetivo (as cores semitransparentes são compostas
# sobre as de baixo). Fica de fora o que tem paleta própria (código realçado e saídas de células).
_CONTRASTES = """() => {
  const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
  const sobre = (c, f) => [0, 1, 2].map(i => c[i] * c[3] + f[i] * (1 - c[3]));
  const lin = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  const lum = c => { const v = c.map(lin);
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  function fundo(el) {
    const camadas = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { camadas.push(c); if (c[3] === 1) break; }
    }
    let cor = [255, 255, 255];
    for (const c of camadas.reverse()) cor = sobre(c, cor);
    return cor;
  }
  const seletor = "article :is(p, li, dt, dd, summary, h1, h2, h3, h4, th, td, a, em, strong, figcaption, "
    + ".admonition-title)";
  const piores = [];
  for (const el of document.querySelectorAll(seletor)) {
    if (el.closest("pre, .highlight, .cell_output, .output, .MathJax, mjx-container")) continue;
    const texto = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
    if (!texto || el.getClientRects().length === 0) continue;
    const estilo = getComputedStyle(el);
    if (estilo.visibility === "hidden" || estilo.opacity === "0") continue;
    const f = fundo(el), c = sobre(rgba(estilo.color), f);
    const [a, b] = [lum(c), lum(f)].sort((x, y) => y - x);
    const razao = (a + 0.05) / (b + 0.05);
    piores.push({razao: Math.round(razao * 100) / 100, tag: el.tagName, texto: texto.slice(0, 40)});
  }
  piores.sort((x, y) => x.razao - y.razao);
  return {tema: document.documentElement.dataset.theme, medidos: piores.length, piores: piores.slice(0, 5)};
}"""


@pytest.mark.parametrize("tela", list(TELAS))
def test_capturas_e_contraste_no_claro_e_no_escuro(request, navegador, base_url, tela):
    medidas = []
    for esquema, nome_esquema in [("light", "claro"), ("dark", "escuro")]:
        contexto = _abrir_contexto(navegador, base_url, tela, esquema)
        pagina = contexto.new_page()
        for pagina_html in PAGINAS_CAPTURADAS:
            pagina.goto(base_url + pagina_html)
            resultado = pagina.evaluate(_CONTRASTES)
            assert resultado["tema"] == ("dark" if esquema == "dark" else "light"), resultado
            assert resultado["medidos"] >= 10, (pagina_html, resultado)
            medidas.append((pagina_html, nome_esquema, resultado["piores"][0]))
            _capturar(pagina, _nome_da_captura(pagina_html, tela, nome_esquema))
            ruins = [p for p in resultado["piores"] if p["razao"] < CONTRASTE_MINIMO]
            assert not ruins, f"{pagina_html} ({nome_esquema}, {tela}): contraste baixo {ruins}"
        contexto.close()
    pior = min(medidas, key=lambda m: m[2]["razao"])
    _relatar(request, f"\n[site, {tela}] pior contraste de texto: {pior[2]['razao']} "
                      f"({pior[0]}, {pior[1]}: {pior[2]['texto']!r}); capturas em {CAPTURAS}")
