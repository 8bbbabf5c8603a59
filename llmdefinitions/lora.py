"""LoRA (*Low-Rank Adaptation*) escrito à mão, em PyTorch puro.

Ajustar uma camada linear inteira muda a matriz de pesos W (saída x entrada). A ideia do
LoRA (Hu et al., ICLR 2022, https://arxiv.org/abs/2106.09685) é deixar W congelada e aprender só
uma correção de posto baixo:

    W_efetiva = W + (alpha / rank) * B @ A,   A: (rank x entrada),  B: (saída x rank)

Com rank 8 numa camada 768 x 768, são 8 x (768 + 768) = 12.288 números treináveis em vez
de 589.824. B começa em zero, então no início o modelo adaptado calcula EXATAMENTE o mesmo
que o original; o treino só afasta B de zero aos poucos.

Depois do treino, B @ A pode ser somado a W (`merge`): a inferência volta a ter o custo do
modelo original. E como só A e B mudaram, basta salvar essas matrizes (`save_lora`): um
arquivo de quilobytes em vez dos ≈ 548 MB do GPT-2 small.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .checkpoint import read_metadata

__all__ = [
    "LoRALinear",
    "LoRAError",
    "apply_lora",
    "merge_lora",
    "lora_state_dict",
    "save_lora",
    "load_lora",
    "count_lora_parameters",
    "lora_block_indices",
    "lora_parameters_per_layer",
]

# Onde o LoRA pode entrar em cada bloco transformer (nomes de `model.py`).
# "ff" é um atalho para as duas camadas do MLP (fc1 e fc2).
LORA_TARGETS = {
    "W_query": ("att.W_query",),
    "W_key": ("att.W_key",),
    "W_value": ("att.W_value",),
    "out_proj": ("att.out_proj",),
    "fc1": ("ff.fc1",),
    "fc2": ("ff.fc2",),
    "ff": ("ff.fc1", "ff.fc2"),
}
DEFAULT_TARGETS = ("W_query", "W_key", "W_value", "out_proj", "ff")

_METADATA_KEY = "llmdefinitions_lora"
_HEAD_PREFIX = "out_head."


class LoRAError(ValueError):
    """Um arquivo ou modelo que não combina com o adaptador LoRA esperado. Ensinado no Notebook 7, §7.3."""


def lora_parameters_per_layer(in_features: int, out_features: int, rank: int) -> int:
    """Parâmetros do adaptador de UMA camada: A (rank x entrada) + B (saída x rank) = rank x (entrada + saída).

    Ensinado no Notebook 7, §7.3 (para contar os de um modelo inteiro: `count_lora_parameters`).
    """
    return rank * (in_features + out_features)


def check_lora_arguments(linear, rank, alpha) -> None:
    """Confere o que `LoRALinear` recebe; um erro (`LoRAError`) diz o que está errado. Notebook 7, §7.3."""
    if isinstance(linear, LoRALinear):
        raise LoRAError("Esta camada já tem um adaptador LoRA: aplique o LoRA uma vez só.")
    if not isinstance(linear, nn.Linear):
        raise LoRAError(f"LoRALinear envolve uma nn.Linear, mas recebeu {type(linear).__name__}.")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise LoRAError(f"rank deve ser um inteiro positivo (ex.: 4, 8, 16), mas é {rank!r}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise LoRAError(f"alpha deve ser um número positivo (ex.: 16), mas é {alpha!r}.")


class LoRALinear(nn.Module):
    """Uma `nn.Linear` congelada (`self.linear`) mais uma correção treinável de posto `rank`:
    `saída = linear(x) + (x @ A^T @ B^T) * alpha / rank`; só `lora_A` e `lora_B` treinam. Notebook 7, §7.3.
    """

    def __init__(self, linear: nn.Linear, rank: int = 8, alpha: float = 16):
        super().__init__()
        check_lora_arguments(linear, rank, alpha)
        self.linear = linear.requires_grad_(False)
        self.rank, self.alpha, self.scaling, self.merged = rank, alpha, alpha / rank, False
        weight = linear.weight
        self.lora_A = nn.Parameter(torch.empty(rank, linear.in_features, device=weight.device, dtype=weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(linear.out_features, rank, device=weight.device, dtype=weight.dtype))
        # A aleatória (como a inicialização padrão de nn.Linear) e B = 0: B @ A = 0 no início.
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def delta_weight(self) -> torch.Tensor:
        """A correção que o adaptador soma aos pesos: (alpha / rank) * B @ A, forma (saída x entrada)."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.merged:  # a correção já está dentro de linear.weight
            return self.linear(x)
        # Duas multiplicações finas (entrada -> rank -> saída), sem montar B @ A.
        return self.linear(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scaling

    @torch.no_grad()
    def merge(self, merged: bool = True) -> "LoRALinear":
        """Soma B @ A (escalado) aos pesos da linear: a mesma saída, com uma multiplicação só.
        `merge(False)` (ou `unmerge()`) subtrai a correção de volta, para voltar a treinar."""
        if merged != self.merged:
            self.linear.weight += self.delta_weight() if merged else -self.delta_weight()
            self.merged = merged
        return self

    def unmerge(self) -> "LoRALinear":
        return self.merge(False)

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha}, merged={self.merged}"


# --------------------------------------------------------------------------- aplicar ao modelo

def lora_block_indices(blocks, n_layers: int) -> list[int]:
    """Quais blocos recebem LoRA: `"all"`, um inteiro N (os N últimos) ou uma lista de índices.

    Devolve os índices ordenados (negativos contam do fim); uma escolha inválida gera `LoRAError`.

    Ensinado no Notebook 7, §7.3.
    """
    if blocks == "all":
        return list(range(n_layers))
    if isinstance(blocks, int) and not isinstance(blocks, bool):
        if not 1 <= blocks <= n_layers:
            raise LoRAError(f"blocks={blocks}: o modelo tem {n_layers} blocos; use um número de 1 a {n_layers}.")
        return list(range(n_layers - blocks, n_layers))
    if isinstance(blocks, Iterable) and not isinstance(blocks, str):
        indices = set()
        for index in blocks:
            if isinstance(index, bool) or not isinstance(index, int) or not -n_layers <= index < n_layers:
                raise LoRAError(
                    f"Índice de bloco inválido: {index!r}. O modelo tem {n_layers} blocos "
                    f"(índices 0 a {n_layers - 1}, ou negativos contando do fim)."
                )
            indices.add(index % n_layers)
        if not indices:
            raise LoRAError("A lista de blocos está vazia.")
        return sorted(indices)
    raise LoRAError(
        f'blocks deve ser "all", um inteiro (os N últimos blocos) ou uma lista de índices; recebeu {blocks!r}.'
    )


def lora_target_paths(targets) -> list[str]:
    """Nomes de `LORA_TARGETS` (`"W_query"`, `"ff"`...) -> caminhos dentro do bloco (`"att.W_query"`...).

    Ensinado no Notebook 7, §7.3.
    """
    if isinstance(targets, str):
        targets = (targets,)
    unknown = [name for name in targets if name not in LORA_TARGETS]
    if unknown:
        raise LoRAError(f"Alvos desconhecidos para o LoRA: {unknown}. Opções: {list(LORA_TARGETS)}.")
    paths = [path for name in targets for path in LORA_TARGETS[name]]
    if not paths:
        raise LoRAError("Nenhum alvo escolhido para o LoRA.")
    return list(dict.fromkeys(paths))  # sem repetições, na ordem dada


def apply_lora(model, rank: int = 8, alpha: float = 16, blocks="all", targets=DEFAULT_TARGETS,
               train_head: bool = True) -> list[str]:
    """Troca as camadas lineares escolhidas dos blocos transformer por `LoRALinear`.

    - `blocks`: `"all"`, um inteiro N (os N últimos blocos) ou uma lista de índices;
    - `targets`: quais lineares de cada bloco (`W_query`, `W_key`, `W_value`, `out_proj`,
      `fc1`, `fc2`; `ff` = `fc1` e `fc2`).

    Depois da troca, TODO o modelo fica congelado, exceto os adaptadores e, se
    `train_head=True`, a cabeça `out_head` (que numa classificação é nova e precisa ser
    treinada: troque a cabeça antes, com `add_classification_head`, ou depois — uma cabeça
    criada depois já nasce treinável). Para treinar mais alguma parte (ex.: `final_norm`),
    ligue `requires_grad` nela depois desta função. Devolve os nomes das camadas trocadas.

    Ensinado no Notebook 7, §7.3.
    """
    names = [f"trf_blocks.{index}.{path}"
             for index in lora_block_indices(blocks, len(model.trf_blocks)) for path in lora_target_paths(targets)]
    already = [name for name in names if isinstance(model.get_submodule(name), LoRALinear)]
    if already:
        raise LoRAError(f"Estas camadas já têm um adaptador LoRA: {already[:4]}. Aplique o LoRA uma vez só.")
    adapters = {name: LoRALinear(model.get_submodule(name), rank, alpha) for name in names}
    for param in model.parameters():
        param.requires_grad = False
    for name, adapter in adapters.items():  # "trf_blocks.0.att.W_query": troca W_query dentro de trf_blocks.0.att
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, adapter)
    for module in lora_modules(model).values():  # inclusive de chamadas anteriores
        module.lora_A.requires_grad = True
        module.lora_B.requires_grad = True
    if train_head:
        for param in model.out_head.parameters():
            param.requires_grad = True
    return names


def lora_modules(model) -> dict[str, LoRALinear]:
    """Todas as camadas `LoRALinear` do modelo, pelo nome. Ensinado no Notebook 7, §7.3."""
    return {name: module for name, module in model.named_modules() if isinstance(module, LoRALinear)}


def count_lora_parameters(model) -> int:
    """Quantos números os adaptadores têm: soma de rank x (entrada + saída) por camada. Ensinado no Notebook 7, §7.3."""
    return sum(m.lora_A.numel() + m.lora_B.numel() for m in lora_modules(model).values())


def merge_lora(model):
    """Funde cada adaptador na sua linear e tira o `LoRALinear` do caminho (no próprio modelo).

    O resultado é de novo um `GPTModel` comum, só com `nn.Linear`: mesmas previsões, custo
    da inferência igual ao do modelo original. Devolve `model`.

    Ensinado no Notebook 7, §7.3.
    """
    for name, module in lora_modules(model).items():
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, module.merge().linear)
    return model


# --------------------------------------------------------------------------- salvar e carregar

def lora_state_dict(model, include_head: bool = False) -> dict[str, torch.Tensor]:
    """Só os tensores dos adaptadores (`...lora_A`, `...lora_B`) e, se pedido, os da cabeça.

    Ensinado no Notebook 7, §7.3.
    """
    state = {}
    for name, module in lora_modules(model).items():
        if module.merged:
            raise LoRAError(f"{name} já foi fundido (merge): salve o adaptador antes de fundir, ou use unmerge().")
        state[f"{name}.lora_A"] = module.lora_A.detach()
        state[f"{name}.lora_B"] = module.lora_B.detach()
    if include_head:
        for param_name, param in model.out_head.named_parameters():
            state[_HEAD_PREFIX + param_name] = param.detach()
    return state


def lora_metadata(model) -> dict:
    """rank, alpha, blocos e alvos dos adaptadores do modelo (os metadados que `save_lora` grava).

    Ensinado no Notebook 7, §7.3.
    """
    modules = lora_modules(model)
    if not modules:
        raise LoRAError("O modelo não tem adaptadores LoRA: chame apply_lora(model, ...) antes.")
    ranks = sorted({m.rank for m in modules.values()})
    alphas = sorted({m.alpha for m in modules.values()})
    blocks = sorted({int(re.match(r"trf_blocks\.(\d+)\.", name).group(1)) for name in modules})
    targets = sorted({name.rsplit(".", 1)[1] for name in modules})  # "W_query", "fc1", ...
    return {
        "rank": ranks[0] if len(ranks) == 1 else ranks,
        "alpha": alphas[0] if len(alphas) == 1 else alphas,
        "blocks": blocks,
        "targets": targets,
        "modules": {name: {"rank": m.rank, "alpha": m.alpha} for name, m in modules.items()},
    }


def save_lora(model, path, metadata: dict | None = None, include_head: bool = True) -> dict:
    """Salva só os adaptadores (e a cabeça, se `include_head`) num arquivo `.safetensors`.

    Os metadados (rank, alpha, blocos, alvos e o que você passar em `metadata`) vão junto,
    em JSON. O modelo-base NÃO é salvo: para usar o arquivo, carregue o mesmo modelo-base,
    chame `apply_lora` com os mesmos argumentos e depois `load_lora`. Devolve os metadados.

    Ensinado no Notebook 7, §7.3.
    """
    include_head = include_head and model.out_head.weight is not model.tok_emb.weight  # cabeça amarrada não treina
    info = {**lora_metadata(model), "include_head": bool(include_head), "user": metadata or {}}
    tensors = {name: t.cpu().contiguous() for name, t in lora_state_dict(model, include_head).items()}
    save_file(tensors, os.fspath(path), metadata={_METADATA_KEY: json.dumps(info)})
    return info


def _apply_lora_hint(info: dict) -> str:
    return (f"apply_lora(model, rank={info['rank']!r}, alpha={info['alpha']!r}, "
            f"blocks={info['blocks']!r}, targets={tuple(info['targets'])!r})")


def load_lora(model, path) -> dict:
    """Carrega num modelo já preparado com `apply_lora` os adaptadores salvos por `save_lora`.

    Confere nomes, formas, rank e alpha antes de copiar qualquer coisa: um arquivo que não
    combina com o modelo gera `LoRAError` explicando a diferença. Devolve os metadados.

    Ensinado no Notebook 7, §7.3.
    """
    info = read_metadata(path, _METADATA_KEY, LoRAError, "um adaptador LoRA salvo por save_lora")
    state = load_file(os.fspath(path))
    modules = lora_modules(model)
    if not modules:
        raise LoRAError(f"O modelo não tem adaptadores LoRA. Antes de load_lora, chame {_apply_lora_hint(info)}.")
    expected = lora_state_dict(model, include_head=info.get("include_head", False))
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise LoRAError(
            f"Os adaptadores de {path} não correspondem aos do modelo. No modelo e não no arquivo: "
            f"{missing[:4]}; no arquivo e não no modelo: {unexpected[:4]}. Prepare o modelo com "
            f"{_apply_lora_hint(info)}."
        )
    wrong_shapes = [f"{name}: arquivo {tuple(state[name].shape)} x modelo {tuple(t.shape)}"
                    for name, t in expected.items() if state[name].shape != t.shape]
    if wrong_shapes:
        raise LoRAError(
            f"Formas diferentes entre {path} e o modelo (rank ou modelo-base diferente?): {wrong_shapes[:3]}."
        )
    for name, saved in info["modules"].items():
        if modules[name].alpha != saved["alpha"]:
            raise LoRAError(f"{name}: alpha {modules[name].alpha} no modelo, {saved['alpha']} no arquivo.")
    with torch.no_grad():
        for name, tensor in expected.items():
            tensor.copy_(state[name])
    return info
