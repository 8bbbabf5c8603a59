"""O laboratório: roda cada `Experiment` (de `experiments.py`) e junta os resultados numa tabela.

Cada linha roda como o laço do capítulo: preparar, montar os lotes, treinar, avaliar
(`ExperimentLab.run`). A parte congelada do modelo é calculada UMA vez por grupo de linhas
(mesmo modelo, mesmos tokens: `features.FrozenCache`) e cada linha treina só a sua cauda.
Treinar TODAS as camadas e tirar a máscara causal não deixam parte congelada: essas linhas
rodam o modelo inteiro a cada passo, como na aula.
"""

from __future__ import annotations

import contextlib
import copy
import io
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
from .course import is_demo, load_course_model, load_pretrained_gpt2
from .dataset import SpamDataset, pad_batch
from .device import get_device
from .experiments import (
    DEFAULT_MODEL,
    Experiment,
    ExperimentError,
    ExperimentSkipped,
    Reference,
    check_unique_names,
    split_frames,
)
from .features import FrozenOutputs, features_from_frozen, frozen_outputs_loader
from .frozen_cache import FrozenCache, FrozenKey, token_view
from .lora import apply_lora
from .memory import PeakMemory
from .model import GPTModel, remove_causal_mask, tie_weights
from .tokenizer import get_tokenizer
from .training import calc_accuracy_loader, train_classifier_simple
from .uncertainty import format_pt
from .weights import GPT2DownloadError

__all__ = ["ExperimentResult", "ExperimentLab", "run_experiment", "run_experiments"]

EVAL_FREQ, EVAL_ITER = 50, 5  # o calendário de avaliação da aula
FROZEN_BATCH_SIZE = 32
MODEL_NAMES = tuple(model_configs)


@dataclass
class ExperimentResult:
    """O que uma linha mediu. Acurácias em fração (0 a 1); tempos em segundos. Notebook 7, §7.2."""

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
        """Uma linha da tabela: os campos, com a referência em `ref_row`, `ref_setup` e `ref_test_acc`."""
        row = asdict(self)
        ref = row.pop("reference")
        row["ref_row"] = ref["row"] if ref else None
        row["ref_setup"] = ref["setup"] if ref else ""
        row["ref_test_acc"] = ref["test"] / 100 if ref else None
        return row

    def status(self) -> str:
        """O resumo impresso por `run_experiments`: o motivo de pular, ou acurácia e tempos."""
        if self.skipped:
            return self.skipped
        frozen = f" (passada congelada {format_pt(self.frozen_s, 1)} s)" if self.frozen_s >= 0.05 else ""
        return f"teste {format_pt(self.test_acc, 1, percent=True)}, {format_pt(self.total_s, 1)} s{frozen}"


def _pooled_outputs(model, frozen: dict[str, FrozenOutputs], device) -> dict[str, FrozenOutputs]:
    """Média dos tokens reais depois de `final_norm` (para a média com só a cabeça treinando)."""
    pooled = {}
    for name, outputs in frozen.items():
        X, y = features_from_frozen(model, outputs, device, token_position="mean", batch_size=FROZEN_BATCH_SIZE)
        pooled[name] = FrozenOutputs([torch.from_numpy(row[None]) for row in X], y.tolist(), 0)
    return pooled


def _unfreeze(model, blocks, n_layers: int) -> None:
    """Destrava o que a linha treina: tudo (`"all"`), ou os `blocks` últimos blocos e `final_norm`."""
    if blocks == "all":
        modules = [model]
    else:
        modules = [*model.trf_blocks[n_layers - blocks:], model.final_norm] if blocks > 0 else []
    for module in modules:
        for param in module.parameters():
            param.requires_grad = True


class ExperimentLab:
    """Dados, modelos e passadas congeladas compartilhados por várias linhas. Notebook 7, §7.1.

    `models`: modelos já carregados (nome do modelo -> `GPTModel`); os outros vêm de `course.py`.
    `reuse_frozen=False` roda toda linha com o modelo inteiro a cada passo (para conferir que dá o
    mesmo resultado, e quanto custa).
    """

    def __init__(self, data, tokenizer=None, device=None, models: dict | None = None,
                 reuse_frozen: bool = True, models_dir=None):
        self.device = torch.device(device) if device is not None else get_device()
        self.tokenizer = tokenizer or get_tokenizer()
        frames = split_frames(data)
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

    # ----------------------------------------------------------------- o laço de uma linha

    def run(self, exp: Experiment, verbose: bool = False, keep_model: bool = False) -> ExperimentResult:
        """Treina e avalia uma linha, como o laço do capítulo: preparar, montar os lotes, treinar, avaliar.

        Uma linha que não roda aqui volta com o motivo em `skipped`; com `keep_model=True`, o
        modelo treinado fica em `lab.last_model`. Ensinado no Notebook 7, §7.1.
        """
        result = self.new_result(exp)
        try:
            base = self.check(exp)
        except ExperimentSkipped as err:
            result.skipped = str(err)
            return result
        result.slow, result.full_model = exp.slow, exp.full_model or not self.reuse_frozen
        start = time.perf_counter()
        with PeakMemory(self.device) as memory:
            # 1. preparar: uma cópia do modelo de partida, com a cabeça nova e só o que treina destravado
            model = self.prepare(exp, base)
            # 2. os lotes: saídas congeladas guardadas (e a cauda treina) ou textos (e o modelo inteiro treina)
            classifier, train_loader, eval_loaders = self.loaders(exp, model, base, result)
            # 3. treinar: o laço da aula, com AdamW
            result.train_s = self.train(exp, model, classifier, train_loader, eval_loaders["val"], verbose)
            # 4. avaliar: acurácia em treino, validação e teste completos
            result.train_acc, result.val_acc, result.test_acc = self.evaluate(classifier, eval_loaders)
        result.total_s, result.peak_memory_mb = time.perf_counter() - start, memory.peak_mb
        counts = count_parameters(model)
        result.trainable_params, result.total_params = counts.trainable, counts.total
        self.last_model = model if keep_model else None
        return result

    def new_result(self, exp: Experiment) -> ExperimentResult:
        """O resultado ainda vazio de uma linha: nome, configuração, referência e tamanhos dos conjuntos."""
        return ExperimentResult(getattr(exp, "name", str(exp)), exp.describe() if isinstance(exp, Experiment) else "",
                                reference=getattr(exp, "reference", None),
                                **{f"n_{name}": len(ds) for name, ds in self.datasets.items()})

    def prepare(self, exp: Experiment, base: GPTModel):
        """1. Uma cópia do modelo de partida com a cabeça nova e só o que treina destravado. Só os pesos
        que podem mudar são copiados; os congelados são compartilhados com o modelo de partida (que
        nunca treina): uma linha custa megabytes de memória, não uma cópia inteira do GPT-2."""
        n_layers = len(base.trf_blocks)
        changing = ("",) if exp.resolved_trainable_blocks() == "all" else (
            *(f"trf_blocks.{i}." for i in range(n_layers - exp.tail_blocks(n_layers), n_layers)), "final_norm.")
        shared = {id(p): p for name, p in base.named_parameters() if not name.startswith(changing)}
        model = copy.deepcopy(base, memo=shared)
        freeze_all(model)
        add_classification_head(model, seed=exp.seed)
        _unfreeze(model, exp.resolved_trainable_blocks(), n_layers)
        if exp.uses_lora:
            torch.manual_seed(exp.seed)
            apply_lora(model, rank=exp.lora_rank, alpha=exp.lora_alpha, blocks=exp.lora_block_indices(n_layers))
        if not exp.causal_mask:
            remove_causal_mask(model)
        return model.to(self.device)

    def loaders(self, exp: Experiment, model, base: GPTModel, result: ExperimentResult):
        """2. `(classificador, lotes de treino, {conjunto: lotes})`: com parte congelada, a cauda sobre as
        saídas guardadas; sem ela, o modelo inteiro sobre os textos. Anota a passada congelada em `result`."""
        if result.full_model:
            return (FullModelClassifier(model, exp.token_position), *self.full_loaders(exp))
        seconds, passes = self.cache.seconds, self.cache.frozen_passes
        n_tail = exp.tail_blocks(len(base.trf_blocks))
        train_loader, eval_loaders = self.frozen_loaders(exp, base, n_tail)
        result.frozen_s = self.cache.seconds - seconds
        result.reused_frozen = self.cache.frozen_passes == passes  # no máximo avançou alguns blocos
        return self.tail(exp, model, n_tail), train_loader, eval_loaders

    def train(self, exp: Experiment, model, classifier, train_loader, val_loader, verbose: bool = False) -> float:
        """3. O laço de treino da aula (`train_classifier_simple`): o AdamW atualiza o que é treinável
        em `model`, e `classifier` (o modelo inteiro ou a cauda) lê os lotes. Devolve os segundos."""
        start = time.perf_counter()
        torch.manual_seed(exp.seed)
        trainable = [p for p in model.parameters() if p.requires_grad]
        # fused: a atualização inteira numa passada só pela memória (na CPU, metade do tempo do passo)
        optimizer = torch.optim.AdamW(trainable, lr=exp.lr, weight_decay=exp.weight_decay,
                                      fused=self.device.type in ("cpu", "cuda"))
        output = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
        with output:  # as linhas "Ep 1 (Step ...)" só com verbose=True
            train_classifier_simple(classifier, train_loader, val_loader, optimizer, self.device,
                                    num_epochs=exp.epochs, eval_freq=EVAL_FREQ, eval_iter=EVAL_ITER, progress=False)
        return time.perf_counter() - start

    def evaluate(self, classifier, eval_loaders: dict) -> tuple[float, float, float]:
        """4. Acurácia em treino, validação e teste completos."""
        return tuple(calc_accuracy_loader(eval_loaders[name], classifier, self.device)
                     for name in ("train", "val", "test"))

    # ----------------------------------------------------------------- modelos de partida

    def pretrained_model(self, model_name: str) -> GPTModel:
        """O GPT-2 pré-treinado `model_name`, carregado uma vez pelo `course.py`: o do curso com
        `load_course_model` (sem pesos, o de demonstração); os maiores com `load_pretrained_gpt2`,
        os pesos ou nada (a linha é pulada, com o motivo)."""
        if model_name in self._model_errors:
            raise ExperimentSkipped(self._model_errors[model_name])
        if model_name not in self.models:
            if model_name == DEFAULT_MODEL:
                model = load_course_model(model_name, self.models_dir).model
            elif is_demo():
                self._model_errors[model_name] = (f"{model_name}: pulada no modo de demonstração (só existe o modelo "
                                                  "de demonstração; a linha repetiria a do modelo pequeno).")
                raise ExperimentSkipped(self._model_errors[model_name])
            else:
                try:
                    model = load_pretrained_gpt2(model_name, self.models_dir)
                except GPT2DownloadError as err:
                    self._model_errors[model_name] = (f"{model_name}: pulada, os pesos não puderam ser obtidos "
                                                      f"({err.reason}).")
                    raise ExperimentSkipped(self._model_errors[model_name]) from err
            self.models[model_name] = model.to(self.device).eval()
        return self.models[model_name]

    def base_model(self, exp: Experiment) -> GPTModel:
        """O modelo de partida da linha (nunca treinado): o pré-treinado, ou um de pesos aleatórios
        com a semente da linha (guardado com a chave `exp.model_key`)."""
        pretrained = self.pretrained_model(exp.model_name)
        if exp.pretrained:
            return pretrained
        if exp.model_key not in self.models:
            torch.manual_seed(exp.seed)
            model = tie_weights(GPTModel(pretrained.cfg))  # amarrado, como no GPT-2
            self.models[exp.model_key] = model.to(self.device).eval()
        return self.models[exp.model_key]

    # ----------------------------------------------------------------- lotes e caudas

    @staticmethod
    def tail(exp: Experiment, model, n_tail: int):
        """A parte que roda a cada passo. Para "last_real", "last" e "first" a posição lida é a
        última guardada (ver `token_view`); com LoRA, os blocos da cauda já têm os adaptadores."""
        if exp.token_position == "mean":
            return PooledHead(model) if n_tail == 0 else MeanTail(model, n_tail)
        return TrainableTail(model, n_tail)

    def frozen_outputs(self, exp: Experiment, base: GPTModel, n_tail: int) -> dict:
        """As saídas congeladas da linha, do cache (a passada mais longa do grupo vem primeiro)."""
        model_key, view = exp.model_key, exp.frozen_view(self.longest)
        planned = self.plan.get((model_key, view), 0)
        if planned > n_tail:  # esta e as outras linhas do grupo avançam a partir dela
            self.cache.get(FrozenKey(model_key, view, planned), base, self.datasets, self.device)
        if exp.token_position == "mean" and n_tail == 0:  # a média precisa de todos os tokens do último bloco
            frozen = self.cache.get(FrozenKey(model_key, view, 1), base, self.datasets, self.device)
            return self.cache.derived(FrozenKey(model_key, view, 0, derived="média"),
                                      lambda: _pooled_outputs(base, frozen, self.device))
        return self.cache.get(FrozenKey(model_key, view, n_tail), base, self.datasets, self.device)

    def frozen_loaders(self, exp: Experiment, base: GPTModel, n_tail: int):
        """Lotes de treino (embaralhados com a semente da linha) e de avaliação, das saídas congeladas."""
        frozen = self.frozen_outputs(exp, base, n_tail)
        pin = self.device.type == "cuda"
        train = frozen_outputs_loader(frozen["train"], exp.batch_size, shuffle=True, drop_last=True, seed=exp.seed,
                                      pin_memory=pin)
        evals = {name: frozen_outputs_loader(frozen[name], exp.batch_size, pin_memory=pin) for name in frozen}
        return train, evals

    def full_loaders(self, exp: Experiment):
        """Lotes de textos para o modelo inteiro (como na aula), com o padding da linha."""
        length = exp.padded_length(self.longest)
        view = ("padded", length) if length is not None else ("real", self.longest)
        sets = {name: token_view(ds, view) for name, ds in self.datasets.items()}
        generator = torch.Generator().manual_seed(exp.seed)
        train = DataLoader(sets["train"], batch_size=exp.batch_size, shuffle=True, drop_last=True,
                           generator=generator, collate_fn=pad_batch)
        evals = {name: DataLoader(ds, batch_size=exp.batch_size, collate_fn=pad_batch) for name, ds in sets.items()}
        return train, evals

    # ----------------------------------------------------------------- validação e plano

    def validate(self, exp: Experiment) -> GPTModel:
        """Confere a linha contra o modelo pré-treinado dela (que é carregado) e devolve esse modelo.
        `ExperimentError`: a descrição está errada. `ExperimentSkipped`: está certa, mas não roda aqui."""
        if not isinstance(exp, Experiment):
            raise ExperimentError(f"Esperava um Experiment, recebi {type(exp).__name__}.")
        if exp.model_name not in MODEL_NAMES:
            raise ExperimentError(
                f"{exp.name}: model_name={exp.model_name!r} não existe. Opções: {', '.join(MODEL_NAMES)}."
            )
        pretrained = self.pretrained_model(exp.model_name)
        exp.validate(len(pretrained.trf_blocks), pretrained.context_length)
        return pretrained

    def check(self, exp: Experiment) -> GPTModel:
        """`validate`, depois o modelo de partida (`base_model`; o aleatório é criado aqui)."""
        self.validate(exp)
        return self.base_model(exp)

    def group_of(self, exp: Experiment) -> tuple:
        """As linhas de um mesmo grupo podem compartilhar a passada congelada."""
        return (exp.model_key, exp.frozen_view(self.longest))

    def release(self, group: tuple) -> None:
        """Esquece as saídas guardadas de um grupo (e um modelo aleatório que ninguém mais usa)."""
        model_key, view = group
        self.cache.drop(lambda key: key.model == model_key and key.view == view)
        if model_key[1] != "pré-treinado" and not any(key.model == model_key for key in self.cache.keys()):
            self.models.pop(model_key, None)

    def plan_frozen_passes(self, experiments) -> dict:
        """Confere cada linha e, para cada grupo que compartilha a parte congelada (mesmo modelo,
        mesmos tokens), guarda o maior número de blocos que fica de fora: essa passada é feita uma
        vez e as linhas com menos blocos de fora só avançam a partir dela."""
        for exp in experiments:
            try:
                pretrained = self.validate(exp)
            except ExperimentSkipped:
                continue
            if exp.full_model or not self.reuse_frozen:
                continue
            n_tail = max(exp.tail_blocks(len(pretrained.trf_blocks)), 1 if exp.token_position == "mean" else 0)
            group = self.group_of(exp)
            self.plan[group] = max(self.plan.get(group, 0), n_tail)
        return self.plan


def run_experiment(exp: Experiment, data=None, lab: ExperimentLab | None = None, verbose: bool = False,
                   keep_model: bool = False, **lab_options) -> ExperimentResult:
    """Roda um experimento. Passe o mesmo `lab` para várias chamadas e elas compartilham as
    passadas congeladas; sem `lab`, um novo é criado (`lab_options` vão para `ExperimentLab`).
    Ensinado no Notebook 7, §7.3."""
    lab = lab or ExperimentLab(data, **lab_options)
    return lab.run(exp, verbose=verbose, keep_model=keep_model)


def run_experiments(experiments, data=None, lab: ExperimentLab | None = None, progress: bool = True,
                    verbose: bool = False, on_row=None, **lab_options) -> pd.DataFrame:
    """Roda a lista e devolve uma tabela do pandas (uma linha por experimento, na ordem dada).

    Todas as linhas são conferidas antes de qualquer treino. A passada congelada de cada grupo
    é feita uma vez, e o tempo dela entra na coluna `frozen_s` da primeira linha que a usa.
    Linhas que não rodam aqui ficam na tabela com o motivo em `skipped`. Depois da última linha
    de um grupo, as saídas guardadas dele são liberadas. `on_row(i, resultado)` é chamada depois
    de cada linha (ex.: para gravar resultados parciais). Ensinado no Notebook 7, §7.2.
    """
    if lab is None:
        if data is None:
            raise ExperimentError("Passe os dados (train_df, val_df, test_df) ou um ExperimentLab.")
        lab = ExperimentLab(data, **lab_options)
    experiments = list(experiments)
    check_unique_names(experiments)
    lab.plan_frozen_passes(experiments)  # também confere cada linha antes de treinar qualquer uma
    last_use = {lab.group_of(exp): index for index, exp in enumerate(experiments, start=1)}
    rows = []
    for index, exp in enumerate(experiments, start=1):
        result = lab.run(exp, verbose=verbose)
        rows.append(result.as_row())
        for group in [g for g, last in last_use.items() if last == index]:
            lab.release(group)  # a última linha do grupo: libera as saídas guardadas
        if on_row is not None:
            on_row(index, result)
        if progress:
            print(f"[{index}/{len(experiments)}] {exp.name}: {result.status()}", flush=True)
    return pd.DataFrame(rows).set_index("name")
