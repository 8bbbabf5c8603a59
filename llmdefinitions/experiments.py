"""Laboratório de experimentos: muitas variações do fine-tuning, cada uma numa linha de tabela.

Um `Experiment` descreve UMA variação (qual token é lido, quantos blocos treinam, LoRA,
padding, pesos aleatórios, máscara causal...). `run_experiments` roda uma lista delas e
devolve uma tabela do `pandas` com acurácias, parâmetros, tempo e memória.

O que deixa a tabela barata numa CPU é o mesmo truque das abordagens 2 e 3: a parte
congelada do modelo é calculada UMA vez (`precompute_frozen_outputs`) e cada linha treina só
a sua cauda. Linhas que congelam a mesma parte do mesmo modelo, sobre os mesmos tokens,
compartilham essa passada (`FrozenCache`); uma linha que congela menos blocos que outra
ainda aproveita a passada mais curta e só avança pelos blocos que faltam
(`advance_frozen_outputs`). A função calculada é sempre a do modelo completo; só o que é
refeito a cada passo muda. Duas variações não têm parte congelada reaproveitável e usam o
modelo inteiro a cada passo (como na aula): treinar TODAS as camadas (embeddings
inclusive) e tirar a máscara causal.

Qual token é lido (`token`):
- `"last_real"`: o último token REAL de cada texto (o padrão do curso);
- `"last"`: a última posição do tensor com padding fixo (como no livro de referência): com
  textos curtos, é um `<|endoftext|>` de preenchimento;
- `"first"`: o primeiro token. Com a máscara causal, ele só enxerga a si mesmo;
- `"mean"`: a média dos vetores de todos os tokens reais (depois de `final_norm`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import threading
import time
from dataclasses import asdict, dataclass, field

import pandas as pd
import torch
from torch.utils.data import DataLoader

from .classifier import (
    FullModelClassifier,
    MeanTail,
    PooledHead,
    TrainableTail,
    add_classification_head,
    count_parameters,
    freeze_all,
)
from .config import model_configs
from .course import is_demo, load_course_model, load_pretrained_gpt2, model_mode
from .dataset import SpamDataset, pad_batch
from .features import FrozenCache, FrozenKey, FrozenOutputs, features_from_frozen, frozen_outputs_loader, token_view
from .lora import LoRAError, apply_lora, lora_block_indices
from .model import GPTModel, remove_causal_mask, tie_weights
from .tokenizer import get_tokenizer
from .training import calc_accuracy_loader, train_classifier_simple
from .uncertainty import format_pt
from .weights import GPT2DownloadError

__all__ = [
    "TOKENS",
    "DEFAULT_MODEL",
    "REFERENCE_SOURCE",
    "Reference",
    "REFERENCE_RESULTS",
    "Experiment",
    "ExperimentError",
    "ExperimentSkipped",
    "ExperimentResult",
    "FrozenCache",
    "ExperimentLab",
    "run_experiment",
    "run_experiments",
    "default_experiments",
    "slow_experiments",
]

TOKENS = ("last_real", "last", "first", "mean")
DEFAULT_MODEL = "gpt2-small (124M)"
EVAL_FREQ, EVAL_ITER = 50, 5  # o calendário de avaliação da aula
FROZEN_BATCH_SIZE = 32
MODEL_NAMES = tuple(model_configs)


class ExperimentError(ValueError):
    """Uma descrição de experimento que não faz sentido (explicada em português)."""


class ExperimentSkipped(ExperimentError):
    """Uma linha válida que não pode rodar aqui (ex.: pesos de um modelo maior indisponíveis)."""


# --------------------------------------------------------------------------- a referência publicada

REFERENCE_SOURCE = (
    "S. Raschka, Build a Large Language Model (From Scratch), repositório rasbt/LLMs-from-scratch, "
    "ch06/02_bonus_additional-experiments/README.md (tabela de 19 linhas): GPT-2 da OpenAI "
    "(pré-treinado, salvo indicação), GPU A100, 5 épocas, lr 5e-5, lote 8"
)


@dataclass(frozen=True)
class Reference:
    """Um número publicado: a linha `row` da tabela da referência e a configuração dela."""

    row: int
    setup: str
    train: float
    val: float
    test: float
    minutes: float


# Acurácias (%) e tempos de treino publicados em REFERENCE_SOURCE. Na referência, "last" é a
# última posição com padding até o maior texto do treino (120 tokens).
REFERENCE_RESULTS = {
    row: Reference(row, setup, train, val, test, minutes)
    for row, setup, train, val, test, minutes in [
        (1, "gpt2-small, última posição (padding 120), último bloco", 96.63, 99.33, 95.00, 0.28),
        (2, "gpt2-small, primeiro token, último bloco", 78.46, 80.54, 75.00, 0.28),
        (3, "gpt2-small, última posição (padding 120), só a cabeça", 78.65, 79.87, 72.00, 0.25),
        (4, "gpt2-small, última posição (padding 120), dois últimos blocos", 98.85, 98.66, 98.33, 0.33),
        (5, "gpt2-small, última posição (padding 120), todas as camadas", 99.62, 96.64, 96.67, 0.69),
        (6, "gpt2-medium, última posição (padding 120), último bloco", 87.50, 91.28, 84.67, 0.75),
        (7, "gpt2-large, última posição (padding 120), último bloco", 99.52, 98.66, 96.67, 1.50),
        (10, "gpt2-small com pesos ALEATÓRIOS, todas as camadas", 100.00, 96.64, 93.67, 0.69),
        (11, "gpt2-small, LoRA rank 16 em todas as lineares (escala alpha=16)", 100.00, 97.32, 96.67, 0.75),
        (13, "gpt2-small, última posição com padding até 1024", 83.08, 87.92, 78.33, 2.46),
        (16, "gpt2-small, último token real (padding 120), último bloco", 99.42, 98.66, 98.33, 0.30),
        (17, "gpt2-small, última posição (padding 120), sem máscara causal", 99.23, 98.66, 95.33, 0.29),
        (19, "gpt2-small, média das 120 posições (com padding), último bloco", 97.79, 99.33, 96.33, 0.32),
    ]
}


# --------------------------------------------------------------------------- a descrição

@dataclass
class Experiment:
    """Uma variação do fine-tuning do classificador de spam.

    - `token`: `"last_real"`, `"last"` (exige padding fixo), `"first"` ou `"mean"`;
    - `trainable_blocks`: quantos blocos do fim treinam (0 = só a cabeça), ou `"all"` (o
      modelo inteiro, embeddings inclusive). `None`: 1 bloco, ou 0 com LoRA. Com 1 ou mais
      blocos, `final_norm` também treina; a cabeça nova treina sempre;
    - `lora_rank`: com um número, adaptadores LoRA (`lora_alpha`) nos blocos `lora_blocks`
      (`"all"`, os N últimos ou uma lista de índices); os pesos originais ficam congelados;
    - `padding`: `None` (cada texto só com os seus tokens), `"longest"` (todos completados
      até o maior texto do treino) ou um número de tokens (trunca e completa);
    - `pretrained=False`: a mesma arquitetura com pesos aleatórios (semente `seed`);
    - `causal_mask=False`: cada token passa a enxergar todos os outros (inclusive o padding);
    - `reference`: o número publicado da mesma variação, se houver (ver `REFERENCE_RESULTS`).
    """

    name: str
    model_size: str = DEFAULT_MODEL
    token: str = "last_real"
    trainable_blocks: int | str | None = None
    lora_rank: int | None = None
    lora_alpha: float = 16
    lora_blocks: int | str | list = "all"
    padding: int | str | None = None
    pretrained: bool = True
    causal_mask: bool = True
    epochs: int = 5
    lr: float = 5e-5
    weight_decay: float = 0.1
    batch_size: int = 8
    seed: int = 123
    reference: Reference | None = None

    @property
    def uses_lora(self) -> bool:
        return self.lora_rank is not None

    @property
    def full_model(self) -> bool:
        """Sem parte congelada reaproveitável: o modelo inteiro roda a cada passo."""
        return self.trainable_blocks == "all" or not self.causal_mask

    def resolved_trainable_blocks(self) -> int | str:
        if self.trainable_blocks is None:
            return 0 if self.uses_lora else 1
        return self.trainable_blocks

    def describe(self) -> str:
        """Resumo curto da configuração, para a tabela."""
        blocks = self.resolved_trainable_blocks()
        start = "pré-treinado" if model_mode() != "demo" else "modelo de demonstração (aleatório)"
        parts = [self.model_size.split(" ")[0], "pesos aleatórios" if not self.pretrained else start,
                 f"token {self.token}", "todas as camadas" if blocks == "all" else ("1 bloco treinável" if blocks == 1 else f"{blocks} blocos treináveis")]
        if self.uses_lora:
            parts.append(f"LoRA r={self.lora_rank} α={self.lora_alpha} em {self.lora_blocks}")
        parts.append("padding dinâmico" if self.padding is None else f"padding {self.padding}")
        if not self.causal_mask:
            parts.append("sem máscara causal")
        return ", ".join(parts)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_experiment(exp: Experiment, n_layers: int, context_length: int) -> None:
    """Confere a descrição contra o modelo; um erro diz o que está errado e como corrigir."""
    if exp.token not in TOKENS:
        raise ExperimentError(f"{exp.name}: token={exp.token!r} não existe. Opções: {', '.join(TOKENS)}.")
    blocks = exp.resolved_trainable_blocks()
    if blocks != "all" and not (_is_int(blocks) and 0 <= blocks <= n_layers):
        raise ExperimentError(
            f'{exp.name}: trainable_blocks={blocks!r}; use um inteiro de 0 a {n_layers} ou "all" (o modelo inteiro).'
        )
    if exp.padding not in (None, "longest") and not (_is_int(exp.padding) and exp.padding >= 1):
        raise ExperimentError(f'{exp.name}: padding={exp.padding!r}; use None, "longest" ou um número de tokens.')
    if _is_int(exp.padding) and exp.padding > context_length:
        raise ExperimentSkipped(
            f"{exp.name}: pulada, padding={exp.padding} passa do contexto deste modelo ({context_length} tokens)."
        )
    if exp.token == "last" and exp.padding is None:
        raise ExperimentError(
            f'{exp.name}: token="last" lê a última posição do lote, que sem padding fixo depende de quais '
            'textos caíram juntos no lote. Use padding="longest" (ou um número), ou token="last_real".'
        )
    if not exp.causal_mask and exp.padding is None:
        raise ExperimentError(
            f"{exp.name}: sem máscara causal, os tokens reais enxergam o padding, e o padding dinâmico muda de "
            'um lote para outro. Use padding="longest" (ou um número).'
        )
    if exp.uses_lora:
        if not (_is_int(exp.lora_rank) and exp.lora_rank >= 1):
            raise ExperimentError(f"{exp.name}: lora_rank={exp.lora_rank!r}; use um inteiro positivo (ex.: 8).")
        if blocks != 0:
            raise ExperimentError(
                f"{exp.name}: com LoRA os pesos originais ficam congelados; use trainable_blocks=0 (ou None). "
                "A cabeça continua treinável."
            )
        _lora_block_indices(exp, n_layers)  # confere lora_blocks
    if not (_is_int(exp.epochs) and exp.epochs >= 1) or not (_is_int(exp.batch_size) and exp.batch_size >= 1):
        raise ExperimentError(f"{exp.name}: epochs e batch_size devem ser inteiros positivos.")
    if not exp.lr > 0 or exp.weight_decay < 0:
        raise ExperimentError(f"{exp.name}: lr deve ser positivo e weight_decay, maior ou igual a zero.")


def _lora_block_indices(exp: Experiment, n_layers: int) -> list[int]:
    try:
        return lora_block_indices(exp.lora_blocks, n_layers)
    except LoRAError as err:
        raise ExperimentError(f"{exp.name}: lora_blocks={exp.lora_blocks!r}. {err}") from err


def tail_blocks(exp: Experiment, n_layers: int) -> int:
    """Quantos blocos do fim rodam a cada passo (os treináveis, ou os que têm LoRA)."""
    if exp.uses_lora:
        return n_layers - min(_lora_block_indices(exp, n_layers))
    blocks = exp.resolved_trainable_blocks()
    return n_layers if blocks == "all" else blocks


def is_slow(exp: Experiment) -> bool:
    """Linhas que numa CPU levam de dezenas de minutos a horas com o GPT-2 small de verdade
    (12 blocos): o modelo inteiro a cada passo, modelos maiores, padding longo, cauda longa."""
    return (exp.full_model or exp.model_size != DEFAULT_MODEL
            or (_is_int(exp.padding) and exp.padding >= 512) or tail_blocks(exp, 12) > 4)


# --------------------------------------------------------------------------- as caudas

# --------------------------------------------------------------------------- a passada congelada compartilhada

def _pooled_outputs(model, frozen: dict[str, FrozenOutputs], device) -> dict[str, FrozenOutputs]:
    """Média dos tokens reais depois de `final_norm` (para a média com só a cabeça treinando)."""
    pooled = {}
    for name, outputs in frozen.items():
        X, y = features_from_frozen(model, outputs, device, token_position="mean", batch_size=FROZEN_BATCH_SIZE)
        pooled[name] = FrozenOutputs([torch.from_numpy(row[None]) for row in X], y.tolist(), 0)
    return pooled


# --------------------------------------------------------------------------- memória

class PeakMemory:
    """Memória extra usada durante o bloco `with`, em MiB.

    Em CUDA: `torch.cuda.max_memory_allocated` (tensores na GPU). Na CPU: o pico da memória
    residente (RSS) do processo, amostrado a cada 20 ms por uma thread, menos o RSS do início.
    """

    def __init__(self, device):
        self.device = torch.device(device)
        self.peak_mb = 0.0

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            return self
        import psutil

        self._process = psutil.Process()
        self._start = self._peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, self._process.memory_info().rss)
        self.peak_mb = max(peak - self._start, 0) / 2**20


# --------------------------------------------------------------------------- o resultado

@dataclass
class ExperimentResult:
    """O que uma linha mediu. Acurácias em fração (0 a 1); tempos em segundos."""

    name: str
    setup: str
    train_acc: float | None = None
    val_acc: float | None = None
    test_acc: float | None = None
    n_train: int = 0
    n_val: int = 0
    n_test: int = 0
    trainable_params: int | None = None
    total_params: int | None = None
    frozen_s: float = 0.0
    train_s: float = 0.0
    total_s: float = 0.0
    peak_memory_mb: float | None = None
    reused_frozen: bool = False
    full_model: bool = False
    slow: bool = False
    skipped: str = ""
    reference: Reference | None = field(default=None, repr=False)

    def as_row(self) -> dict:
        row = asdict(self)
        ref = row.pop("reference")
        row["ref_row"] = ref["row"] if ref else None
        row["ref_setup"] = ref["setup"] if ref else ""
        row["ref_test_acc"] = ref["test"] / 100 if ref else None
        return row


# --------------------------------------------------------------------------- o laboratório

def _splits(data) -> dict:
    if isinstance(data, dict):
        missing = {"train", "val", "test"} - set(data)
        if missing:
            raise ExperimentError(f"data precisa das chaves train, val e test; faltam {sorted(missing)}.")
        return {name: data[name] for name in ("train", "val", "test")}
    try:
        train, val, test = data
    except (TypeError, ValueError) as err:
        raise ExperimentError(
            "data deve ser (train_df, val_df, test_df) ou um dicionário com train, val e test."
        ) from err
    return {"train": train, "val": val, "test": test}


class ExperimentLab:
    """Dados, modelos e passadas congeladas compartilhados por várias linhas.

    `models` permite passar modelos já carregados (nome do tamanho -> `GPTModel`), por exemplo
    nos testes; os outros vêm de `load_course_model` (modo de demonstração e
    `LLMDEFINITIONS_MODELS_DIR` inclusos). `reuse_frozen=False` roda toda linha com o modelo
    inteiro a cada passo (para conferir que dá o mesmo resultado, e quanto custa).
    """

    def __init__(self, data, tokenizer=None, device=None, models: dict | None = None,
                 reuse_frozen: bool = True, models_dir=None):
        from .device import get_device

        self.device = torch.device(device) if device is not None else get_device()
        self.tokenizer = tokenizer or get_tokenizer()
        frames = _splits(data)
        train = SpamDataset(frames["train"], self.tokenizer, pad=False)
        self.datasets = {"train": train, **{
            name: SpamDataset(frames[name], self.tokenizer, max_length=train.max_length, pad=False)
            for name in ("val", "test")}}
        self.longest = train.max_length
        self.models = dict(models or {})
        self.models_dir = models_dir
        self.reuse_frozen = reuse_frozen
        self.cache = FrozenCache(batch_size=FROZEN_BATCH_SIZE)
        self.plan: dict[tuple, int] = {}
        self.last_model = None
        self._model_errors: dict[str, str] = {}

    # ----------------------------------------------------------------- modelos

    def _load_pretrained(self, size: str) -> GPTModel:
        if size in self.models:
            return self.models[size]
        if size in self._model_errors:
            raise ExperimentSkipped(self._model_errors[size])
        if size == DEFAULT_MODEL:
            model = load_course_model(size, self.models_dir).model
        elif is_demo():
            message = (f"{size}: pulada no modo de demonstração (só existe o modelo de demonstração; "
                       "a linha repetiria a do modelo pequeno).")
            self._model_errors[size] = message
            raise ExperimentSkipped(message)
        else:  # outros tamanhos: os pesos ou nada (nunca uma troca silenciosa pelo modelo de demonstração)
            try:
                model = load_pretrained_gpt2(size, self.models_dir)
            except GPT2DownloadError as err:
                message = f"{size}: pulada, os pesos não puderam ser obtidos ({err.reason})."
                self._model_errors[size] = message
                raise ExperimentSkipped(message) from err
        self.models[size] = model.to(self.device).eval()
        return self.models[size]

    @staticmethod
    def model_key(exp: Experiment) -> tuple:
        """O que identifica o modelo de partida de uma linha (parte da chave do cache)."""
        weights = "pré-treinado" if exp.pretrained else f"aleatório, semente {exp.seed}"
        return (exp.model_size, weights)

    def base_model(self, exp: Experiment) -> tuple[tuple, GPTModel]:
        """O modelo de partida (nunca treinado) e a chave que o identifica no cache."""
        pretrained = self._load_pretrained(exp.model_size)
        key = self.model_key(exp)
        if exp.pretrained:
            return key, pretrained
        if key not in self.models:
            torch.manual_seed(exp.seed)
            model = tie_weights(GPTModel(pretrained.cfg))  # amarrado, como no GPT-2
            self.models[key] = model.to(self.device).eval()
        return key, self.models[key]

    # ----------------------------------------------------------------- preparação de uma linha

    def padded_length(self, exp: Experiment) -> int | None:
        if exp.padding is None:
            return None
        return self.longest if exp.padding == "longest" else exp.padding

    def view_of(self, exp: Experiment) -> tuple:
        """Quais tokens a parte congelada precisa ver (a chave do cache, junto com o modelo)."""
        length = self.padded_length(exp)
        if exp.token == "first":
            return ("first",)
        if exp.token == "last":
            return ("padded", length)
        return ("real", length or self.longest)

    def prepare_model(self, exp: Experiment, base: GPTModel, n_layers: int):
        """Uma cópia do modelo de partida com a cabeça nova e só o que treina destravado.

        Só são copiados os pesos que podem mudar (os blocos da cauda, `final_norm`; tudo com
        `"all"`); os congelados são compartilhados com o modelo de partida, que nunca treina:
        uma linha custa megabytes de memória, não uma cópia inteira do GPT-2.
        """
        changing = ("",) if exp.resolved_trainable_blocks() == "all" else (
            *(f"trf_blocks.{i}." for i in range(n_layers - tail_blocks(exp, n_layers), n_layers)), "final_norm.")
        shared = {id(p): p for name, p in base.named_parameters() if not name.startswith(changing)}
        model = copy.deepcopy(base, memo=shared)
        freeze_all(model)
        add_classification_head(model, seed=exp.seed)
        blocks = exp.resolved_trainable_blocks()
        if blocks == "all":
            for param in model.parameters():
                param.requires_grad = True
        elif blocks > 0:
            for module in [*model.trf_blocks[n_layers - blocks:], model.final_norm]:
                for param in module.parameters():
                    param.requires_grad = True
        if exp.uses_lora:
            torch.manual_seed(exp.seed)
            apply_lora(model, rank=exp.lora_rank, alpha=exp.lora_alpha, blocks=_lora_block_indices(exp, n_layers))
        if not exp.causal_mask:
            remove_causal_mask(model)
        return model

    def _tail(self, exp: Experiment, model, n_tail: int):
        """A parte que roda a cada passo. Para "last_real", "last" e "first" a posição lida é a
        última guardada (ver `token_view`); com LoRA, os blocos da cauda já têm os adaptadores."""
        if exp.token == "mean":
            return PooledHead(model) if n_tail == 0 else MeanTail(model, n_tail)
        return TrainableTail(model, n_tail)

    def _frozen_loaders(self, exp, model_key, base, n_tail):
        view = self.view_of(exp)
        planned = self.plan.get((model_key, view), 0)
        if planned > n_tail:  # a passada mais longa do grupo primeiro: esta e as outras linhas avançam dela
            self.cache.get(FrozenKey(model_key, view, planned), base, self.datasets, self.device)
        if exp.token == "mean" and n_tail == 0:  # a média precisa de todos os tokens do último bloco
            frozen = self.cache.get(FrozenKey(model_key, view, 1), base, self.datasets, self.device)
            frozen = self.cache.derived(FrozenKey(model_key, view, 0, derived="média"),
                                        lambda: _pooled_outputs(base, frozen, self.device))
        else:
            frozen = self.cache.get(FrozenKey(model_key, view, n_tail), base, self.datasets, self.device)
        pin = self.device.type == "cuda"
        train = frozen_outputs_loader(frozen["train"], exp.batch_size, shuffle=True, drop_last=True, seed=exp.seed,
                                      pin_memory=pin)
        evals = {name: frozen_outputs_loader(frozen[name], exp.batch_size, pin_memory=pin) for name in frozen}
        return train, evals

    def _full_loaders(self, exp):
        length = self.padded_length(exp)
        view = ("padded", length) if length is not None else ("real", self.longest)
        sets = {name: token_view(ds, view) for name, ds in self.datasets.items()}
        generator = torch.Generator().manual_seed(exp.seed)
        train = DataLoader(sets["train"], batch_size=exp.batch_size, shuffle=True, drop_last=True,
                           generator=generator, collate_fn=pad_batch)
        evals = {name: DataLoader(ds, batch_size=exp.batch_size, collate_fn=pad_batch) for name, ds in sets.items()}
        return train, evals

    # ----------------------------------------------------------------- rodar

    def validate(self, exp: Experiment) -> GPTModel:
        """Confere a linha contra o modelo pré-treinado do tamanho dela (que é carregado).

        `ExperimentError`: a descrição está errada. `ExperimentSkipped`: está certa, mas não roda aqui.
        """
        if not isinstance(exp, Experiment):
            raise ExperimentError(f"Esperava um Experiment, recebi {type(exp).__name__}.")
        if exp.model_size not in MODEL_NAMES:
            raise ExperimentError(
                f"{exp.name}: model_size={exp.model_size!r} não existe. Opções: {', '.join(MODEL_NAMES)}."
            )
        pretrained = self._load_pretrained(exp.model_size)
        validate_experiment(exp, len(pretrained.trf_blocks), pretrained.context_length)
        return pretrained

    def check(self, exp: Experiment) -> tuple[tuple, GPTModel]:
        """`validate`, depois `(chave do modelo, modelo de partida)` (o aleatório é criado aqui)."""
        self.validate(exp)
        return self.base_model(exp)

    def group_of(self, exp: Experiment) -> tuple:
        """As linhas de um mesmo grupo podem compartilhar a passada congelada."""
        return (self.model_key(exp), self.view_of(exp))

    def release(self, group: tuple) -> None:
        """Esquece as saídas guardadas de um grupo (e um modelo aleatório que ninguém mais usa)."""
        model_key, view = group
        self.cache.drop(lambda key: key.model == model_key and key.view == view)
        if model_key[1] != "pré-treinado" and not any(key.model == model_key for key in self.cache.keys()):
            self.models.pop(model_key, None)

    def plan_frozen_passes(self, experiments) -> dict:
        """Para cada grupo de linhas que compartilha a parte congelada (mesmo modelo, mesmos
        tokens), o maior número de blocos que fica de fora: essa passada é feita uma vez e as
        linhas com menos blocos de fora só avançam a partir dela."""
        for exp in experiments:
            try:
                pretrained = self.validate(exp)
            except ExperimentSkipped:
                continue
            if exp.full_model or not self.reuse_frozen:
                continue
            n_tail = max(tail_blocks(exp, len(pretrained.trf_blocks)), 1 if exp.token == "mean" else 0)
            group = self.group_of(exp)
            self.plan[group] = max(self.plan.get(group, 0), n_tail)
        return self.plan

    def run(self, exp: Experiment, verbose: bool = False, keep_model: bool = False) -> ExperimentResult:
        """Treina e avalia uma linha. Uma linha que não roda aqui volta com o motivo em `skipped`;
        com `keep_model=True`, o modelo treinado fica em `lab.last_model`."""
        result = ExperimentResult(exp.name, exp.describe() if isinstance(exp, Experiment) else "",
                                  reference=getattr(exp, "reference", None),
                                  **{f"n_{name}": len(ds) for name, ds in self.datasets.items()})
        try:
            model_key, base = self.check(exp)
        except ExperimentSkipped as err:
            result.skipped = str(err)
            return result
        n_layers = len(base.trf_blocks)
        result.slow = is_slow(exp)
        result.full_model = full = exp.full_model or not self.reuse_frozen
        start = time.perf_counter()
        with PeakMemory(self.device) as memory:
            model = self.prepare_model(exp, base, n_layers).to(self.device)
            counts = count_parameters(model)
            seconds, passes = self.cache.seconds, self.cache.frozen_passes
            if full:
                trained = FullModelClassifier(model, exp.token)
                train_loader, eval_loaders = self._full_loaders(exp)
            else:
                n_tail = tail_blocks(exp, n_layers)
                train_loader, eval_loaders = self._frozen_loaders(exp, model_key, base, n_tail)
                trained = self._tail(exp, model, n_tail)
                result.reused_frozen = self.cache.frozen_passes == passes  # no máximo avançou alguns blocos
            result.frozen_s = self.cache.seconds - seconds
            train_start = time.perf_counter()
            torch.manual_seed(exp.seed)
            optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                          lr=exp.lr, weight_decay=exp.weight_decay)
            output = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
            with output:
                train_classifier_simple(trained, train_loader, eval_loaders["val"], optimizer, self.device,
                                        num_epochs=exp.epochs, eval_freq=EVAL_FREQ, eval_iter=EVAL_ITER,
                                        progress=False)
            result.train_s = time.perf_counter() - train_start
            for name in ("train", "val", "test"):
                setattr(result, f"{name}_acc", calc_accuracy_loader(eval_loaders[name], trained, self.device))
        result.total_s = time.perf_counter() - start
        result.peak_memory_mb = memory.peak_mb
        result.trainable_params, result.total_params = counts.trainable, counts.total
        self.last_model = model if keep_model else None
        return result


def run_experiment(exp: Experiment, data=None, lab: ExperimentLab | None = None, verbose: bool = False,
                   keep_model: bool = False, **lab_options) -> ExperimentResult:
    """Roda um experimento. Passe o mesmo `lab` para várias chamadas e elas compartilham as
    passadas congeladas; sem `lab`, um novo é criado (`lab_options` vão para `ExperimentLab`)."""
    lab = lab or ExperimentLab(data, **lab_options)
    return lab.run(exp, verbose=verbose, keep_model=keep_model)


def run_experiments(experiments, data=None, lab: ExperimentLab | None = None, progress: bool = True,
                    verbose: bool = False, on_row=None, **lab_options) -> pd.DataFrame:
    """Roda a lista e devolve uma tabela do pandas (uma linha por experimento, na ordem dada).

    Todas as linhas são conferidas antes de qualquer treino (um erro na descrição para tudo
    logo no começo). A passada congelada de cada grupo é feita uma vez, na primeira linha que
    a usa, e o tempo dela entra na coluna `frozen_s` dessa linha. Linhas que não rodam aqui
    (ex.: pesos de um modelo maior indisponíveis) ficam na tabela com o motivo em `skipped`.
    Depois da última linha de um grupo, as saídas guardadas dele são liberadas. `on_row(i, resultado)`
    é chamada depois de cada linha (ex.: para gravar resultados parciais).
    """
    if lab is None:
        if data is None:
            raise ExperimentError("Passe os dados (train_df, val_df, test_df) ou um ExperimentLab.")
        lab = ExperimentLab(data, **lab_options)
    experiments = list(experiments)
    names = [getattr(exp, "name", None) for exp in experiments]
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        raise ExperimentError(f"Nomes de experimentos repetidos: {repeated}. Cada linha precisa de um nome próprio.")
    lab.plan_frozen_passes(experiments)  # também confere cada linha antes de treinar qualquer uma
    last_use = {lab.group_of(exp): index for index, exp in enumerate(experiments, start=1)}
    rows = []
    for index, exp in enumerate(experiments, start=1):
        result = lab.run(exp, verbose=verbose)
        rows.append(result.as_row())
        for group in [g for g, last in last_use.items() if last == index]:
            lab.release(group)
        if on_row is not None:
            on_row(index, result)
        if progress:
            status = f"{result.skipped}" if result.skipped else (
                f"teste {format_pt(result.test_acc, 1, percent=True)}, {format_pt(result.total_s, 1)} s"
                + (f" (passada congelada {format_pt(result.frozen_s, 1)} s)" if result.frozen_s >= 0.05 else ""))
            print(f"[{index}/{len(experiments)}] {exp.name}: {status}", flush=True)
    return pd.DataFrame(rows).set_index("name")


# --------------------------------------------------------------------------- as linhas do notebook 7

def default_experiments(epochs: int = 5) -> list[Experiment]:
    """As linhas que uma CPU faz depressa (a parte congelada é reaproveitada)."""
    ref = REFERENCE_RESULTS
    return [
        Experiment("último bloco, último token real", token="last_real", trainable_blocks=1, epochs=epochs,
                   reference=ref[16]),
        Experiment("última posição, padding fixo", token="last", padding="longest", trainable_blocks=1,
                   epochs=epochs, reference=ref[1]),
        Experiment("primeiro token", token="first", trainable_blocks=1, epochs=epochs, reference=ref[2]),
        Experiment("só a cabeça", trainable_blocks=0, epochs=epochs, reference=ref[3]),
        Experiment("dois últimos blocos", trainable_blocks=2, epochs=epochs, reference=ref[4]),
        Experiment("média dos tokens", token="mean", trainable_blocks=1, epochs=epochs, reference=ref[19]),
        Experiment("LoRA nos dois últimos blocos", lora_rank=8, lora_alpha=16, lora_blocks=2, lr=5e-4,
                   epochs=epochs, reference=ref[11]),
        Experiment("pesos aleatórios, último bloco", pretrained=False, trainable_blocks=1, epochs=epochs),
    ]


def slow_experiments(epochs: int = 5) -> list[Experiment]:
    """As linhas caras numa CPU (o modelo inteiro a cada passo, ou modelos maiores)."""
    ref = REFERENCE_RESULTS
    return [
        Experiment("todas as camadas", trainable_blocks="all", epochs=epochs, reference=ref[5]),
        Experiment("pesos aleatórios, todas as camadas", pretrained=False, trainable_blocks="all", epochs=epochs,
                   reference=ref[10]),
        Experiment("LoRA em todos os blocos", lora_rank=8, lora_alpha=16, lora_blocks="all", lr=5e-4,
                   epochs=epochs, reference=ref[11]),
        Experiment("gpt2-medium, último bloco", model_size="gpt2-medium (355M)", epochs=epochs, reference=ref[6]),
        Experiment("gpt2-large, último bloco", model_size="gpt2-large (774M)", epochs=epochs, reference=ref[7]),
        Experiment("padding até 1024", token="last", padding=1024, epochs=epochs, reference=ref[13]),
        Experiment("sem máscara causal", token="last", padding="longest", causal_mask=False, epochs=epochs,
                   reference=ref[17]),
    ]
