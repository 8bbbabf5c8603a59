"""Empacotamento, README e CI dizem a mesma coisa."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import REPO_ROOT


def pyproject():
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_requirements_have_lower_bounds_only():
    project = pyproject()["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for req in requirements:
        if req.startswith("llmdefinitions["):
            continue
        assert ">=" in req and "==" not in req, req
        if "<" in req.replace("<=", ""):
            assert req.startswith("jupyter-book"), f"só o Jupyter Book v1 tem teto: {req}"
    assert any(r.startswith("torch>=") for r in project["dependencies"])


def test_environment_yml_installs_the_project_itself():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_entries = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_entries == ["-e .[all]"]  # as dependências vêm só do pyproject.toml


def test_readme_commands_exist_in_makefile_and_ci():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make book" in readme and "make test" in readme
    assert re.search(r"^book:", makefile, re.M) and "jupyter-book build book" in makefile
    assert re.search(r"^test:", makefile, re.M)
    assert "make test" in ci and ci.index("torch==2.13.0") < ci.rindex("make test")


def test_lint_runs_in_make_test():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lint:.*\n\t\$\(BIN\)/ruff check \.$", makefile, re.M)
    assert re.search(r"^test:.*\blint\b", makefile, re.M), "o make test roda o make lint antes do pytest"
    ruff = pyproject()["tool"]["ruff"]
    assert ruff["line-length"] == 120 and set(ruff["lint"]["select"]) == {"E", "F", "W", "I"}
    assert any(r.startswith("ruff>=") for r in pyproject()["project"]["optional-dependencies"]["test"])


def test_contributing_guide_linked_and_in_sync():
    """O CONTRIBUTING.md existe, o README aponta para ele, e ele cita cada módulo do pacote e só
    alvos do Makefile que existem."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    guide = (REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "(CONTRIBUTING.md)" in readme
    modules = sorted(p.name for p in (REPO_ROOT / "llmdefinitions").glob("*.py") if p.name != "__init__.py")
    assert [m for m in modules if f"`{m}`" not in guide] == [], "módulos sem linha na tabela do CONTRIBUTING.md"
    for target in sorted(set(re.findall(r"`make ([\w-]+)", guide))):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} citado no CONTRIBUTING.md não existe"


def test_book_config_and_single_toc():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["raise_on_error"] is True
    assert config["language"].lower().startswith("pt")
    toc_link = REPO_ROOT / "book" / "_toc.yml"
    assert toc_link.is_symlink() and toc_link.resolve() == (REPO_ROOT / "_toc.yml").resolve()
    # O endereço do repositório fica só em _config.yml.
    assert config["repository"]["url"].startswith("https://github.com/")
    assert "urls" not in pyproject()["project"]


# --------------------------------------------------------------------------- o pacote como pacote

import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import zipfile  # noqa: E402

import pytest  # noqa: E402


def _package_data_files() -> list[str]:
    return pyproject()["tool"]["setuptools"]["package-data"]["llmdefinitions"]


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_wheel_and_sdist_carry_the_course_data_and_pass_twine(dist_dir):
    wheel = next(dist_dir.glob("*.whl"))
    sdist = next(dist_dir.glob("*.tar.gz"))
    names = zipfile.ZipFile(wheel).namelist()
    for data_file in _package_data_files():
        assert f"llmdefinitions/{data_file}" in names, data_file
        assert any(name.endswith(f"llmdefinitions/{data_file}") for name in tarfile.open(sdist).getnames())
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "exercises/"))]
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, (wheel, sdist))],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _import_from(target, tmp_path) -> str:
    """Importa o pacote instalado em `target` (não o do repositório) e lê a amostra de dados."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import llmdefinitions as p; "
        "from llmdefinitions import load_sms_spam; from llmdefinitions.course import course_data_file; "
        "print(p.__file__); print(len(load_sms_spam(course_data_file(sys.argv[2]))))"
    )
    env = {"PATH": "/usr/bin:/bin", "LLMDEFINITIONS_SPAM_ZIP": str(tmp_path / "sem-dataset.zip")}
    result = subprocess.run([sys.executable, "-c", code, str(target), str(tmp_path / "dados")],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_installed_wheel_imports_and_reads_its_sample(dist_dir, tmp_path):
    target = tmp_path / "instalado"
    wheel = next(dist_dir.glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    out = _import_from(target, tmp_path)
    assert str(target) in out.splitlines()[0]  # o pacote veio da wheel, não do repositório
    assert out.splitlines()[-1] == "200"  # a amostra do curso está dentro do pacote


def test_colab_cell_installs_this_package_from_git(tmp_path):
    """A célula do Colab faz `pip install git+<repositório>`: com este repositório, sai este pacote."""
    target = tmp_path / "via-git"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), f"git+file://{REPO_ROOT}"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = _import_from(target, tmp_path)
    assert str(target) in out.splitlines()[0] and out.splitlines()[-1] == "200"
