"""Roda cada notebook do curso como script e mede quanto tempo ele leva.

Serve para máquinas sem Jupyter (como a máquina com GPU da equipe, que tem Python, torch,
numpy e pandas, mas não o Jupyter): as células de código de cada notebook são executadas em
ordem, num espaço de nomes novo para cada notebook (como um kernel novo), todos na mesma
pasta temporária (como na construção do livro, onde rodam todos em notebooks/). Os
comandos mágicos do IPython (`%matplotlib inline`, `%pip ...`) viram `pass`; o resto do
código roda exatamente como está no notebook.

Dois modos:

- **notebooks avulsos** (o padrão): todos num processo só, um depois do outro; o pico de RSS
  gravado é o do processo até aquele notebook.
- **o curso** (`--course`): os notebooks 01–07 em ordem, **cada um no seu subprocesso** (como um
  kernel novo; o pico de RSS é só daquele notebook), numa pasta de trabalho compartilhada (o que
  um notebook grava, como `data/`, fica para os seguintes). Primeiro com o cache em disco do
  trabalho congelado **frio** (uma pasta nova e vazia em `LLMDEFINITIONS_CACHE_DIR`), depois
  de novo com o cache **quente** (a mesma pasta de cache e a mesma pasta de trabalho: é o aluno
  que reinicia o kernel e roda tudo outra vez no mesmo computador). Grava o tempo de cada
  notebook, o pico de RSS, o tamanho do cache no disco e a máquina. Para máquinas que limitam o
  tempo de cada comando, o curso pode rodar em pedaços (`--phase`, `--cache-dir`, `--workdir` e os
  nomes dos notebooks) que se somam no mesmo `--json`; o pedaço que começa a fase fria no primeiro
  notebook esvazia o cache e começa um registro novo.

Uso (os mesmos modos dos notebooks: `LLMDEFINITIONS_MODELS_DIR`, `LLMDEFINITIONS_SPAM_ZIP`,
`LLMDEFINITIONS_DEVICE`; veja benchmarks/README.md):
    python benchmarks/bench_notebooks.py --json benchmarks/results/notebooks-cpu.json
    python benchmarks/bench_notebooks.py 05_abordagem3_ultimo_bloco   # só um notebook
    python benchmarks/bench_notebooks.py --make-checkpoints /tmp/modelos   # GPT-2 small e DistilBERT aleatórios
    python benchmarks/bench_notebooks.py --course --threads 2 --models-dir /tmp/modelos \\
        --json benchmarks/results/curso-cpu-2-threads.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# `%pip ...`, `%%time`, `!ls`: comandos do IPython (mas não `!=` nem `% 2` no meio de uma expressão).
MAGIC_LINE = re.compile(r"^(\s*)(?:%{1,2}|!)[A-Za-z].*$", flags=re.M)
PHASES = ("cold", "warm")
PHASE_NAMES = {"cold": "frio", "warm": "quente"}
COURSE_FORMAT = 1
# O que a fase quente reaproveita da fria, gravado no JSON.
WARM_WORKDIR = ("a mesma pasta de trabalho e a mesma pasta de cache da fase fria: o aluno que reinicia o kernel e "
                "roda os notebooks de novo no mesmo computador (os arquivos que eles gravam, como data/, já estão lá)")
# As variáveis de ambiente que mudam o que os notebooks fazem: gravadas com cada execução.
RECORDED_ENV = ("LLMDEFINITIONS_MODELS_DIR", "LLMDEFINITIONS_DEMO", "LLMDEFINITIONS_DEVICE", "LLMDEFINITIONS_SPAM_ZIP",
                "LLMDEFINITIONS_CACHE_MAX_GB", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def notebook_cells(path: Path) -> list[str]:
    """O código de cada célula, com as linhas mágicas trocadas por `pass` (mesma indentação)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [MAGIC_LINE.sub(r"\1pass", "".join(cell["source"])) for cell in cells if cell["cell_type"] == "code"]


def _display(*objects, **_kwargs) -> None:
    """O `display` do Jupyter fora dele: imprime a representação de texto."""
    for obj in objects:
        print(repr(obj))


def run_notebook(path: Path, workdir: Path) -> dict:
    """Executa as células em ordem; devolve o tempo total, o de cada célula e o erro, se houver."""
    namespace = {"__name__": "__main__", "display": _display}  # `display` é um nome pronto no Jupyter
    cell_times, error = [], None
    previous = Path.cwd()
    os.chdir(workdir)
    start = time.perf_counter()
    try:
        for index, code in enumerate(notebook_cells(path)):
            cell_start = time.perf_counter()
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"{path.name}[{index}]", "exec"), namespace)
            except Exception:  # noqa: BLE001 - o erro é relatado e o notebook é dado como falho
                error = traceback.format_exc(limit=3)
                break
            finally:
                cell_times.append(round(time.perf_counter() - cell_start, 3))
    finally:
        os.chdir(previous)
    seconds = round(time.perf_counter() - start, 2)
    from llmdefinitions.memory import peak_rss_mb  # o pico de memória residente do processo até aqui

    return {"seconds": seconds, "cell_seconds": cell_times, "peak_rss_mb": round(peak_rss_mb()), "error": error}


def cpu_model() -> str | None:
    """O nome do processador (`model name` em /proc/cpuinfo, no Linux), ou o que a plataforma disser."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def machine_description() -> dict:
    import torch

    from llmdefinitions import get_device

    device = get_device()
    info = {"python": platform.python_version(), "torch": torch.__version__, "device": str(device),
            "cpu_cores": os.cpu_count()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    for package in ("numpy", "pandas", "sklearn", "transformers"):
        with contextlib.suppress(ImportError):
            info[package] = __import__(package).__version__
    return info


def course_machine(threads: int | None) -> dict:
    """`machine_description()` mais o processador, os núcleos que o processo pode usar (`taskset`) e as threads."""
    info = {**machine_description(), "cpu_model": cpu_model(), "threads": threads}
    if hasattr(os, "sched_getaffinity"):
        info["cpus_allowed"] = len(os.sched_getaffinity(0))
    return info


# ----------------------------------------------------------------------------------------------
# O curso: cada notebook num subprocesso, fase fria e fase quente


def course_notebooks(notebooks_dir: Path) -> list[str]:
    """Os notebooks do curso, na ordem em que o aluno os roda (a ordem dos nomes: 01, 02, ...)."""
    return [path.stem for path in sorted(Path(notebooks_dir).glob("*.ipynb"))]


def cache_size(cache_dir: Path) -> tuple[int, float]:
    """(arquivos, MB) do cache em disco nessa pasta, como `llmdefinitions.disk_cache.cache_info` os conta."""
    from llmdefinitions.disk_cache import CACHE_DIR_ENV_VAR, cache_info

    previous = os.environ.get(CACHE_DIR_ENV_VAR)
    os.environ[CACHE_DIR_ENV_VAR] = str(cache_dir)
    try:
        info = cache_info()
    finally:
        if previous is None:
            os.environ.pop(CACHE_DIR_ENV_VAR, None)
        else:
            os.environ[CACHE_DIR_ENV_VAR] = previous
    return info.files, round(info.nbytes / 1e6, 1)


def clear_cache_dir(cache_dir: Path) -> int:
    """Esvazia o cache nessa pasta (só os arquivos do cache); devolve os bytes liberados."""
    from llmdefinitions.disk_cache import CACHE_DIR_ENV_VAR, clear_cache

    previous = os.environ.get(CACHE_DIR_ENV_VAR)
    os.environ[CACHE_DIR_ENV_VAR] = str(cache_dir)
    try:
        return clear_cache()
    finally:
        if previous is None:
            os.environ.pop(CACHE_DIR_ENV_VAR, None)
        else:
            os.environ[CACHE_DIR_ENV_VAR] = previous


def child_environment(cache_dir: Path, threads: int | None, models_dir: Path | None) -> dict:
    """O ambiente de cada subprocesso: a pasta do cache, as threads e, se dada, a pasta dos modelos."""
    env = {**os.environ, "LLMDEFINITIONS_CACHE_DIR": str(cache_dir), "PYTHONUNBUFFERED": "1"}
    env.setdefault("MPLBACKEND", "Agg")
    if threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if models_dir is not None:
        env["LLMDEFINITIONS_MODELS_DIR"] = str(models_dir)
    return env


def run_child(path: Path, workdir: Path, env: dict, threads: int | None) -> dict:
    """Roda um notebook num processo novo (`--child`); devolve o resultado dele, com o tempo do processo inteiro."""
    with tempfile.TemporaryDirectory(prefix="bench-notebook-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), "--workdir", str(workdir),
                   "--result", str(result_file)] + (["--threads", str(threads)] if threads else [])
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        process_s = round(time.perf_counter() - start, 2)
        if result_file.is_file():
            result = json.loads(result_file.read_text(encoding="utf-8"))
        else:  # o processo morreu antes de gravar (falta de memória, por exemplo)
            tail = (done.stderr or done.stdout or "")[-2000:]
            result = {"seconds": None, "cell_seconds": [], "peak_rss_mb": None,
                      "error": f"o processo terminou com código {done.returncode} sem gravar o resultado:\n{tail}"}
    result["process_s"] = process_s  # inclui iniciar o Python e importar as bibliotecas
    return result


def child_main(path: Path, workdir: Path, result_file: Path, threads: int | None) -> int:
    """Dentro do subprocesso: roda um notebook e grava o resultado (com o modo do modelo e dos dados)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    result = run_notebook(path, workdir)
    course = sys.modules.get("llmdefinitions.course")  # só se o notebook usou o modelo ou os dados do curso
    result["model_mode"] = course.model_mode() if course else None
    result["data_mode"] = course.data_mode() if course else None
    result_file.write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def summarize_phase(phase: dict, course: list[str]) -> None:
    """Totais da fase (recalculados a cada pedaço): tempo, pico de RSS, se está completa, o cache no fim."""
    entries = phase["notebooks"]
    phase["notebooks"] = {name: entries[name] for name in sorted(entries, key=_course_order(course))}
    done = [entry for entry in phase["notebooks"].values() if entry["seconds"] is not None]
    phase["total_s"] = round(sum(entry["seconds"] for entry in done), 2)
    rss = [entry["peak_rss_mb"] for entry in done if entry.get("peak_rss_mb") is not None]
    phase["peak_rss_mb"] = max(rss) if rss else None
    phase["errors"] = [name for name, entry in phase["notebooks"].items() if entry["error"] is not None]
    phase["missing"] = [name for name in course if name not in phase["notebooks"]]
    phase["complete"] = not phase["missing"] and not phase["errors"]
    last = next((entry for entry in reversed(list(phase["notebooks"].values())) if "cache_mb_after" in entry), None)
    phase["cache_mb"] = last["cache_mb_after"] if last else None
    phase["cache_files"] = last["cache_files_after"] if last else None


def _course_order(course: list[str]):
    return lambda name: (course.index(name) if name in course else len(course), name)


def load_record(path: Path | None, threads: int | None, machine: dict) -> dict:
    """O JSON do curso a completar (pedaços anteriores) ou um novo; recusa misturar threads ou processadores."""
    if path is None or not path.is_file():
        return {"kind": "course", "format": COURSE_FORMAT, "threads": threads, "note": "", "machine": machine,
                "code": None, "warm_workdir": WARM_WORKDIR, "runs": [],
                "phases": {phase: {"notebooks": {}} for phase in PHASES}, "cache_mb": None}
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("kind") != "course":
        raise SystemExit(f"{path} não é um registro do curso (--course): escolha outro arquivo para --json.")
    if record.get("threads") != threads:
        raise SystemExit(f"{path} foi medido com --threads {record.get('threads')}, não {threads}: "
                         "um registro só junta pedaços medidos do mesmo jeito.")
    for key in ("cpu_model", "device", "gpu"):
        if record["machine"].get(key) != machine.get(key):
            raise SystemExit(f"{path} foi medido em outra máquina ({key}: {record['machine'].get(key)!r}, "
                             f"agora {machine.get(key)!r}): use outro arquivo para --json.")
    return record


def write_record(path: Path | None, record: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)  # um registro pela metade nunca substitui o anterior


def format_line(phase: str, name: str, entry: dict) -> str:
    seconds = "—" if entry["seconds"] is None else f"{entry['seconds']:.1f} s"
    rss = "—" if entry.get("peak_rss_mb") is None else f"{entry['peak_rss_mb']} MB"
    status = "ok" if entry["error"] is None else "ERRO"
    cache = f"cache {entry['cache_mb_after']:.1f} MB" if entry.get("cache_mb_after") is not None else ""
    return f"{PHASE_NAMES[phase]:6s} {name:32s} {seconds:>10s}  pico RSS {rss:>8s}  {status:4s}  {cache}"


def command_line(argv: list[str] | None) -> str:
    """A linha de comando exata desta execução (a que o JSON grava)."""
    script = sys.argv[0] if argv is None else "benchmarks/bench_notebooks.py"
    arguments = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", script, *arguments])


def run_course(args, argv: list[str] | None) -> int:
    notebooks_dir = Path(args.notebooks_dir)
    course = course_notebooks(notebooks_dir)
    unknown = [name for name in args.names if name not in course]
    if unknown:
        raise SystemExit(f"Notebook(s) desconhecido(s): {', '.join(unknown)}. Os do curso: {', '.join(course)}.")
    names = sorted(set(args.names), key=_course_order(course)) if args.names else course
    starts_course = names[0] == course[0]
    phases = list(PHASES) if args.phase == "both" else [args.phase]
    if not starts_course and (args.cache_dir is None or args.workdir is None):
        raise SystemExit(f"Um pedaço que não começa em {course[0]} continua outro: passe o mesmo --cache-dir e o mesmo "
                         "--workdir dos pedaços anteriores.")

    own_dirs = []  # as pastas temporárias criadas aqui (apagadas no fim)
    if args.cache_dir is None:
        args.cache_dir = Path(tempfile.mkdtemp(prefix="curso-cache-"))
        own_dirs.append(args.cache_dir)
    if args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="curso-trabalho-"))
        own_dirs.append(args.workdir)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    # Caminhos absolutos: cada subprocesso roda dentro da pasta de trabalho.
    args.cache_dir, args.workdir = args.cache_dir.resolve(), args.workdir.resolve()
    if args.models_dir is not None:
        args.models_dir = args.models_dir.resolve()

    machine = course_machine(args.threads)
    # A fase fria a partir do primeiro notebook esvazia o cache: é uma medição nova, e o registro também.
    restarts = "cold" in phases and starts_course
    if restarts and args.json is not None and args.json.is_file():
        print(f"Medição nova (fase fria desde {course[0]}): {args.json} será substituído.", flush=True)
    record = load_record(None if restarts else args.json, args.threads, machine)
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from version import code_version

    code = code_version()
    run = {"command": command_line(argv), "phases": phases, "notebooks": names,
           "started": time.strftime("%Y-%m-%d %H:%M:%S"), "code": code, "machine": machine,
           "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
           "cache_dir": str(args.cache_dir), "workdir": str(args.workdir)}
    env = child_environment(args.cache_dir, args.threads, args.models_dir)
    run["environment"] = {key: env[key] for key in RECORDED_ENV if key in env}  # o que os subprocessos receberam
    record["runs"].append(run)
    record["code"] = code
    if args.note:
        record["note"] = args.note
    print(f"Cache em disco: {args.cache_dir}\nPasta de trabalho: {args.workdir}", flush=True)

    failed = False
    for phase in phases:
        files, _ = cache_size(args.cache_dir)
        if phase == "cold" and starts_course and files:
            freed = clear_cache_dir(args.cache_dir)
            print(f"Fase fria: o cache tinha {files} arquivo(s); esvaziado ({freed / 1e6:.1f} MB).", flush=True)
        if phase == "warm" and not files:  # notebooks que não usam o cache (01, 02) deixam a pasta vazia
            print(f"Aviso: fase quente com o cache vazio em {args.cache_dir}. Se algum notebook daqui usa o modelo "
                  "congelado, rode antes a fase fria com o mesmo --cache-dir (e o mesmo --workdir).", flush=True)
        for name in names:
            before_files, before_mb = cache_size(args.cache_dir)
            entry = run_child(notebooks_dir / f"{name}.ipynb", args.workdir, env, args.threads)
            after_files, after_mb = cache_size(args.cache_dir)
            entry.update({"cache_files_before": before_files, "cache_mb_before": before_mb,
                          "cache_files_after": after_files, "cache_mb_after": after_mb,
                          "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": code["commit"],
                          "dirty": code["dirty"]})
            record["phases"][phase]["notebooks"][name] = entry
            summarize_phase(record["phases"][phase], course)
            record["cache_mb"] = record["phases"]["cold"].get("cache_mb")
            write_record(args.json, record)  # depois de cada notebook: um pedaço interrompido não perde o que mediu
            print(format_line(phase, name, entry), flush=True)
            if entry["error"]:
                failed = True
                print(entry["error"], flush=True)
    run["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_record(args.json, record)

    for phase in PHASES:
        summary = record["phases"][phase]
        if not summary["notebooks"]:
            continue
        missing, errors = ", ".join(summary["missing"]) or "—", ", ".join(summary["errors"]) or "—"
        state = "completa" if summary["complete"] else f"INCOMPLETA (faltam: {missing}; erros: {errors})"
        cache = f"; cache no fim: {summary['cache_mb']:.1f} MB" if summary.get("cache_mb") is not None else ""
        print(f"total {PHASE_NAMES[phase]:6s} {summary['total_s']:.1f} s ({summary['total_s'] / 60:.1f} min) em "
              f"{len(summary['notebooks'])} notebook(s), pico RSS {summary['peak_rss_mb']} MB{cache}; fase {state}")
    if args.json:
        print(f"Gravado em {args.json}")
    for directory in own_dirs:
        shutil.rmtree(directory, ignore_errors=True)
    if own_dirs and args.phase != "both":
        print("As pastas temporárias foram apagadas: para continuar em outro comando, passe --cache-dir e --workdir.")
    return 1 if failed else 0


# ----------------------------------------------------------------------------------------------
# A tabela da página Desempenho


def course_table(record: dict):
    """A tabela do curso (página Desempenho): cada notebook frio e quente, o pico de RSS e o total.

    Os números saem do registro gravado por `--course`, escritos em português (`format_pt`).
    """
    import pandas as pd

    from llmdefinitions import format_pt

    course = [name for phase in PHASES for name in record["phases"][phase]["notebooks"]]
    course = list(dict.fromkeys(course))

    def cell(phase, name, key):
        entry = record["phases"][phase]["notebooks"].get(name)
        if entry is None:
            return "—"
        if entry["error"] is not None:
            return "erro"
        value = entry.get(key)
        return format_pt(value, 1) if key == "seconds" else format_pt(value, 0)

    rows = [{"notebook": name,
             "1ª execução, cache frio (s)": cell("cold", name, "seconds"),
             "de novo, cache quente (s)": cell("warm", name, "seconds"),
             "pico de RSS, frio (MB)": cell("cold", name, "peak_rss_mb"),
             "pico de RSS, quente (MB)": cell("warm", name, "peak_rss_mb")} for name in course]

    def total(phase):
        summary = record["phases"][phase]
        if not summary["notebooks"]:
            return "—", "—"
        seconds = f"{format_pt(summary['total_s'], 1)} ({format_pt(summary['total_s'] / 60, 1)} min)"
        return seconds + ("" if summary.get("complete") else " — incompleto"), format_pt(summary["peak_rss_mb"], 0)

    (cold_s, cold_rss), (warm_s, warm_rss) = total("cold"), total("warm")
    rows.append({"notebook": "total (pico: o maior)", "1ª execução, cache frio (s)": cold_s,
                 "de novo, cache quente (s)": warm_s, "pico de RSS, frio (MB)": cold_rss,
                 "pico de RSS, quente (MB)": warm_rss})
    return pd.DataFrame(rows).set_index("notebook")


def course_caption(record: dict) -> str:
    """A linha que acompanha a tabela: máquina, threads, cache no disco, commit e a observação."""
    from llmdefinitions import format_pt

    info = record["machine"]
    where = info.get("gpu") or info.get("cpu_model") or info.get("device")
    cores = f", {info['cpus_allowed']} núcleo(s) liberado(s) ao processo" if info.get("cpus_allowed") else ""
    versions = ", ".join(f"{name} {info[name]}" for name in ("python", "torch", "numpy", "pandas") if name in info)
    entries = [entry for phase in PHASES for entry in record["phases"][phase]["notebooks"].values()]
    commits = sorted({entry["commit"] for entry in entries if entry.get("commit")})
    dirty = " (com mudanças locais)" if any(entry.get("dirty") for entry in entries) else ""
    dates = sorted(run["started"][:10] for run in record["runs"])
    cache = record.get("cache_mb")
    text = (f"**Máquina:** {where} ({info['device']}; {record['threads'] or 'padrão do torch'} thread(s){cores}; "
            f"{versions}). Medido em {', '.join(dict.fromkeys(dates))}, código do(s) commit(s) "
            f"{', '.join(f'`{c}`' for c in commits) or '—'}{dirty}. ")
    if cache is not None:
        text += f"**Cache em disco depois da fase fria: {format_pt(cache, 0 if cache >= 10 else 1)} MB.** "
    if record.get("note"):
        text += record["note"]
    return text


# ----------------------------------------------------------------------------------------------
# Checkpoints de tamanho real (pesos aleatórios) para medir sem os pesos do GPT-2


DISTILBERT_VOCAB_SIZE = 30_522  # o tamanho do vocabulário do distilbert-base-uncased


def sms_wordpiece_vocabulary(min_count: int = 2) -> list[str]:
    """Um vocabulário WordPiece feito das palavras do SMS Spam Collection (as que aparecem ao menos
    `min_count` vezes; as outras viram pedaços). O vocabulário de verdade do DistilBERT não pode ser
    baixado aqui, e com poucos caracteres no lugar dele cada SMS viraria ~68 tokens: o triplo do
    real, e o notebook 3 pareceria bem mais lento do que é. Com este, a média é de ~26 tokens por
    mensagem (o BPE do GPT-2 dá ~23)."""
    from llmdefinitions.data import download_and_unzip_spam_data, load_sms_spam
    from llmdefinitions.encoder import wordpiece_vocabulary

    with tempfile.TemporaryDirectory() as folder:
        data_file = download_and_unzip_spam_data(zip_path=Path(folder) / "sms.zip", extracted_path=folder)
        texts = load_sms_spam(data_file)["Text"].tolist()
    return wordpiece_vocabulary(texts, size=DISTILBERT_VOCAB_SIZE, min_count=min_count)


def make_checkpoints(directory: Path) -> None:
    """GPT-2 small (124M) e DistilBERT base de tamanho real, com pesos aleatórios, no layout do Hugging Face."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.checkpoints import make_hf_gpt2, save_hf_checkpoint, save_hf_distilbert

    directory = Path(directory)
    start = time.perf_counter()
    model = make_hf_gpt2(n_layer=12, n_embd=768, n_head=12, n_positions=1024)
    print(f"GPT-2 small aleatório: {save_hf_checkpoint(model, directory / '124M')}", flush=True)
    del model
    target = directory / "distilbert-base-uncased"
    vocabulary = sms_wordpiece_vocabulary()
    save_hf_distilbert(target, dim=768, n_layers=6, n_heads=12, hidden_dim=3072, vocabulary=vocabulary,
                       vocab_size=DISTILBERT_VOCAB_SIZE)
    print(f"DistilBERT aleatório (6 blocos, dimensão 768; {len(vocabulary)} itens do vocabulário vêm das palavras "
          f"do SMS, o resto até {DISTILBERT_VOCAB_SIZE} é [unusedN]): {target}")
    size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    print(f"{size / 1e6:.0f} MB em {time.perf_counter() - start:.0f} s. Use: --models-dir {directory} "
          f"(ou LLMDEFINITIONS_MODELS_DIR={directory}).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebooks (sem .ipynb); padrão: todos")
    parser.add_argument("--json", type=Path,
                        help="onde gravar os resultados (no --course, completa o registro que já existe, salvo "
                             "quando a fase fria começa no primeiro notebook: aí é uma medição nova)")
    parser.add_argument("--note", default="", help="observação gravada junto (ex.: qual máquina, taskset)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (padrão do torch se omitido); no --course, também "
                             "OMP_NUM_THREADS e MKL_NUM_THREADS de cada subprocesso")
    course = parser.add_argument_group("o curso inteiro (--course)")
    course.add_argument("--course", action="store_true",
                        help="cada notebook num subprocesso, com o cache frio e depois quente")
    course.add_argument("--phase", choices=("both", *PHASES), default="both",
                        help="qual fase rodar (padrão: as duas, fria e depois quente)")
    course.add_argument("--cache-dir", type=Path, help="a pasta do cache em disco (padrão: uma nova, apagada no fim)")
    course.add_argument("--workdir", type=Path,
                        help="a pasta de trabalho dos notebooks (padrão: uma nova, apagada no fim)")
    course.add_argument("--models-dir", type=Path, help="LLMDEFINITIONS_MODELS_DIR dos subprocessos")
    course.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR, help=argparse.SUPPRESS)  # testes
    parser.add_argument("--make-checkpoints", type=Path, metavar="PASTA",
                        help="cria o GPT-2 small e o DistilBERT de tamanho real (pesos aleatórios) e sai")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # uso interno: um notebook, um processo
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(REPO_ROOT))
    if args.threads is not None and args.threads < 1:
        parser.error("--threads precisa ser um inteiro positivo.")
    if args.make_checkpoints:
        make_checkpoints(args.make_checkpoints)
        return 0
    if args.child:
        return child_main(args.child, args.workdir, args.result, args.threads)
    if args.course:
        return run_course(args, argv)
    if args.phase != "both" or args.cache_dir or args.workdir or args.models_dir:
        parser.error("--phase, --cache-dir, --workdir e --models-dir só valem com --course.")

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from version import code_version

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    paths = [NOTEBOOKS_DIR / f"{name}.ipynb" for name in args.names] or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    results = {"machine": machine_description(), "code": code_version(), "threads": args.threads,
               "note": args.note, "notebooks": {}}
    # Uma pasta para todos, em ordem, como na construção do livro: o que um notebook grava
    # (dados divididos, escolhas feitas na validação) fica para os seguintes.
    workdir = Path(tempfile.mkdtemp(prefix="notebooks-"))
    for path in paths:
        result = run_notebook(path, workdir)
        results["notebooks"][path.stem] = result
        status = "ok" if result["error"] is None else "ERRO"
        print(f"{path.stem:32s} {result['seconds']:8.1f} s  {status}", flush=True)
        if result["error"]:
            print(result["error"], flush=True)
    total = sum(r["seconds"] for r in results["notebooks"].values())
    print(f"{'total':32s} {total:8.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(r["error"] is None for r in results["notebooks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
