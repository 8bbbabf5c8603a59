"""A barra de progresso (llmdefinitions/progress.py): widget no Jupyter, texto em silêncio sem widgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOISE = ("TqdmWarning", "IProgress", "ipywidgets", sys.prefix)


def _run_in_kernel(*sources: str, tmp_path: Path):
    """Executa as células num kernel `python3` novo e devolve as saídas de cada uma."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    return [cell.outputs for cell in nb.cells]


def _text(outputs, stream: str | None = None) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and stream in (None, o.name))


def test_plain_python_gets_text_bars_without_warnings():
    code = (
        "import tqdm.std, llmdefinitions.progress as p\n"
        "assert issubclass(p.tqdm, tqdm.std.tqdm) and not p.tqdm.__module__.startswith('tqdm.notebook')\n"
        "for _ in p.tqdm(range(3), desc='Treino'): pass\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Treino: 100%" in result.stderr  # a barra de texto
    assert not any(word in result.stderr for word in NOISE[:2])


def test_kernel_without_ipywidgets_falls_back_to_text_silently(tmp_path):
    imports, bar = _run_in_kernel(
        "import sys\nsys.modules['ipywidgets'] = None  # como um kernel sem ipywidgets",
        "import llmdefinitions.training, llmdefinitions.data\nfrom llmdefinitions.progress import tqdm",
        "for _ in tqdm(range(3), desc='Treino'): pass",
        tmp_path=tmp_path,
    )[1:]
    assert imports == []  # nem aviso nem caminho da instalação na célula de importação
    text = _text(bar)
    assert "Treino: 100%" in text
    assert not any(word in text for word in NOISE)
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in bar)


def test_kernel_with_ipywidgets_shows_a_widget(tmp_path):
    pytest.importorskip("ipywidgets")
    imports, bar = _run_in_kernel(
        "from llmdefinitions.progress import tqdm\nimport llmdefinitions",
        "for _ in tqdm(range(3), desc='Treino'): pass",
        tmp_path=tmp_path,
    )
    assert imports == []
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in bar)
    assert _text(bar, "stderr") == ""


def test_download_bar_only_for_a_real_download(tmp_path, spam_zip, capsys):
    """Baixar por HTTP mostra a barra; copiar um zip local (LLMDEFINITIONS_SPAM_ZIP) é instantâneo e não mostra."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from llmdefinitions import download_and_unzip_spam_data

    download_and_unzip_spam_data(url=spam_zip, zip_path=tmp_path / "local.zip", extracted_path=tmp_path / "a")
    assert "%|" not in capsys.readouterr().err

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(spam_zip.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{spam_zip.name}"
        download_and_unzip_spam_data(url=url, zip_path=tmp_path / "http.zip", extracted_path=tmp_path / "b")
    finally:
        server.shutdown()
        server.server_close()
    assert "http.zip: 100%|" in capsys.readouterr().err
