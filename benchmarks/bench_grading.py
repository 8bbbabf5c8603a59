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
from entregas_simuladas import metadados_nbgrader as nbgrader_metadata  # noqa: E402
from entregas_simuladas import modificar_respostas  # noqa: E402


def _infinite_loops(nb):
    """Cada resposta de código vira um laço infinito (funções que nunca voltam)."""
    def never_return(source: str, names: list[str]) -> str:
        return source + "".join(f"\n\ndef {name}(*args, **kwargs):\n    while True:\n        pass" for name in names)

    return modificar_respostas(nb, never_return, sem_funcoes=lambda source: "while True:\n    pass\n" + source)


def _partial(solution, release):
    """Só a primeira resposta feita; o resto como na versão do aluno."""
    new = copy.deepcopy(release)
    done = next(c for c in solution.cells if nbgrader_metadata(c).get("solution") and c.cell_type == "code")
    for cell in new.cells:
        if nbgrader_metadata(cell).get("grade_id") == nbgrader_metadata(done)["grade_id"]:
            cell.source = done.source
    return new


def build_class(course: Path, submissions: int) -> dict[str, list[str]]:
    """Entrega as `submissions` atividades da turma em `course/submitted`: `{aluno: [atividades]}`."""
    sources = publicar.notebooks_fonte(course)
    assignments = [s.parent.name for s in sources]
    students: dict[str, list[str]] = {"laco": list(assignments)}
    profiles = ("solucao", "em_branco", "parcial")
    remaining, number = submissions - len(assignments), 0
    while remaining > 0:
        number += 1
        student = f"aluno{number:02d}"
        students[student] = assignments[:remaining]
        remaining -= len(students[student])
    for student, assigned in students.items():
        profile = "laco" if student == "laco" else profiles[(int(student[5:]) - 1) % len(profiles)]
        for source in sources:
            assignment = source.parent.name
            if assignment not in assigned:
                continue
            solution = nbformat.read(source, as_version=4)
            release = nbformat.read(course / "release" / assignment / source.name, as_version=4)
            nb = {"laco": lambda: _infinite_loops(solution), "solucao": lambda: solution,
                  "em_branco": lambda: release, "parcial": lambda: _partial(solution, release)}[profile]()
            target = course / "submitted" / student / assignment / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    return students


def scores(course: Path) -> dict[str, float]:
    """A nota de cada entrega no gradebook do curso: `{"aluno/atividade": nota}`."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                result[f"{submission.student.id}/{assignment.name}"] = float(submission.score)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entregas", dest="submissions", metavar="N", type=int, default=60)
    parser.add_argument("--processos", dest="processes", metavar="N", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sem-sequencial", dest="no_sequential", action="store_true",
                        help="não roda a correção sequencial de comparação")
    parser.add_argument("--observacao", dest="note", metavar="TEXTO", default="",
                        help="texto gravado no JSON (ex.: 'máquina compartilhada')")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "correcao-2-nucleos.json")
    args = parser.parse_args(argv)
    os.environ["PATH"] = publicar.ambiente_nbgrader()["PATH"]
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    with tempfile.TemporaryDirectory(prefix="bench-correcao-") as tmp:
        base = Path(tmp) / "base" / "exercises"
        publicar.copiar_curso(EXERCISES_DIR, base)
        publicar.gerar_release(base)
        students = build_class(base, args.submissions)
        total = sum(len(v) for v in students.values())
        print(f"Turma: {total} entregas de {len(students)} alunos ({len(students['laco'])} do aluno em laço); "
              f"{args.processes} processo(s); {os.cpu_count()} núcleos.", flush=True)

        parallel_dir = Path(tmp) / "paralelo" / "exercises"
        shutil.copytree(base, parallel_dir)
        start = time.monotonic()
        process = subprocess.run(
            [sys.executable, str(parallel_dir / "corrigir.py"), "--processos", str(args.processes)],
            cwd=parallel_dir, capture_output=True, text=True)
        parallel_s = time.monotonic() - start
        timeouts = re.findall(r"turma corrigida em \d+ s; (\d+) célula", process.stdout)
        print(f"Correção da turma (corrigir.py, {args.processes} em paralelo): {parallel_s:.0f} s "
              f"= {parallel_s / 60:.1f} min; células que passaram do tempo: {timeouts[-1] if timeouts else '?'}",
              flush=True)
        if "=== 4. Resumo ===" not in process.stdout:
            print(process.stdout[-4000:], process.stderr[-4000:])
            return 2
        parallel_scores = scores(parallel_dir)

        result = {
            "entregas": total, "alunos": len(students), "processos": args.processes, "nucleos": os.cpu_count(),
            "maquina": platform.processor() or platform.machine(), "observacao": args.note,
            "correcao_paralela_s": round(parallel_s, 1),
            "celulas_que_passaram_do_tempo": int(timeouts[-1]) if timeouts else None,
        }
        if not args.no_sequential:
            sequential_dir = Path(tmp) / "sequencial" / "exercises"
            shutil.copytree(base, sequential_dir)
            start = time.monotonic()
            publicar.rodar_nbgrader(["autograde", "*", "--force"], sequential_dir)
            sequential_s = time.monotonic() - start
            sequential_scores = scores(sequential_dir)
            different = sorted(k for k in set(parallel_scores) | set(sequential_scores)
                               if parallel_scores.get(k) != sequential_scores.get(k))
            print(f"nbgrader autograde sequencial (sem devolutivas): {sequential_s:.0f} s "
                  f"= {sequential_s / 60:.1f} min", flush=True)
            print(f"Notas iguais nas {len(parallel_scores)} entregas: {'sim' if not different else 'NÃO'}"
                  + (f" (diferentes: {different[:10]})" if different else ""), flush=True)
            result.update(autograde_sequencial_s=round(sequential_s, 1), notas_iguais=not different,
                          diferentes=different)
        result["notas"] = parallel_scores
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Resultado em {args.json}")
    return 0 if result.get("notas_iguais", True) else 1


if __name__ == "__main__":
    sys.exit(main())
