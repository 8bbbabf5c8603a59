"""Um *model card* (Mitchell et al., 2019) em Markdown para o classificador treinado.

Documentar dados, abordagem, métricas, limitações e riscos torna o modelo auditável: é a
parte de "responsabilidade e transparência" da ética do fine-tuning.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

__all__ = ["write_model_card"]

DEFAULT_DATA = (
    "SMS Spam Collection v.1 (Almeida, Hidalgo e Yamakami, 2011): 5.574 SMS em inglês, "
    "4.827 legítimos e 747 spam, coletados no Reino Unido e em Singapura por volta de 2010. "
    "Balanceado por subamostragem (747 + 747) e dividido em 70% / 10% / 20%."
)
DEFAULT_LIMITATIONS = (
    "Só inglês, e SMS de mais de uma década atrás: golpes atuais (PIX, links encurtados, "
    "WhatsApp) e outras línguas não estão representados.",
    "O conjunto balanceado (50% spam) não reflete a proporção real; em produção a precisão "
    "para spam tende a ser menor do que a medida aqui.",
    "O teste tem poucas centenas de mensagens: diferenças de 1 a 2 pontos de acurácia não são significativas.",
)
DEFAULT_RISKS = (
    "Mensagens legítimas de pequenos comércios, de pessoas que escrevem com abreviações ou "
    "em variantes do inglês podem ser marcadas como spam com mais frequência: meça o erro por grupo.",
    "SMS são dados pessoais (LGPD): não use mensagens reais de terceiros sem base legal e anonimização.",
    "Um falso positivo pode esconder uma mensagem importante: mantenha uma pasta de spam revisável.",
)


def _bullets(items) -> str:
    return "\n".join(f"- {item}" for item in items)


def write_model_card(path=None, *, model_name: str, approach: str, metrics: dict,
                     training: dict | None = None, data: str = DEFAULT_DATA,
                     limitations=DEFAULT_LIMITATIONS, risks=DEFAULT_RISKS,
                     intended_use: str = "Material didático: classificar SMS em inglês como spam ou não spam.",
                     demo: bool = False) -> str:
    """Monta o model card; se `path` for dado, também grava o arquivo. Devolve o Markdown."""
    metric_rows = "\n".join(f"| {name} | {value:.2%} |" for name, value in metrics.items())
    training_rows = "\n".join(f"- **{k}**: {v}" for k, v in (training or {}).items())
    warning = (
        "\n> **ATENÇÃO — modo de demonstração:** modelo de pesos aleatórios; as métricas abaixo "
        "não representam o classificador real.\n" if demo else ""
    )
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
{_bullets(limitations)}

## Vieses, privacidade e riscos
{_bullets(risks)}
"""
    if path is not None:
        Path(path).write_text(card, encoding="utf-8")
    return card
