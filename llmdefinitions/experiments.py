"""Experimentos: muitas variações do fine-tuning, cada uma descrita numa linha de tabela.

Um `Experiment` descreve UMA variação da receita do curso: qual posição é lida
(`token_position`, o vocabulário de `classifier.TOKEN_POSITIONS`), quantos blocos treinam,
LoRA, padding, pesos aleatórios, máscara causal... Aqui ficam a descrição, a validação (um
erro diz, em português, o que está errado e como corrigir), as linhas do notebook 7
(`default_experiments`, `slow_experiments`) e a tabela publicada com que elas se comparam
(`REFERENCE_RESULTS`, lida de `reference_results.csv`). Quem roda as linhas é `lab.py`.

Qual posição é lida (`token_position`):
- `"last_real"`: o último token REAL de cada texto (o padrão do curso);
- `"last"`: a última posição do tensor com padding fixo (como no livro de referência): com
  textos curtos, é um `<|endoftext|>` de preenchimento;
- `"first"`: o primeiro token. Com a máscara causal, ele só enxerga a si mesmo;
- `"mean"`: a média dos vetores de todos os tokens reais (depois de `final_norm`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from .classifier import TOKEN_POSITIONS
from .course import model_mode
from .lora import LoRAError, lora_block_indices

__all__ = [
    "DEFAULT_MODEL",
    "REFERENCE_SOURCE",
    "Reference",
    "REFERENCE_RESULTS",
    "Experiment",
    "ExperimentError",
    "ExperimentSkipped",
    "default_experiments",
    "slow_experiments",
]

DEFAULT_MODEL = "gpt2-small (124M)"  # o CHOOSE_MODEL da aula


class ExperimentError(ValueError):
    """Uma descrição de experimento que não faz sentido (explicada em português). Notebook 7, §7.1."""


class ExperimentSkipped(ExperimentError):
    """Uma linha válida que não pode rodar aqui (ex.: pesos de um modelo maior indisponíveis). Notebook 7, §7.4."""


# --------------------------------------------------------------------------- a referência publicada

@dataclass(frozen=True)
class Reference:
    """Um número publicado: a linha `row` da tabela da referência e a configuração dela.

    Acurácias (`train`, `val`, `test`) em %, tempo de treino em minutos. Notebook 7, §7.2.
    """

    row: int
    setup: str
    train: float
    val: float
    test: float
    minutes: float


def _read_reference_table() -> tuple[str, dict[int, Reference]]:
    """A tabela de `reference_results.csv`: a fonte (linha `# fonte: ...`) e uma `Reference` por linha."""
    text = resources.files("llmdefinitions").joinpath("reference_results.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    source = next(line.removeprefix("# fonte: ") for line in lines if line.startswith("# fonte: "))
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    table = {int(r["row"]): Reference(int(r["row"]), r["setup"], float(r["train"]), float(r["val"]),
                                      float(r["test"]), float(r["minutes"])) for r in rows}
    return source, table


# Acurácias (%) e tempos de treino publicados na fonte REFERENCE_SOURCE. Na referência, "last" é a
# última posição com padding até o maior texto do treino (120 tokens).
REFERENCE_SOURCE, REFERENCE_RESULTS = _read_reference_table()


# --------------------------------------------------------------------------- a descrição

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Experiment:
    """Uma variação do fine-tuning do classificador de spam. Ensinado no Notebook 7, §7.1.

    - `model_name`: o GPT-2 de partida, como o `CHOOSE_MODEL` da aula (`"gpt2-small (124M)"`);
    - `token_position`: `"last_real"`, `"last"` (exige padding fixo), `"first"` ou `"mean"`;
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
    model_name: str = DEFAULT_MODEL
    token_position: str = "last_real"
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
        """`trainable_blocks`, com `None` trocado pelo padrão (1 bloco; 0 com LoRA)."""
        if self.trainable_blocks is None:
            return 0 if self.uses_lora else 1
        return self.trainable_blocks

    def lora_block_indices(self, n_layers: int) -> list[int]:
        """Os índices dos blocos com LoRA (de `lora_blocks`), num modelo de `n_layers` blocos."""
        try:
            return lora_block_indices(self.lora_blocks, n_layers)
        except LoRAError as err:
            raise ExperimentError(f"{self.name}: lora_blocks={self.lora_blocks!r}. {err}") from err

    def tail_blocks(self, n_layers: int) -> int:
        """Quantos blocos do fim rodam a cada passo (os treináveis, ou os que têm LoRA)."""
        if self.uses_lora:
            return n_layers - min(self.lora_block_indices(n_layers))
        blocks = self.resolved_trainable_blocks()
        return n_layers if blocks == "all" else blocks

    @property
    def model_key(self) -> tuple:
        """O que identifica o modelo de partida da linha (parte da chave do cache de passadas)."""
        return (self.model_name, "pré-treinado" if self.pretrained else f"aleatório, semente {self.seed}")

    def padded_length(self, longest: int) -> int | None:
        """O tamanho do padding fixo (`"longest"`: `longest`, o maior texto do treino), ou `None`."""
        if self.padding is None:
            return None
        return longest if self.padding == "longest" else self.padding

    def frozen_view(self, longest: int) -> tuple:
        """Quais tokens a parte congelada precisa ver (a `view` de `features.token_view`). Junto com
        o modelo de partida, decide quais linhas compartilham uma passada congelada."""
        length = self.padded_length(longest)
        if self.token_position == "first":
            return ("first",)
        if self.token_position == "last":
            return ("padded", length)
        return ("real", length or longest)

    @property
    def slow(self) -> bool:
        """Linhas que numa CPU levam de dezenas de minutos a horas com o GPT-2 small de verdade
        (12 blocos): o modelo inteiro a cada passo, modelos maiores, padding longo, cauda longa."""
        return (self.full_model or self.model_name != DEFAULT_MODEL
                or (_is_int(self.padding) and self.padding >= 512) or self.tail_blocks(12) > 4)

    def describe(self) -> str:
        """Resumo curto da configuração, para a tabela."""
        blocks = self.resolved_trainable_blocks()
        start = "pré-treinado" if model_mode() != "demo" else "modelo de demonstração (aleatório)"
        trained = ("todas as camadas" if blocks == "all" else
                   "1 bloco treinável" if blocks == 1 else f"{blocks} blocos treináveis")
        parts = [self.model_name.split(" ")[0], start if self.pretrained else "pesos aleatórios",
                 f"token {self.token_position}", trained]
        if self.uses_lora:
            parts.append(f"LoRA r={self.lora_rank} α={self.lora_alpha} em {self.lora_blocks}")
        parts.append("padding dinâmico" if self.padding is None else f"padding {self.padding}")
        if not self.causal_mask:
            parts.append("sem máscara causal")
        return ", ".join(parts)

    # ------------------------------------------------------------------- validação

    def validate(self, n_layers: int, context_length: int) -> None:
        """Confere a descrição contra o modelo; um erro diz o que está errado e como corrigir.

        `ExperimentError`: a descrição está errada. `ExperimentSkipped`: está certa, mas não roda
        com este modelo (ex.: padding maior que o contexto).
        """
        if self.token_position not in TOKEN_POSITIONS:
            raise ExperimentError(f"{self.name}: token_position={self.token_position!r} não existe. "
                                  f"Opções: {', '.join(TOKEN_POSITIONS)}.")
        blocks = self.resolved_trainable_blocks()
        if blocks != "all" and not (_is_int(blocks) and 0 <= blocks <= n_layers):
            raise ExperimentError(f'{self.name}: trainable_blocks={blocks!r}; use um inteiro de 0 a {n_layers} '
                                  'ou "all" (o modelo inteiro).')
        self._check_padding(context_length)
        if self.uses_lora:
            self._check_lora(blocks, n_layers)
        if not (_is_int(self.epochs) and self.epochs >= 1) or not (_is_int(self.batch_size) and self.batch_size >= 1):
            raise ExperimentError(f"{self.name}: epochs e batch_size devem ser inteiros positivos.")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ExperimentError(f"{self.name}: lr deve ser positivo e weight_decay, maior ou igual a zero.")

    def _check_padding(self, context_length: int) -> None:
        if self.padding not in (None, "longest") and not (_is_int(self.padding) and self.padding >= 1):
            raise ExperimentError(f'{self.name}: padding={self.padding!r}; use None, "longest" ou um número de tokens.')
        if _is_int(self.padding) and self.padding > context_length:
            raise ExperimentSkipped(f"{self.name}: pulada, padding={self.padding} passa do contexto deste modelo "
                                    f"({context_length} tokens).")
        if self.token_position == "last" and self.padding is None:
            raise ExperimentError(
                f'{self.name}: token_position="last" lê a última posição do lote, que sem padding fixo depende de '
                'quais textos caíram juntos no lote. Use padding="longest" (ou um número), ou '
                'token_position="last_real".'
            )
        if not self.causal_mask and self.padding is None:
            raise ExperimentError(
                f"{self.name}: sem máscara causal, os tokens reais enxergam o padding, e o padding dinâmico muda de "
                'um lote para outro. Use padding="longest" (ou um número).'
            )

    def _check_lora(self, blocks, n_layers: int) -> None:
        if not (_is_int(self.lora_rank) and self.lora_rank >= 1):
            raise ExperimentError(f"{self.name}: lora_rank={self.lora_rank!r}; use um inteiro positivo (ex.: 8).")
        if blocks != 0:
            raise ExperimentError(
                f"{self.name}: com LoRA os pesos originais ficam congelados; use trainable_blocks=0 (ou None). "
                "A cabeça continua treinável."
            )
        self.lora_block_indices(n_layers)  # confere lora_blocks


def check_unique_names(experiments) -> None:
    """Cada linha da tabela precisa de um nome próprio (o índice da tabela)."""
    names = [getattr(exp, "name", None) for exp in experiments]
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        raise ExperimentError(f"Nomes de experimentos repetidos: {repeated}. Cada linha precisa de um nome próprio.")


def split_frames(data) -> dict:
    """`{"train": ..., "val": ..., "test": ...}` a partir de `(train_df, val_df, test_df)` ou de um dicionário."""
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


# --------------------------------------------------------------------------- as linhas do notebook 7

def default_experiments(epochs: int = 5) -> list[Experiment]:
    """As linhas que uma CPU faz depressa (a parte congelada é reaproveitada). Notebook 7, §7.2."""
    ref = REFERENCE_RESULTS
    return [
        Experiment("último bloco, último token real", token_position="last_real", trainable_blocks=1,
                   epochs=epochs, reference=ref[16]),
        Experiment("última posição, padding fixo", token_position="last", padding="longest", trainable_blocks=1,
                   epochs=epochs, reference=ref[1]),
        Experiment("primeiro token", token_position="first", trainable_blocks=1, epochs=epochs, reference=ref[2]),
        Experiment("só a cabeça", trainable_blocks=0, epochs=epochs, reference=ref[3]),
        Experiment("dois últimos blocos", trainable_blocks=2, epochs=epochs, reference=ref[4]),
        Experiment("média dos tokens", token_position="mean", trainable_blocks=1, epochs=epochs, reference=ref[19]),
        Experiment("LoRA nos dois últimos blocos", lora_rank=8, lora_alpha=16, lora_blocks=2, lr=5e-4,
                   epochs=epochs, reference=ref[11]),
        Experiment("pesos aleatórios, último bloco", pretrained=False, trainable_blocks=1, epochs=epochs),
    ]


def slow_experiments(epochs: int = 5) -> list[Experiment]:
    """As linhas caras numa CPU (o modelo inteiro a cada passo, ou modelos maiores). Notebook 7, §7.4."""
    ref = REFERENCE_RESULTS
    return [
        Experiment("todas as camadas", trainable_blocks="all", epochs=epochs, reference=ref[5]),
        Experiment("pesos aleatórios, todas as camadas", pretrained=False, trainable_blocks="all", epochs=epochs,
                   reference=ref[10]),
        Experiment("LoRA em todos os blocos", lora_rank=8, lora_alpha=16, lora_blocks="all", lr=5e-4,
                   epochs=epochs, reference=ref[11]),
        Experiment("gpt2-medium, último bloco", model_name="gpt2-medium (355M)", epochs=epochs, reference=ref[6]),
        Experiment("gpt2-large, último bloco", model_name="gpt2-large (774M)", epochs=epochs, reference=ref[7]),
        Experiment("padding até 1024", token_position="last", padding=1024, epochs=epochs, reference=ref[13]),
        Experiment("sem máscara causal", token_position="last", padding="longest", causal_mask=False, epochs=epochs,
                   reference=ref[17]),
    ]
