"""O que os benchmarks compartilham: opções de linha de comando, dispositivo, modelo de partida,
dados, descrição da máquina e gravação do JSON.

`bench_finetune.py` e `bench_lab.py` medem coisas diferentes, mas partem do mesmo GPT-2 (pesos
reais se houver, senão aleatórios com a mesma semente), dos mesmos dados e descrevem a máquina
do mesmo jeito: tudo isso mora aqui, uma vez só. A memória é medida pelo pacote
(`llmdefinitions.memory.peak_rss_mb`), como em todo o repositório.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # roda direto do repositório, mesmo sem `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from version import code_version  # noqa: E402

from llmdefinitions import (  # noqa: E402
    GPTModel,
    config_from_settings,
    get_device,
    gpt2_config,
    load_weights_into_gpt,
    model_size_from_name,
    prepare_spam_splits,
    read_checkpoint,
)
from llmdefinitions.course import DEMO_CONFIG  # noqa: E402
from llmdefinitions.data import SPAM_DATA_URL  # noqa: E402
from llmdefinitions.disk_cache import CACHE_DIR_ENV_VAR  # noqa: E402
from llmdefinitions.model import tie_weights  # noqa: E402

SEED = 123
MODEL_NAME = "gpt2-small (124M)"
COLD_CACHE = "frio (pasta vazia)"  # o que os JSONs e os resumos dizem do cache em disco


@contextlib.contextmanager
def cold_cache(parent=None):
    """Durante o bloco, o cache em disco do pacote (`LLMDEFINITIONS_CACHE_DIR`) é uma pasta nova e
    vazia (apagada no fim; os subprocessos herdam a variável). Uma medição contra o laço da aula
    ou contra outra biblioteca calcula de verdade a passada congelada: nada vem de uma execução
    anterior. Devolve a pasta."""
    previous = os.environ.get(CACHE_DIR_ENV_VAR)
    with tempfile.TemporaryDirectory(prefix="cache-frio-", dir=parent) as folder:
        os.environ[CACHE_DIR_ENV_VAR] = folder
        try:
            yield Path(folder)
        finally:
            if previous is None:
                os.environ.pop(CACHE_DIR_ENV_VAR, None)
            else:
                os.environ[CACHE_DIR_ENV_VAR] = previous


def add_engine_arguments(group) -> None:
    """`--device` e `--threads`, num parser ou grupo do argparse."""
    group.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    group.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (padrão do torch se omitido)")


def add_model_and_data_arguments(group) -> None:
    """`--tiny`, `--models-dir`, `--data-dir` e `--spam-zip`, num parser ou grupo do argparse."""
    group.add_argument("--tiny", action="store_true",
                       help="GPT-2 estreito e raso (emb 64, 2 camadas, 4 cabeças; o do modo de demonstração): "
                            "para testes")
    group.add_argument("--models-dir", type=Path, default=None,
                       help="pasta com 124M/config.json e 124M/model.safetensors; sem ela, pesos aleatórios")
    group.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data",
                       help="onde o conjunto de dados é extraído e os CSVs são gravados")
    group.add_argument("--spam-zip", default=None,
                       help="zip local do SMS Spam Collection (padrão: download, ou LLMDEFINITIONS_SPAM_ZIP)")


def resolve_device(name: str) -> torch.device:
    """`"auto"` escolhe como os notebooks (`get_device`); `"cuda"` sem GPU é um erro claro."""
    device = get_device() if name == "auto" else torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda pedido, mas o torch não vê nenhuma GPU CUDA.")
    return device


def starting_model(tiny: bool, models_dir, device=None) -> tuple[GPTModel, dict]:
    """O GPT-2 de partida, o mesmo em todos os benchmarks: pesos reais se houver em `models_dir`,
    senão aleatórios com semente fixa (a velocidade não depende dos valores dos pesos).

    Devolve `(modelo, {"model": nome, "weights": de onde vieram os pesos, "config": configuração})`.
    """
    if tiny:
        config, name = dict(DEMO_CONFIG), "GPT-2 pequeno (emb 64, 2 camadas, 4 cabeças)"
    else:
        config, name = gpt2_config(MODEL_NAME), MODEL_NAME
    checkpoint, missing = None, ""
    if models_dir is not None and not tiny:
        candidate = Path(models_dir) / model_size_from_name(MODEL_NAME)
        if (candidate / "config.json").is_file() and (candidate / "model.safetensors").is_file():
            checkpoint = candidate
        else:
            missing = f"; não há pesos em {candidate}"
    torch.manual_seed(SEED)
    if checkpoint is not None:
        settings, params = read_checkpoint(checkpoint)
        model = load_weights_into_gpt(GPTModel(config_from_settings(settings)), params)  # já amarra out_head
        weights = f"pré-treinados ({checkpoint})"
    else:
        model = tie_weights(GPTModel(config))  # como no GPT-2: saída amarrada aos embeddings
        weights = f"aleatórios (semente {SEED}{missing})"
    model = model.eval() if device is None else model.to(device).eval()
    return model, {"model": name, "weights": weights, "config": config}


def spam_splits(data_dir: Path, spam_zip=None):
    """(train_df, val_df, test_df) do conjunto de dados real, como nos notebooks (semente SEED)."""
    url = spam_zip if spam_zip is not None else SPAM_DATA_URL
    with contextlib.redirect_stdout(io.StringIO()):  # a mensagem de extração se repetiria a cada processo
        return prepare_spam_splits(data_dir, url=url, random_state=SEED)


def load_average():
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def machine_info(device: torch.device, **extra) -> dict:
    """A máquina, as versões e o commit do código (o que a página Desempenho mostra), mais `extra`."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": load_average(),
        **extra,
        **code_version(),
    }


def write_json(path: Path, results: dict) -> None:
    """Grava os resultados (UTF-8, indentado), criando a pasta se preciso."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def format_seconds(seconds) -> str:
    """Segundos para ler: `12.3 s`, `450 ms`, `15.2 min` (a partir de 10 min); `-` sem valor."""
    if seconds is None:
        return "-"
    if seconds >= 600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"
