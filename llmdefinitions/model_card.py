"""Um *model card* (Mitchell et al., 2019) em Markdown para o classificador treinado.

Documentar dados, abordagem, métricas, limitações e riscos torna o modelo auditável: é a
parte de "responsabilidade e transparência" da ética do fine-tuning.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .uncertainty import format_pt

__all__ = ["describe_data", "write_model_card"]

REAL_DATA_SOURCE = (
    "SMS Spam Collection v.1 da UCI (Almeida, Gómez Hidalgo e Yamakami, 2011): 5.574 SMS em inglês, "
    "4.827 legítimos e 747 spam, coletados no Reino Unido e em Singapura por volta de 2010."
)
SAMPLE_DATA_SOURCE = (
    "Amostra do curso (modo de demonstração): 200 SMS em inglês escritos para o curso, 120 legítimos "
    "e 80 spam; NÃO é a SMS Spam Collection da UCI."
)
DEFAULT_DATA = "(não informado: passe `data=describe_data(train_df, val_df, test_df)`)"


def describe_data(train_df, val_df, test_df, sample: bool | None = None) -> str:
    """O parágrafo "Dados" do model card, com as contagens dos conjuntos realmente usados.

    `sample`: se os dados são a amostra de demonstração do curso; `None` pergunta ao pacote
    o que `prepare_course_data` leu nesta sessão.

    Ensinado no Notebook 6, §6.5.
    """
    if sample is None:
        from .course import data_mode  # o que prepare_course_data leu nesta sessão: "real" ou "demo"

        sample = data_mode() == "demo"
    parts = {"treino": train_df, "validação": val_df, "teste": test_df}
    labels = [y for df in parts.values() for y in df["Label"].tolist()]  # 0/1 ou "ham"/"spam"
    ham, spam = sum(y in (0, "ham") for y in labels), sum(y in (1, "spam") for y in labels)
    sizes = " / ".join(f"{format_pt(len(df))} ({name})" for name, df in parts.items())
    return (
        f"{SAMPLE_DATA_SOURCE if sample else REAL_DATA_SOURCE} Usados aqui, depois do balanceamento por "
        f"subamostragem dos legítimos: {format_pt(ham)} legítimos + {format_pt(spam)} spam = "
        f"{format_pt(ham + spam)} mensagens, divididas em {sizes}."
    )
DEFAULT_LIMITATIONS = (
    "Só inglês, e SMS de mais de uma década atrás: golpes atuais (PIX, links encurtados, "
    "WhatsApp) e outras línguas não estão representados.",
    "O conjunto balanceado (50% spam) não reflete a proporção real; em produção a precisão "
    "para spam tende a ser menor do que a medida aqui.",
    "O teste é pequeno (o tamanho está em Dados): diferenças de 1 a 2 pontos de acurácia estão dentro do ruído.",
)
DEFAULT_RISKS = (
    "Mensagens legítimas de pequenos comércios, de pessoas que escrevem com abreviações ou "
    "em variantes do inglês podem ser marcadas como spam com mais frequência: meça o erro por grupo.",
    "SMS são dados pessoais (LGPD): não use mensagens reais de terceiros sem base legal e anonimização.",
    "Um falso positivo pode esconder uma mensagem importante: mantenha uma pasta de spam revisável.",
)


def write_model_card(path=None, *, model_name: str, approach: str, metrics: dict,
                     training: dict | None = None, data: str = DEFAULT_DATA,
                     limitations=DEFAULT_LIMITATIONS, risks=DEFAULT_RISKS, demo: bool = False,
                     intended_use: str = "Material didático: classificar SMS em inglês como spam ou não spam.") -> str:
    """Monta o model card; se `path` for dado, também grava o arquivo. Devolve o Markdown. Notebook 6, §6.5."""
    metric_rows = "\n".join(f"| {name} | {format_pt(value, 2, percent=True)} |" for name, value in metrics.items())
    training_rows = "\n".join(f"- **{k}**: {v}" for k, v in (training or {}).items())
    limitations, risks = ("\n".join(f"- {item}" for item in items) for items in (limitations, risks))
    warning = ("\n> **ATENÇÃO — modo de demonstração:** modelo de pesos aleatórios; as métricas abaixo "
               "não representam o classificador real.\n") if demo else ""
    card = f"""# Model card — {model_name}
{warning}
Gerado em {_dt.date.today().isoformat()} pelo pacote `llmdefinitions`.

## Uso pretendido
{intended_use}

## Modelo e abordagem
{approach}

## Dados
{data}

## Treinamento
{training_rows or "- (não informado)"}

## Métricas
| Métrica | Valor |
|---|---|
{metric_rows}

## Limitações
{limitations}

## Vieses, privacidade e riscos
{risks}
"""
    if path is not None:
        Path(path).write_text(card, encoding="utf-8")
    return card
