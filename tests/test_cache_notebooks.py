"""Um notebook rodado com o cache em disco dá os mesmos resultados que rodado sem ele.

O notebook 4 roda três vezes no modo de demonstração: com o cache desligado, com o cache frio
(pasta vazia) e de novo com o cache quente. Tirando as linhas de tempo e as que dizem de onde
veio a conta, as saídas têm de ser idênticas, linha a linha.
"""

from __future__ import annotations

import re

from tests.test_notebooks import _execute, _kernel_env, _output_text

# Linhas que mudam de uma execução para outra sem mudar nenhum resultado: tempos e a origem da conta.
VOLATILE = re.compile(r"\d\s*(s|ms|min)\b|cache em disco|Cache em disco|no total|\d+ ?x\b")


def results_of(nb) -> list[str]:
    lines = _output_text(nb, without_source=True).splitlines()
    return [line for line in lines if line.strip() and not VOLATILE.search(line)]


def test_notebook_with_cache_equals_without(tmp_path, spam_zip):
    env = _kernel_env(spam_zip, demo=True)
    runs, origins = {}, {}
    for run, folder in [("sem cache", "off"), ("frio", str(tmp_path / "cache")), ("quente", str(tmp_path / "cache"))]:
        env["LLMDEFINITIONS_CACHE_DIR"] = folder
        nb = _execute("04_abordagem2_cabeca", tmp_path / run.replace(" ", "_"), env)
        runs[run] = results_of(nb)
        origins[run] = _output_text(nb, without_source=True)
    assert len(runs["sem cache"]) > 20
    assert runs["frio"] == runs["sem cache"]
    assert runs["quente"] == runs["sem cache"]
    assert "cache em disco desligado" in origins["sem cache"]
    assert "calculado agora e guardado no cache em disco" in origins["frio"]
    assert "lido do cache em disco" in origins["quente"]
    assert "idênticos: True" in origins["quente"]
