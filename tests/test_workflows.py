"""Os workflows do GitHub Actions (publicar o site, conferir links) não rodam aqui: conferimos
que são válidos (actionlint), seguros (zizmor) e que cada passo chama um alvo do Makefile que
existe — os mesmos que o CI daqui exercita (`make book` pelo teste do livro, `make test`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} não está instalado: `pip install -e .[test]` o instala")
    return str(path)


def _workflows() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(WORKFLOWS.glob("*.yml"))}


def test_the_two_workflows_exist():
    assert set(_workflows()) == {"site.yml", "linkcheck.yml"}


def test_actionlint_accepts_the_workflows():
    result = subprocess.run([_tool("actionlint"), "-no-color"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_no_security_problem():
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--config", ".github/zizmor.yml", ".github/workflows"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def _run_steps(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "run" in step]


def test_every_step_is_a_make_target_that_exists():
    for name, workflow in _workflows().items():
        for command in _run_steps(workflow):
            match = re.fullmatch(r"make (\w+)", command.strip())
            assert match, f"{name}: passo que não é um alvo do Makefile: {command!r}"
            dry_run = subprocess.run(["make", "-n", match[1]], cwd=REPO_ROOT, capture_output=True, text=True)
            assert dry_run.returncode == 0, dry_run.stderr


def test_site_workflow_builds_with_cpu_torch_and_deploys_only_from_main():
    site = _workflows()["site.yml"]
    triggers = site[True] if True in site else site["on"]  # o YAML lê `on:` como verdadeiro
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    assert "download.pytorch.org/whl/cpu" in site["env"]["TORCH_SPEC"]
    assert site["env"]["LLMDEFINITIONS_MODELS_DIR"].endswith(".cache/gpt2")  # os pesos reais, em cache
    build, deploy = site["jobs"]["build"], site["jobs"]["deploy"]
    assert "make book" in _run_steps({"jobs": {"build": build}})
    assert deploy["if"] == "github.event_name != 'pull_request'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert site["permissions"] == {"contents": "read"}  # só o token padrão, com o mínimo


def test_linkcheck_runs_weekly():
    linkcheck = _workflows()["linkcheck.yml"]
    triggers = linkcheck[True] if True in linkcheck else linkcheck["on"]
    assert re.fullmatch(r"\S+ \S+ \* \* [0-6]", triggers["schedule"][0]["cron"])
    assert _run_steps(linkcheck) == ["make linkcheck"]


def test_linkcheck_target_reads_the_book_without_executing_it():
    """O mesmo `make linkcheck` do workflow, aqui só com links internos (não há internet)."""
    result = subprocess.run(
        ["make", "linkcheck", "LINKCHECK_FLAGS=--so-internos"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "execution_mode='off'" in log  # nenhum notebook foi executado
    report = REPO_ROOT / "_build" / "linkcheck" / "_build" / "html" / "output.json"
    assert report.is_file() and "broken" not in report.read_text(encoding="utf-8")
    assert not (REPO_ROOT / "_config_linkcheck.yml").exists()  # a cópia temporária foi apagada
