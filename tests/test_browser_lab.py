"""Os notebooks no JupyterLab de verdade, num navegador de verdade (o Chromium do sistema).

Para cada notebook 01–07, numa cópia temporária de `notebooks/` e no modo de demonstração:
abre pela interface, roda tudo ("Run All") e confere o que o aluno vê:

- nenhuma célula com erro; nenhuma saída em stderr nas primeiras células (importações e preparo);
  nenhum caminho absoluto da máquina em saída nenhuma;
- o aviso "MODO DE DEMONSTRAÇÃO" nos notebooks que carregam o modelo (02–07), legível nos dois temas;
- os blocos de `show_source` legíveis no tema claro E no escuro: contraste WCAG >= 4,5:1 de cada
  token contra o fundo que ele tem de fato (calculado dos estilos computados pelo navegador), e
  linhas longas que rolam de lado (`white-space: pre`) em vez de quebrar a indentação;
- a barra de progresso do tqdm como widget (o download do dataset no notebook 1, servido por HTTP
  nesta máquina; os treinos dos notebooks rodam com `progress=False`);
- no notebook 5, a caixa "por que spam?" (`explain_interactively`): digita uma mensagem, clica em
  Explicar e lê a classe, p(spam) e os tokens coloridos (contraste >= 4,5 nos dois temas).

Capturas de tela (claro e escuro, por notebook) ficam em `_build/capturas/jupyterlab/` (ou em
`$CAPTURAS_DIR/jupyterlab/`) e o tempo de cada "Run All" em `resultados.json` na mesma pasta.
Usa o Chromium do Debian (`/usr/bin/chromium`) pelo pacote `playwright`; nunca baixa um navegador.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import CAPTURAS_RAIZ, SPAM_ZIP, TIKTOKEN_CACHE
from tests.test_notebooks import NOTEBOOKS

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CAPTURAS = CAPTURAS_RAIZ / "jupyterlab"  # _build/capturas/jupyterlab, ou $CAPTURAS_DIR/jupyterlab
RUN_ALL_TIMEOUT_S = 600  # por notebook; o 05 levou 199 s numa máquina de 2 núcleos livre
FIRST_CODE_CELLS = 4  # instalação do Colab, importações e preparo (no 01, o download): nada em stderr
MIN_CONTRAST = 4.5  # WCAG 2, nível AA, texto normal
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
# O 01 usa só o dataset (o real, do espelho) e o tokenizador: sem modelo, não há aviso de demonstração.
BANNER_NOTEBOOKS = set(NOTEBOOKS) - {"01_dados"}
WIDGET_NOTEBOOKS = {"01_dados"}  # notebooks em que uma barra do tqdm aparece ("Run All" no modo de demonstração)
EXPLAIN_NOTEBOOK = "05_abordagem3_ultimo_bloco"  # a caixa interativa "por que spam?"
TYPED_MESSAGE = "Congratulations Maria! Claim your FREE voucher today, reply WIN to 80086"

_results: dict[str, dict] = {}  # por notebook: tempo, contraste, widgets (vai para resultados.json)

# --------------------------------------------------------------------------- JavaScript na página

# Acha o painel do notebook aberto, espera o kernel e guarda o painel em window.__nb.
_JS_OPEN = """async (path) => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  let panel;
  for (let i = 0; i < 240 && !panel; i++) {  // a URL /lab/tree/... abre o notebook logo depois da restauração
    panel = Array.from(app.shell.widgets('main')).find(w => w.context && w.context.path === path);
    if (!panel) await new Promise(resolve => setTimeout(resolve, 500));
  }
  if (!panel) return false;
  await panel.context.ready; await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  window.__nb = panel;
  return true;
}"""

_JS_PROGRESS = """() => {
  const panel = window.__nb;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const hasError = c => Array.from({length: c.model.outputs.length}, (_, i) => c.model.outputs.get(i).type)
                            .includes('error');
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {total: cells.length, done: cells.filter(c => c.model.executionCount !== null).length,
          errors: cells.filter(hasError).length, kernel: kernel ? kernel.status : 'none'};
}"""

_JS_OUTPUTS = """() => window.__nb.content.widgets.filter(c => c.model.type === 'code')
                                  .map(c => c.model.outputs.toJSON())"""

_JS_SET_THEME = """async (theme) => {
  await window.jupyterapp.commands.execute('apputils:change-theme', {theme});
}"""

# O pior contraste (WCAG 2) entre a cor do texto de cada elemento e o fundo que ele tem de fato: o primeiro
# fundo não transparente, subindo pelos ancestrais. Tudo vem dos estilos computados pelo navegador.
_JS_WORST_CONTRAST = """(elements) => {
  const rgba = s => {
    const v = s.match(/rgba?\\(([^)]*)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return v.length > 3 ? v : [...v, 1];
  };
  const lum = c => {
    const f = x => { x /= 255; return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const background = el => {  // fundos semitransparentes são compostos sobre os de baixo
    const layers = [];
    for (let e = el; e && (!layers.length || layers[layers.length - 1][3] < 1); e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
    }
    return layers.reduceRight((below, top) => over(top, below), [255, 255, 255, 1]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const checks = elements.filter(e => Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => {
      const color = getComputedStyle(e).color, back = background(e);
      return {text: e.textContent.trim().slice(0, 40), color, ratio: ratio(over(rgba(color), back), back)};
    });
  return checks.length ? checks.reduce((a, b) => (a.ratio <= b.ratio ? a : b)) : null;
}"""

# Os blocos de show_source: cabeçalho "nome — arquivo, linhas a–b" seguido do <pre> com o código.
_JS_SOURCE_BLOCKS = f"""() => {{
  const worstContrast = {_JS_WORST_CONTRAST};
  const blocks = Array.from(document.querySelectorAll('.jp-OutputArea-output pre')).filter(pre =>
    pre.previousElementSibling && / — \\S+, linhas \\d+/.test(pre.previousElementSibling.textContent));
  return blocks.map(pre => {{
    const style = getComputedStyle(pre);
    return {{header: pre.previousElementSibling.textContent, whiteSpace: style.whiteSpace, overflowX: style.overflowX,
            worst: worstContrast([pre.previousElementSibling, pre, ...pre.querySelectorAll('*')])}};
  }});
}}"""

# O aviso do modo de demonstração (a caixa de show_warning) e o contraste do texto dele.
_JS_DEMO_BANNER = f"""() => {{
  const worstContrast = {_JS_WORST_CONTRAST};
  const box = Array.from(document.querySelectorAll('.jp-OutputArea-output div'))
    .find(d => d.firstElementChild && d.firstElementChild.textContent.includes('MODO DE DEMONSTRAÇÃO'));
  return box ? worstContrast([box, ...box.querySelectorAll('*')]) : null;
}}"""

_JS_WIDGETS = """() => ({
  progress: document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets.widget-hprogress').length,
  explain: document.querySelectorAll('.jp-OutputArea-output .explicacao-spam').length,
  broken: document.body.innerText.includes('Error displaying widget'),
})"""

# As explicações coloridas (explanation_html: um div role="figure" por mensagem): o pior contraste de
# todas e, na caixa interativa, o título (classe e p(spam)) e as cores de fundo dos tokens.
_JS_EXPLANATIONS = f"""() => {{
  const worstContrast = {_JS_WORST_CONTRAST};
  const figures = Array.from(document.querySelectorAll('.jp-OutputArea-output div[role=figure]'));
  const inBox = Array.from(document.querySelectorAll('.explicacao-spam div[role=figure]'));
  const last = inBox[inBox.length - 1];
  return {{
    count: figures.length,
    worst: figures.length ? worstContrast(figures.flatMap(f => [f, ...f.querySelectorAll('*')])) : null,
    box: last ? {{title: last.firstElementChild.textContent, text: last.children[1].textContent,
                 backgrounds: Array.from(last.children[1].children, e => getComputedStyle(e).backgroundColor)}}
              : null,
  }};
}}"""


# --------------------------------------------------------------------------- o servidor e o navegador

def _report(request, line: str) -> None:
    """Escreve no terminal mesmo com a captura do pytest ligada (o CI guarda o log)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(line, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    """Tema claro no início, sem pergunta de notícias, e todas as células no DOM (sem janela virtual)."""
    settings = {
        "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": LIGHT},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for relative, content in settings.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # sem uma linha por pedido no log do pytest
        pass


@pytest.fixture(scope="module")
def zip_url():
    """O zip do espelho servido por HTTP nesta máquina: o notebook 1 baixa de verdade, com barra."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(SPAM_ZIP.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/{SPAM_ZIP.name}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, request):
    """Um `jupyter lab` do .venv servindo uma cópia de notebooks/, com o kernel no modo de demonstração."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium do sistema ausente ({CHROMIUM}): apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="pacote playwright ausente (extra [test])")
    pytest.importorskip("jupyterlab", reason="JupyterLab ausente (extra [aluno])")
    jupyter_lab = Path(sys.executable).with_name("jupyter-lab")
    if not jupyter_lab.is_file():
        pytest.skip(f"comando jupyter-lab ausente ao lado de {sys.executable}")
    if not SPAM_ZIP.is_file():
        pytest.skip(f"espelho do dataset ausente: {SPAM_ZIP}")
    url_of_zip = request.getfixturevalue("zip_url")

    base = tmp_path_factory.mktemp("lab")
    workdir = base / "notebooks"  # os notebooks gravam dados ao lado deles: nunca no repositório
    workdir.mkdir()
    for tracked in [*sorted((REPO_ROOT / "notebooks").glob("*.ipynb")), REPO_ROOT / "notebooks" / "README.md"]:
        shutil.copy(tracked, workdir)  # só os arquivos versionados, sem dados de execuções anteriores
    _write_lab_settings(base / "settings")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LLMDEFINITIONS_", "JUPYTER"))}
    env.update({
        "LLMDEFINITIONS_DEMO": "1",  # o modelo pequeno de demonstração (sem pesos do GPT-2)
        "LLMDEFINITIONS_SPAM_ZIP": url_of_zip,  # um download por HTTP (um arquivo local não tem barra)
        "LLMDEFINITIONS_DEVICE": "cpu",
        "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    })
    port, token = _free_port(), secrets.token_hex(16)
    log = (base / "jupyter-lab.log").open("w")
    server = subprocess.Popen(
        [str(jupyter_lab), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={workdir}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.terminals_enabled=False",
         "--allow-root"],  # no CI, o contêiner roda como root
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail("jupyter lab terminou ao iniciar:\n" + (base / "jupyter-lab.log").read_text()[-3000:])
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("jupyter lab não respondeu em 180 s")
                time.sleep(1)
        yield {"url": url, "token": token, "workdir": workdir, "base": base}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if _results:
            CAPTURAS.mkdir(parents=True, exist_ok=True)
            (CAPTURAS / "resultados.json").write_text(json.dumps(_results, indent=2) + "\n", encoding="utf-8")
            _report(request, "Tempos do 'Run All' (s): " + str({n: r["run_all_s"] for n, r in _results.items()}))
        _report(request, f"Capturas do JupyterLab em {CAPTURAS}")


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- as conferências

def _run_all(page, name: str) -> dict:
    """Roda todas as células pela interface e espera cada uma ter número de execução (ou um erro)."""
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    while True:
        state = page.evaluate(_JS_PROGRESS)
        if state["errors"] or (state["done"] == state["total"] and state["kernel"] == "idle"):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: 'Run All' não terminou em {RUN_ALL_TIMEOUT_S} s: {state}")
        time.sleep(2)


def _output_texts(outputs: list[dict]) -> list[str]:
    texts = []
    for output in outputs:
        if output["output_type"] == "stream":
            texts.append("".join(output["text"]))
        elif output["output_type"] == "error":
            texts.append("\n".join(output["traceback"]))
        for mime in ("text/plain", "text/html", "text/markdown"):
            value = output.get("data", {}).get(mime)
            if value:
                texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def _machine_paths(lab) -> list[str]:
    """Prefixos de caminhos absolutos desta máquina que não podem aparecer numa saída."""
    paths = {str(REPO_ROOT), str(lab["base"]), str(Path(lab["base"]).resolve()), sys.prefix, str(Path.home())}
    return sorted(p for p in paths if len(p) > 1)


def _set_theme(page, theme: str) -> None:
    page.evaluate(_JS_SET_THEME, theme)
    light = "true" if theme == LIGHT else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.wait_for_timeout(1500)  # a folha de estilo nova termina de aplicar


def _screenshot(page, name: str, suffix: str) -> Path:
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    path = CAPTURAS / f"{name}-{suffix}.png"
    page.screenshot(path=str(path))
    return path


def _check_explain_box(page, name: str, request, result: dict) -> None:
    """Digita uma mensagem na caixa "por que spam?", clica em Explicar e lê o resultado nos dois temas."""
    _set_theme(page, LIGHT)
    box = page.locator(".explicacao-spam").first
    box.scroll_into_view_if_needed()
    box.locator("input[type=text]").fill(TYPED_MESSAGE)
    box.locator("button", has_text="Explicar").click()
    box.locator("div[role=figure]", has_text="voucher").wait_for(timeout=120_000)
    found = page.evaluate(_JS_EXPLANATIONS)
    shown = found["box"]
    match = re.search(r"Classe: (spam|not spam) · p\(spam\) = (\d,\d{3})", shown["title"])
    assert match, f"{name}: título da explicação inesperado: {shown['title']!r}"
    label, probability = match.group(1), float(match.group(2).replace(",", "."))
    assert (label == "spam") == (probability > 0.5), shown["title"]
    assert "DEMONSTRAÇÃO" in shown["title"]  # o modelo aleatório vem rotulado
    assert shown["text"] == TYPED_MESSAGE, f"{name}: os tokens não refazem a mensagem: {shown['text']!r}"
    assert len(shown["backgrounds"]) >= 10 and len(set(shown["backgrounds"])) > 1, shown["backgrounds"]
    result["explain_box"] = {"class": label, "p_spam": probability, "figures": found["count"]}
    for theme, suffix in [(LIGHT, "claro"), (DARK, "escuro")]:
        _set_theme(page, theme)
        worst = page.evaluate(_JS_EXPLANATIONS)["worst"]
        assert worst["ratio"] >= MIN_CONTRAST, f"{name} ({theme}): explicação colorida ilegível: {worst}"
        result[f"explain_contrast_{suffix}"] = round(worst["ratio"], 2)
        box.scroll_into_view_if_needed()
        path = _screenshot(page, name, f"explicacao-{suffix}")
        _report(request, f"{name} [{theme}]: caixa 'por que spam?': {label}, p(spam) {probability}; "
                         f"pior contraste {worst['ratio']:.2f}; captura: {path}")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_jupyterlab(name, lab, browser, request):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{lab['url']}/lab/tree/{name}.ipynb?reset&token={lab['token']}")
        page.wait_for_function("() => window.jupyterapp !== undefined")
        assert page.evaluate(_JS_OPEN, f"{name}.ipynb"), f"{name}: o notebook não abriu no JupyterLab"
        _set_theme(page, LIGHT)
        start = time.monotonic()
        state = _run_all(page, name)
        result = _results[name] = {"run_all_s": round(time.monotonic() - start, 1)}
        outputs = page.evaluate(_JS_OUTPUTS)

        # Nenhum erro, e cada célula rodou.
        errors = [(i, o.get("ename"), o.get("evalue")) for i, cell in enumerate(outputs) for o in cell
                  if o["output_type"] == "error"]
        assert not errors, f"{name}: células de código com erro: {errors}"
        assert state["done"] == state["total"], f"{name}: {state}"
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0

        # Primeiras células: nada em stderr (nem TqdmWarning, nem barra de texto).
        stderr = [(i, "".join(o["text"])[:300]) for i, cell in enumerate(outputs[:FIRST_CODE_CELLS]) for o in cell
                  if o["output_type"] == "stream" and o["name"] == "stderr"]
        assert not stderr, f"{name}: stderr nas primeiras células: {stderr}"
        result["stderr_cells"] = sorted({i for i, cell in enumerate(outputs) for o in cell
                                         if o["output_type"] == "stream" and o["name"] == "stderr"})

        # Nenhum caminho absoluto da máquina em saída nenhuma.
        leaked = [(i, p) for i, cell in enumerate(outputs) for text in _output_texts(cell)
                  for p in _machine_paths(lab) if p in text]
        assert not leaked, f"{name}: caminhos da máquina nas saídas (célula de código, caminho): {leaked}"

        # O aviso do modo de demonstração (a caixa de show_warning) aparece onde há modelo.
        has_banner = page.evaluate(_JS_DEMO_BANNER) is not None
        assert has_banner == (name in BANNER_NOTEBOOKS), f"{name}: aviso de demonstração presente? {has_banner}"

        # show_source legível nos dois temas.
        uses_show_source = "show_source(" in (REPO_ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        for theme, suffix in [(LIGHT, "claro"), (DARK, "escuro")]:
            _set_theme(page, theme)
            blocks = page.evaluate(_JS_SOURCE_BLOCKS)
            if uses_show_source:
                assert blocks, f"{name}: nenhum bloco de show_source na página"
            for block in blocks:
                assert block["whiteSpace"] == "pre" and block["overflowX"] == "auto", (name, theme, block)
                assert block["worst"]["ratio"] >= MIN_CONTRAST, f"{name} ({theme}): {block}"
            if blocks:
                page.locator(".jp-OutputArea-output pre").filter(has_text="def ").first.scroll_into_view_if_needed()
            path = _screenshot(page, name, suffix)
            worst = min((round(b["worst"]["ratio"], 2) for b in blocks), default=None)
            _report(request, f"{name} [{theme}]: {len(blocks)} blocos de show_source, pior contraste {worst}; "
                             f"captura: {path}")
            result.update({"show_source_blocks": len(blocks), f"worst_contrast_{suffix}": worst})
            if has_banner:  # a caixa define a própria cor de texto: legível nos dois temas
                banner = page.evaluate(_JS_DEMO_BANNER)
                result[f"banner_contrast_{suffix}"] = round(banner["ratio"], 2)
                assert banner["ratio"] >= MIN_CONTRAST, f"{name} ({theme}): aviso de demonstração ilegível: {banner}"
                page.locator(".jp-OutputArea-output").filter(has_text=re.compile("MODO DE DEMONSTRAÇÃO")).first \
                    .scroll_into_view_if_needed()
                _report(request, f"{name} [{theme}]: aviso de demonstração, contraste {banner['ratio']:.2f}; "
                                 f"captura: {_screenshot(page, name, f'aviso-{suffix}')}")

        # A barra do tqdm é um widget (e nada de "Error displaying widget").
        widget_outputs = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                             for cell in outputs for o in cell)
        widgets = page.evaluate(_JS_WIDGETS)
        result["progress_widgets"] = widgets["progress"]
        assert not widgets["broken"], f"{name}: widget não exibido"
        assert widgets["progress"] + widgets["explain"] == widget_outputs, f"{name}: {widget_outputs} saídas, {widgets}"
        assert widgets["explain"] == (name == EXPLAIN_NOTEBOOK), f"{name}: caixa 'por que spam?': {widgets}"
        if name == EXPLAIN_NOTEBOOK:
            _check_explain_box(page, name, request, result)
        if name in WIDGET_NOTEBOOKS:
            assert widgets["progress"] >= 1, f"{name}: a barra de progresso não virou widget: {widgets}"
            page.locator(".jupyter-widgets.widget-hprogress").first.scroll_into_view_if_needed()
            _set_theme(page, LIGHT)
            _report(request, f"{name}: barra de progresso como widget; captura: {_screenshot(page, name, 'widget')}")
    finally:
        try:
            page.evaluate("async () => { if (window.__nb) await window.__nb.sessionContext.shutdown(); }")
        finally:
            page.close()
