"""O pacote `llmdefinitions` lido como um livro: tamanhos, superfície pública e links de volta.

Regras do CONTRIBUTING.md, conferidas aqui:
- nenhum módulo passa de 400 linhas e nenhuma função (ou método) de 40;
- todo módulo declara `__all__`, e o que ele lista existe;
- nenhum módulo importa um nome privado (`_nome`) de outro módulo do pacote (nem os benchmarks e ferramentas);
- toda função ou classe pública tem docstring com o lugar onde o curso a ensina ("Notebook 5, §5.3"),
  e a seção existe de verdade no notebook;
- todo objeto que um notebook mostra com `show_source` cabe numa tela (até 40 linhas), e os ajudantes
  privados do pacote que ele chama também aparecem no notebook (ou foram incorporados a ele).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

import llmdefinitions

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO_ROOT / "llmdefinitions"
MODULE_FILES = sorted(PACKAGE_DIR.glob("*.py"))
MODULE_NAMES = [path.stem for path in MODULE_FILES if path.stem != "__init__"]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("0*.ipynb"))

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
MAX_SHOWN_LINES = 40
BACK_LINK = re.compile(r"Notebook (\d+), §(\d+)\.(\d+)")


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _code_cells(notebook: Path) -> list[str]:
    """O código de cada célula, sem as linhas de mágicas do IPython (`%...`, `!...`)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    codes = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    return ["\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())
            for code in codes]


def _sections(number: int) -> set[tuple[int, int]]:
    """As seções `## N.M` do notebook N."""
    [notebook] = [nb for nb in NOTEBOOKS if nb.name.startswith(f"{number:02d}_")] or [None]
    if notebook is None:
        return set()
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return {(int(n), int(m)) for n, m in re.findall(r"^##\s+(\d+)\.(\d+)\b", text, flags=re.MULTILINE)}


# --------------------------------------------------------------------------- tamanhos

@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.name)
def test_module_fits_the_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} linhas (limite {MAX_MODULE_LINES}); divida por conceito."


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.name)
def test_functions_fit_the_limit(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} linhas, linha {node.lineno})"
            for node in _functions(tree) if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: funções com mais de {MAX_FUNCTION_LINES} linhas: {long}"


# --------------------------------------------------------------------------- superfície pública

@pytest.mark.parametrize("name", ["__init__", *MODULE_NAMES])
def test_module_declares_all(name):
    module = importlib.import_module("llmdefinitions" if name == "__init__" else f"llmdefinitions.{name}")
    assert hasattr(module, "__all__"), f"{name}.py não declara __all__"
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ lista nomes que não existem: {missing}"
    private = [item for item in module.__all__ if item.startswith("_")]
    assert not private, f"{name}.__all__ lista nomes privados: {private}"


def test_package_all_is_the_union_of_what_it_imports():
    """O `__all__` do pacote não lista nada que não venha de um módulo."""
    assert len(set(llmdefinitions.__all__)) == len(llmdefinitions.__all__), "nomes repetidos em __all__"


def _private_imports(path: Path, package_modules: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, module_aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            is_package = node.level > 0 or source.split(".")[0] == "llmdefinitions"
            for alias in node.names:
                if is_package and alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"linha {node.lineno}: from {'.' * node.level}{source} import {alias.name}")
                if is_package and alias.name in package_modules:
                    module_aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("llmdefinitions."):
                    module_aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(f"linha {node.lineno}: {node.value.id}.{node.attr}")
    return found


PRODUCTION_CODE = [*MODULE_FILES, *sorted((REPO_ROOT / "benchmarks").glob("*.py")),
                   *sorted((REPO_ROOT / "tools").glob("*.py")), *sorted((REPO_ROOT / "exercises").glob("*.py"))]


@pytest.mark.parametrize("path", PRODUCTION_CODE, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_private_import_across_modules(path):
    found = _private_imports(path, set(MODULE_NAMES))
    assert not found, f"{path.relative_to(REPO_ROOT)} usa nomes privados de outro módulo: {found}"


# --------------------------------------------------------------------------- links de volta (como o #@save do d2l)

def _public_objects():
    for name in MODULE_NAMES:
        module = importlib.import_module(f"llmdefinitions.{name}")
        for item in module.__all__:
            obj = getattr(module, item)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", "") == module.__name__:
                yield f"{name}.{item}", obj


@pytest.mark.parametrize("qualname, obj", list(_public_objects()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_docstring_links_back_to_the_lesson(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    links = BACK_LINK.findall(doc)
    assert links, f'{qualname}: a docstring não diz onde o curso ensina isto (ex.: "Notebook 5, §5.3").'
    for notebook, section_nb, section in links:
        assert notebook == section_nb, f"{qualname}: 'Notebook {notebook}, §{section_nb}.{section}' mistura notebooks"
        assert (int(notebook), int(section)) in _sections(int(notebook)), (
            f"{qualname}: a seção §{notebook}.{section} não existe no notebook {notebook}"
        )


# --------------------------------------------------------------------------- o que os notebooks mostram

def _package_namespace(cells: list[str]) -> dict:
    """Executa só os imports do pacote que o notebook faz (o resto do notebook não roda)."""
    namespace: dict = {}
    for source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # células com mágicas do IPython
            continue
        for node in tree.body:
            imports_package = (
                (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("llmdefinitions"))
                or (isinstance(node, ast.Import) and any(a.name.startswith("llmdefinitions") for a in node.names))
            )
            if imports_package:
                exec(compile(ast.Module([node], []), "<notebook>", "exec"), namespace)
    return namespace


def _shown_expressions(cells: list[str]) -> list[ast.expr]:
    """Os argumentos de cada `show_source(...)`; num `for x in [a, b]: show_source(x)`, os itens da lista."""
    shown = []
    for source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        loops = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(
                    node.iter, (ast.List, ast.Tuple)):
                loops[node.target.id] = list(node.iter.elts)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source":
                for arg in node.args:
                    shown.extend(loops.get(arg.id, [arg]) if isinstance(arg, ast.Name) else [arg])
    return shown


def _shown_objects(notebook: Path) -> list:
    cells = _code_cells(notebook)
    namespace = _package_namespace(cells)
    objects = []
    for expression in _shown_expressions(cells):
        text = ast.unparse(expression)
        try:
            objects.append((text, eval(text, dict(namespace))))  # noqa: S307 (o texto vem do próprio notebook)
        except Exception as err:  # pragma: no cover - o teste diz qual e por quê
            pytest.fail(f"{notebook.name}: show_source({text}) não se resolve só com os imports do pacote: {err!r}")
    return objects


def _private_helpers(obj) -> set[str]:
    """Ajudantes privados do pacote que `obj` chama: `_f(...)` do próprio módulo e `self._m(...)`."""
    target = inspect.unwrap(obj)
    source = inspect.getsource(target)
    tree = ast.parse(inspect.cleandoc("\n" + source) if source[:1].isspace() else source)
    module = inspect.getmodule(target)
    owner = None
    if inspect.isfunction(target) and "." in target.__qualname__:
        owner = getattr(module, target.__qualname__.split(".")[0], None)
    helpers = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id.startswith("_") and not func.id.startswith("__"):
                if callable(getattr(module, func.id, None)):
                    helpers.add(f"{module.__name__.split('.')[-1]}.{func.id}")
            elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
                  and func.attr.startswith("_") and not func.attr.startswith("__")):
                cls = owner if owner is not None else (target if inspect.isclass(target) else None)
                if cls is not None and not inspect.isclass(target) and callable(getattr(cls, func.attr, None)):
                    helpers.add(f"{cls.__name__}.{func.attr}")
    return helpers


def _label(obj) -> str:
    target = inspect.unwrap(obj)
    module = inspect.getmodule(target).__name__.split(".")[-1]
    qualname = target.__qualname__
    return f"{qualname.split('.')[0]}.{qualname.split('.')[1]}" if "." in qualname else f"{module}.{qualname}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_shown_code_fits_a_screen(notebook):
    too_long = []
    for text, obj in _shown_objects(notebook):
        lines, _ = inspect.getsourcelines(inspect.unwrap(obj))
        if len(lines) > MAX_SHOWN_LINES:
            too_long.append(f"{text} ({len(lines)} linhas)")
    assert not too_long, f"{notebook.name}: show_source de objetos com mais de {MAX_SHOWN_LINES} linhas: {too_long}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_shown_code_shows_its_private_helpers(notebook):
    shown = _shown_objects(notebook)
    labels = {_label(obj) for _, obj in shown}
    hidden = {}
    for text, obj in shown:
        if inspect.getmodule(inspect.unwrap(obj)).__name__.startswith("llmdefinitions"):
            missing = sorted(_private_helpers(obj) - labels)
            if missing:
                hidden[text] = missing
    assert not hidden, f"{notebook.name}: ajudantes privados chamados mas nunca mostrados: {hidden}"
