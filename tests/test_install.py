"""A instalação dos alunos: um só bloco de comandos, igual em todas as páginas, que de fato abre o JupyterLab.

O segundo teste roda os comandos LITERAIS do bloco num ambiente virtual novo, numa cópia do
repositório numa pasta temporária. Só a linha do torch muda: em vez do índice de CPU do PyTorch
(internet), usa a mesma especificação do Makefile (TORCH_SPEC, a wheel de CPU no disco local).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO_ROOT

# As páginas que dizem ao aluno como instalar (book/notebooks/README.md é um link para notebooks/README.md).
STUDENT_PAGES = ["README.md", "book/intro.md", "book/exercicios.md", "notebooks/README.md"]
INSTALL_LINE = 'pip install -e ".[aluno]"'
FENCE = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)


def student_block(page: str) -> str:
    """O bloco ```bash da página que instala o extra `aluno` (exatamente um)."""
    text = (REPO_ROOT / page).read_text(encoding="utf-8")
    blocks = [b for b in FENCE.findall(text) if INSTALL_LINE in b]
    assert len(blocks) == 1, f"{page}: {len(blocks)} blocos com {INSTALL_LINE!r} (esperado: 1)"
    return blocks[0]


def test_student_install_block_is_the_same_on_every_page():
    blocks = {page: student_block(page) for page in STUDENT_PAGES}
    reference = blocks["README.md"]
    for page, block in blocks.items():
        assert block == reference, f"{page} tem outro bloco de instalação:\n{block}\n--- README.md:\n{reference}"
    lines = [line.split("#")[0].strip() for line in reference.splitlines()]
    assert lines[0] == "python -m venv .venv"
    assert lines[-1] == "jupyter lab notebooks/"
    assert sum(line.startswith("pip install torch") for line in lines) == 1
    # O torch vem antes do pacote: sem isso o pip puxa a build CUDA, de vários GB.
    assert lines.index(INSTALL_LINE) > next(i for i, line in enumerate(lines) if line.startswith("pip install torch"))
    # Nenhuma outra instalação do pacote nas páginas dos alunos (o antigo `pip install -e .` ou `.[book]`).
    for page in STUDENT_PAGES:
        text = (REPO_ROOT / page).read_text(encoding="utf-8")
        others = [m for m in re.findall(r"pip install -e \S+", text) if m != 'pip install -e ".[aluno]"']
        assert not others, f"{page}: outra instalação para alunos: {others}"


def torch_spec() -> str:
    """A mesma especificação do torch que o Makefile usa (TORCH_SPEC), ou a do ambiente."""
    if os.environ.get("TORCH_SPEC"):
        return os.environ["TORCH_SPEC"]
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^TORCH_SPEC \?= (.+)$", makefile, re.M).group(1).strip()


def copy_course(target: Path) -> None:
    """O que `pip install -e .` e `jupyter lab notebooks/` precisam, copiado do repositório."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "data", "gpt2", ".ipynb_checkpoints")
    target.mkdir()
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy2(REPO_ROOT / name, target / name)
    for name in ["llmdefinitions", "notebooks"]:
        shutil.copytree(REPO_ROOT / name, target / name, ignore=ignore)


def test_student_install_block_starts_jupyterlab(tmp_path):
    """Os comandos do bloco, um a um, num venv novo: o último abre mesmo o JupyterLab (leva ~1-3 min)."""
    lines = student_block("README.md").splitlines()
    script = "\n".join(f"pip install {torch_spec()}" if line.startswith("pip install torch") else line
                       for line in lines)
    course = tmp_path / "curso"
    copy_course(course)
    jupyter_dirs = {f"JUPYTER_{kind}_DIR": str(tmp_path / "jupyter" / kind.lower())
                    for kind in ["CONFIG", "DATA", "RUNTIME"]}
    config_dir = Path(jupyter_dirs["JUPYTER_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    # Sem navegador nesta máquina, e o CI roda como root: isso vai na configuração, e a linha de
    # comando fica literal.
    server_config = {"ServerApp": {"open_browser": False, "allow_root": True}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server_config))
    # `python` é o Python que roda os testes (em algumas máquinas só existe `python3`).
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").symlink_to(sys.executable)
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    # PIP_NO_COMPILE: sem pré-compilar os .pyc do torch e do Jupyter, a instalação leva bem menos
    # (o Python compila o que importar); o cache do pip é o de sempre.
    env.update(jupyter_dirs, PATH=f"{shim}{os.pathsep}{env['PATH']}", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_COMPILE="1")
    # O bin do .venv do projeto sai do PATH: `pip` e `jupyter` têm de vir do ambiente novo.
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if Path(p).resolve() != Path(sys.executable).parent.resolve())

    started = time.monotonic()
    proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=course, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True)
    reader.start()
    url = None
    try:
        deadline = started + 900
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1)
            found = re.search(r"(http://(?:127\.0\.0\.1|localhost):\d+/)lab\?token=(\w+)", "".join(log))
            url = found and found.groups()
        assert url, f"o JupyterLab não abriu (saída {proc.poll()}):\n{''.join(log)[-4000:]}"
        base, token = url
        with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=30) as response:
            assert response.status == 200 and "started" in json.load(response)
        with urllib.request.urlopen(f"{base}lab?token={token}", timeout=30) as response:
            assert response.status == 200 and "JupyterLab" in response.read().decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    print(f"bloco de instalação até o JupyterLab responder: {time.monotonic() - started:.0f} s")

    venv_bin = course / ".venv" / "bin"

    def run(*args: str) -> str:
        done = subprocess.run([str(venv_bin / args[0]), *args[1:]], cwd=course, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    version = run("jupyter", "lab", "--version").strip()
    assert int(version.split(".")[0]) >= 4, version
    specs = json.loads(run("jupyter", "kernelspec", "list", "--json"))["kernelspecs"]
    assert "python3" in specs, sorted(specs)
    checked = run("python", "-c", "import ipywidgets, llmdefinitions, torch; print(ipywidgets.__version__)")
    assert int(checked.split(".")[0]) >= 8, checked
