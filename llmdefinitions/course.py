"""Como os notebooks obtêm o modelo e os dados — e o modo de demonstração.

Normalmente usamos o GPT-2 pré-treinado de verdade e o conjunto de dados real. Quando os pesos não
podem ser baixados (sem internet e sem cópia local), os notebooks continuam rodando num
**modo de demonstração**: um GPT-2 pequeno com pesos ALEATÓRIOS, sempre com um aviso
bem visível. Os números desse modo ilustram o código, não o desempenho de um LLM.

Variáveis de ambiente:
- `LLMDEFINITIONS_DEMO=1` força o modo de demonstração;
- `LLMDEFINITIONS_MODELS_DIR=/pasta` indica uma cópia local dos pesos
  (`/pasta/124M/config.json` e `/pasta/124M/model.safetensors`);
- `LLMDEFINITIONS_SPAM_ZIP=/pasta/sms_spam_collection.zip` indica uma cópia local do dataset.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from .config import config_from_settings, gpt2_config, model_size_from_name
from .data import DataDownloadError, download_and_unzip_spam_data, load_sms_spam, split_spam_frame
from .model import GPTModel, TransformerBlock, tie_weights
from .weights import GPT2DownloadError, download_and_load_gpt2, load_weights_into_gpt

__all__ = [
    "DEMO_CONFIG",
    "CourseModel",
    "load_course_model",
    "course_data_file",
    "prepare_course_data",
    "is_demo",
    "model_mode",
    "data_mode",
    "load_pretrained_gpt2",
    "demo_forced",
    "demo_tag",
    "show_warning",
    "describe_config",
    "demo_model",
]

DEMO_ENV_VAR = "LLMDEFINITIONS_DEMO"
MODELS_DIR_ENV_VAR = "LLMDEFINITIONS_MODELS_DIR"
DEMO_TAG = " [DEMONSTRAÇÃO]"

# Mesma arquitetura e vocabulário do GPT-2, só que estreito e raso: roda em segundos.
DEMO_CONFIG = {**gpt2_config("gpt2-small (124M)"), "emb_dim": 64, "n_heads": 4, "n_layers": 2}

_state = {"model": None, "data": None}  # o que foi carregado nesta sessão: "real" ou "demo"


@dataclass
class CourseModel:
    """O que `load_course_model` devolve: o modelo, a configuração, o modo (`"real"` ou `"demo"`) e um resumo.

    Ensinado no Notebook 2, §2.2.
    """
    model: GPTModel
    config: dict
    mode: str  # "real" ou "demo"
    description: str


def demo_forced() -> bool:
    """Verdadeiro se `LLMDEFINITIONS_DEMO` pede o modo de demonstração (1, true, sim, yes, on).

    Ensinado no Notebook 2, §2.2.
    """
    return os.environ.get(DEMO_ENV_VAR, "").strip().lower() in {"1", "true", "sim", "yes", "on"}


def show_warning(title: str, *lines: str, details: str = "") -> None:
    """Mostra um aviso curto e bem visível: caixa colorida no Jupyter e texto em qualquer lugar.

    `title` e `lines` ficam sempre à vista (uma linha cada); `details`, se houver, fica numa
    parte que se abre com um clique (no texto simples, vem depois das linhas).

    Ensinado no Notebook 2, §2.2.
    """
    text_lines = [title, *lines] + ([f"Detalhes: {details}"] if details else [])
    text = "\n" + "!" * 78 + "\n" + "\n".join(f"!! {line}" for line in text_lines) + "\n" + "!" * 78 + "\n"
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            body = "".join(f"<br>{html.escape(line)}" for line in lines)
            if details:
                body += f"<details><summary>Detalhes</summary><p>{html.escape(details)}</p></details>"
            box = (
                '<div style="border:3px solid #c0392b;background:#fdecea;color:#1f1f1f;padding:12px;'
                f'border-radius:6px"><strong>⚠️ {html.escape(title)}</strong>{body}</div>'
            )
            display({"text/html": box, "text/plain": text}, raw=True)
            return
    except ImportError:
        pass
    print(text)


def model_mode() -> str | None:
    """O modelo carregado nesta sessão por `load_course_model`: `"real"`, `"demo"` ou `None` (nenhum).

    Ensinado no Notebook 2, §2.2.
    """
    return _state["model"]


def data_mode() -> str | None:
    """Os dados lidos nesta sessão por `course_data_file`: `"real"`, `"demo"` (a amostra) ou `None`.

    Ensinado no Notebook 1, §1.1.
    """
    return _state["data"]


def is_demo() -> bool:
    """Verdadeiro se o modelo ou os dados desta sessão são de demonstração. Ensinado no Notebook 6, §6.5."""
    return "demo" in _state.values()


def demo_tag() -> str:
    """`" [DEMONSTRAÇÃO]"` no modo de demonstração, `""` no modo normal: some ao fim de cada resultado.

    Ensinado no Notebook 1, §1.1.
    """
    return DEMO_TAG if is_demo() else ""


def describe_config(config: dict) -> str:
    """Resumo legível de uma configuração: blocos, dimensões, cabeças e parâmetros. Ensinado no Notebook 2, §2.1."""
    with torch.device("meta"):  # só as formas: nenhum peso é alocado (e é instantâneo)
        per_block = sum(p.numel() for p in TransformerBlock(config).parameters())
    d = config["emb_dim"]
    # blocos + embeddings de tokens e de posições + LayerNorm final (out_head é amarrado a tok_emb)
    n_params = config["n_layers"] * per_block + (config["vocab_size"] + config["context_length"]) * d + 2 * d
    return (
        f"{config['n_layers']} blocos, {config['emb_dim']} dimensões, {config['n_heads']} cabeças, "
        f"contexto de {config['context_length']} tokens, {n_params / 1e6:.1f} milhões de parâmetros".replace(".", ",")
    )


def demo_model(reason: str, how_to_fix: str = "") -> CourseModel:
    """O modelo de demonstração (GPT-2 pequeno, pesos aleatórios), com o aviso bem visível do `reason`.

    Ensinado no Notebook 2, §2.2.
    """
    torch.manual_seed(123)
    model = tie_weights(GPTModel(DEMO_CONFIG))  # como no GPT-2: saída amarrada aos embeddings
    real = gpt2_config("gpt2-small (124M)")
    show_warning(
        "MODO DE DEMONSTRAÇÃO: modelo com pesos aleatórios (os números NÃO são os do GPT-2)",
        f"Motivo: {reason}",
        "Para usar o GPT-2 real: rode com internet (ou com LLMDEFINITIONS_MODELS_DIR apontando para os pesos) "
        f"e sem {DEMO_ENV_VAR}=1.",
        details=(
            f"Modelo de demonstração: {describe_config(DEMO_CONFIG)}. GPT-2 small real: "
            f"{describe_config(real)}. Todo o código roda igual, mas textos gerados e acurácias "
            f"não representam o que o curso ensina. {how_to_fix}"
        ).strip(),
    )
    return CourseModel(model.eval(), DEMO_CONFIG, "demo", "GPT-2 pequeno aleatório (demonstração)")


def load_pretrained_gpt2(model_name: str = "gpt2-small (124M)", models_dir=None) -> GPTModel:
    """O GPT-2 `model_name` (ex.: `"gpt2-medium (355M)"`) com os pesos pré-treinados, em modo de avaliação.

    Nunca troca pelo modelo de demonstração: sem os pesos, `GPT2DownloadError`.
    Os pesos vêm de `models_dir` (ou `LLMDEFINITIONS_MODELS_DIR`, ou `gpt2`), baixados se faltarem.

    Ensinado no Notebook 7, §7.4.
    """
    models_dir = models_dir or os.environ.get(MODELS_DIR_ENV_VAR) or "gpt2"
    size = model_size_from_name(model_name)
    settings, params = download_and_load_gpt2(size, models_dir)
    config = config_from_settings(settings)
    model = load_weights_into_gpt(GPTModel(config), params).eval()
    if config != gpt2_config(model_name):
        print(f"Atenção: o config.json em {models_dir}/{size} difere do {model_name} oficial; usando o do arquivo.")
    print(f"Modelo carregado: {model_name} pré-treinado (pesos em {models_dir}/{size}).")
    return model


def load_course_model(choose_model: str = "gpt2-small (124M)", models_dir=None) -> CourseModel:
    """O GPT-2 pré-treinado `choose_model`, ou o modelo de demonstração se não houver pesos.

    Arquivos corrompidos ou de tamanho errado geram erro (nunca uma troca silenciosa).

    Ensinado no Notebook 2, §2.2.
    """
    if demo_forced():
        result = demo_model(f"{DEMO_ENV_VAR}=1 está definida.")
    else:
        size = model_size_from_name(choose_model)
        try:
            model = load_pretrained_gpt2(choose_model, models_dir)
        except GPT2DownloadError as err:
            result = demo_model(f"os pesos do GPT-2 {size} não puderam ser obtidos ({err.reason}).", str(err))
        else:
            result = CourseModel(model, model.cfg, "real", f"{choose_model} pré-treinado")
    _state["model"] = result.mode
    return result


SAMPLE_FILE = "sample_sms.tsv"  # 200 mensagens escritas para o curso (120 ham, 80 spam)


def course_data_file(directory="data"):
    """Caminho do arquivo `SMSSpamCollection` real; sem acesso a ele, o da amostra do curso.

    Usa `download_and_unzip_spam_data` (que respeita `LLMDEFINITIONS_SPAM_ZIP`). A troca pela
    amostra vem sempre com um aviso e marca a sessão como demonstração.

    Ensinado no Notebook 1, §1.1.
    """
    directory = Path(directory)
    try:
        path = download_and_unzip_spam_data(
            zip_path=directory / "sms_spam_collection.zip",
            extracted_path=directory / "sms_spam_collection",
        )
        _state["data"] = "real"
        return path
    except DataDownloadError as err:
        show_warning(
            "MODO DE DEMONSTRAÇÃO: amostra pequena em vez do conjunto de dados real",
            "Motivo: o SMS Spam Collection não pôde ser obtido; usamos 200 mensagens escritas para o curso.",
            "Para usar o conjunto de dados real: rode com internet ou aponte LLMDEFINITIONS_SPAM_ZIP para o zip.",
            details=str(err),
        )
        _state["data"] = "demo"
        with resources.as_file(resources.files(__package__) / SAMPLE_FILE) as sample:
            return Path(sample)


def prepare_course_data(directory="data", deduplicate: bool = False, random_state: int = 123):
    """`(train_df, val_df, test_df)`: lê `course_data_file`, balanceia, divide 70/10/20 e salva os CSVs.

    Ensinado no Notebook 1, §1.8.
    """
    os.makedirs(directory, exist_ok=True)
    df = load_sms_spam(course_data_file(directory))
    splits = split_spam_frame(df, directory, deduplicate, random_state)
    print(f"Treino: {len(splits[0])} | Validação: {len(splits[1])} | Teste: {len(splits[2])}{demo_tag()}")
    return splits
