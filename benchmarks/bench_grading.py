"""Benchmark da correção: uma turma de 60 entregas, com um aluno que entra em laço infinito em
todas as atividades, corrigida por `exercises/corrigir.py` (alunos em paralelo) e, para comparar
as notas, por um `nbgrader autograde "*"` sequencial (um processo, o nbgrader puro, mesma config).

Tudo numa cópia temporária do curso (nada muda em exercises/). A turma:
- `laco`: entrega todas as atividades; cada função que ele escreve entra em `while True: pass`
  (e a resposta sem função, um laço solto): toda célula de teste passa do tempo;
- os outros alunos se revezam entre a solução do professor, a versão do aluno em branco e uma
  entrega parcial (só a primeira resposta feita), até completar as 60 entregas.

Uso (da raiz do repositório, com o ambiente do curso):
    python benchmarks/bench_grading.py                       # paralelo + sequencial, imprime e grava o JSON
    python benchmarks/bench_grading.py --sem-sequencial      # só o tempo da turma em paralelo
    python benchmarks/bench_grading.py --entregas 24 --json /tmp/x.json

Imprime o tempo da turma, o tempo sequencial e se as notas são idênticas (entrega a entrega).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
EXERCISES_DIR = REPO_ROOT / "exercises"
sys.path.insert(0, str(EXERCISES_DIR))

import publicar  # noqa: E402
from entregas_simuladas import metadados_nbgrader as _nbgrader  # noqa: E402
from entregas_simuladas import modificar_respostas  # noqa: E402


def _em_laco(nb):
    """Cada resposta de código vira um laço infinito (funções que nunca voltam)."""
    def nunca_voltam(fonte: str, nomes: list[str]) -> str:
        return fonte + "".join(f"\n\ndef {nome}(*args, **kwargs):\n    while True:\n        pass" for nome in nomes)

    return modificar_respostas(nb, nunca_voltam, sem_funcoes=lambda fonte: "while True:\n    pass\n" + fonte)


def _parcial(fonte, release):
    """Só a primeira resposta feita; o resto como na versão do aluno."""
    novo = copy.deepcopy(release)
    feita = next(c for c in fonte.cells if _nbgrader(c).get("solution") and c.cell_type == "code")
    for celula in novo.cells:
        if _nbgrader(celula).get("grade_id") == _nbgrader(feita)["grade_id"]:
            celula.source = feita.source
    return novo


def montar_turma(pasta: Path, entregas: int) -> dict[str, list[str]]:
    fontes = publicar.notebooks_fonte(pasta)
    atividades = [f.parent.name for f in fontes]
    turma: dict[str, list[str]] = {"laco": list(atividades)}
    perfis = ("solucao", "em_branco", "parcial")
    restante, numero = entregas - len(atividades), 0
    while restante > 0:
        numero += 1
        aluno = f"aluno{numero:02d}"
        turma[aluno] = atividades[:restante]
        restante -= len(turma[aluno])
    for aluno, lista in turma.items():
        perfil = "laco" if aluno == "laco" else perfis[(int(aluno[5:]) - 1) % len(perfis)]
        for fonte in fontes:
            atividade = fonte.parent.name
            if atividade not in lista:
                continue
            solucao = nbformat.read(fonte, as_version=4)
            release = nbformat.read(pasta / "release" / atividade / fonte.name, as_version=4)
            nb = {"laco": lambda: _em_laco(solucao), "solucao": lambda: solucao, "em_branco": lambda: release,
                  "parcial": lambda: _parcial(solucao, release)}[perfil]()
            destino = pasta / "submitted" / aluno / atividade / fonte.name
            destino.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, destino)
    return turma


def notas(pasta: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    resultado = {}
    with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
        for atividade in gradebook.assignments:
            for submissao in gradebook.assignment_submissions(atividade.name):
                resultado[f"{submissao.student.id}/{atividade.name}"] = float(submissao.score)
    return resultado


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entregas", type=int, default=60)
    parser.add_argument("--processos", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sem-sequencial", action="store_true", help="não roda a correção sequencial de comparação")
    parser.add_argument("--observacao", default="", help="texto gravado no JSON (ex.: 'máquina compartilhada')")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "correcao-2-nucleos.json")
    args = parser.parse_args(argv)
    os.environ["PATH"] = publicar.ambiente_nbgrader()["PATH"]
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    with tempfile.TemporaryDirectory(prefix="bench-correcao-") as temporaria:
        base = Path(temporaria) / "base" / "exercises"
        publicar.copiar_curso(EXERCISES_DIR, base)
        publicar.gerar_release(base)
        turma = montar_turma(base, args.entregas)
        total = sum(len(v) for v in turma.values())
        print(f"Turma: {total} entregas de {len(turma)} alunos ({len(turma['laco'])} do aluno em laço); "
              f"{args.processos} processo(s); {os.cpu_count()} núcleos.", flush=True)

        paralelo = Path(temporaria) / "paralelo" / "exercises"
        shutil.copytree(base, paralelo)
        inicio = time.monotonic()
        processo = subprocess.run([sys.executable, str(paralelo / "corrigir.py"), "--processos", str(args.processos)],
                                  cwd=paralelo, capture_output=True, text=True)
        tempo_paralelo = time.monotonic() - inicio
        estouros = re.findall(r"turma corrigida em \d+ s; (\d+) célula", processo.stdout)
        print(f"Correção da turma (corrigir.py, {args.processos} em paralelo): {tempo_paralelo:.0f} s "
              f"= {tempo_paralelo / 60:.1f} min; células que passaram do tempo: {estouros[-1] if estouros else '?'}",
              flush=True)
        if "=== 4. Resumo ===" not in processo.stdout:
            print(processo.stdout[-4000:], processo.stderr[-4000:])
            return 2
        notas_paralelo = notas(paralelo)

        resultado = {
            "entregas": total, "alunos": len(turma), "processos": args.processos, "nucleos": os.cpu_count(),
            "maquina": platform.processor() or platform.machine(), "observacao": args.observacao,
            "correcao_paralela_s": round(tempo_paralelo, 1),
            "celulas_que_passaram_do_tempo": int(estouros[-1]) if estouros else None,
        }
        if not args.sem_sequencial:
            sequencial = Path(temporaria) / "sequencial" / "exercises"
            shutil.copytree(base, sequencial)
            inicio = time.monotonic()
            publicar.rodar_nbgrader(["autograde", "*", "--force"], sequencial)
            tempo_sequencial = time.monotonic() - inicio
            notas_sequencial = notas(sequencial)
            diferentes = sorted(k for k in set(notas_paralelo) | set(notas_sequencial)
                                if notas_paralelo.get(k) != notas_sequencial.get(k))
            print(f"nbgrader autograde sequencial (sem devolutivas): {tempo_sequencial:.0f} s "
                  f"= {tempo_sequencial / 60:.1f} min", flush=True)
            print(f"Notas iguais nas {len(notas_paralelo)} entregas: {'sim' if not diferentes else 'NÃO'}"
                  + (f" (diferentes: {diferentes[:10]})" if diferentes else ""), flush=True)
            resultado.update(autograde_sequencial_s=round(tempo_sequencial, 1), notas_iguais=not diferentes,
                             diferentes=diferentes)
        resultado["notas"] = notas_paralelo
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(resultado, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Resultado em {args.json}")
    return 0 if resultado.get("notas_iguais", True) else 1


if __name__ == "__main__":
    sys.exit(main())
