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


def test_book_config_and_single_toc():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["raise_on_error"] is True
    assert config["language"].lower().startswith("pt")
    toc_link = REPO_ROOT / "book" / "_toc.yml"
    assert toc_link.is_symlink() and toc_link.resolve() == (REPO_ROOT / "_toc.yml").resolve()
    # O endereço do repositório fica só em _config.yml.
    assert config["repository"]["url"].startswith("https://github.com/")
    assert "urls" not in pyproject()["project"]
