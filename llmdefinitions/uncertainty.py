"""Quanto confiar numa acurácia medida em poucos exemplos (o intervalo de Wilson), e como
escrever os números em português (`format_pt`: vírgula decimal, ponto de milhar).

Uma acurácia de 80% em 10 mensagens e 80% em 1.000 mensagens não dizem a mesma coisa.
Cada mensagem de teste é um "acerto ou erro"; com `n` mensagens, a acurácia medida varia
de amostra para amostra. O intervalo de confiança de Wilson (Wilson, 1927) dá a faixa de
acurácias verdadeiras compatíveis com o que medimos. Diferente do intervalo "p ± 1,96 x
erro padrão", ele nunca sai de [0, 1] e continua razoável com n pequeno ou p perto de 0 ou 1.

    centro = (p + z²/2n) / (1 + z²/n)
    meia largura = z / (1 + z²/n) x sqrt(p(1 - p)/n + z²/4n²)

onde p = acertos / n e z é o quantil da normal (1,96 para 95%).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from statistics import NormalDist

__all__ = ["wilson_interval", "format_accuracy_with_interval", "format_pt"]


def format_pt(value, decimals: int = 1, percent: bool = False, scientific: bool = False):
    """Um número escrito em português: vírgula decimal e ponto de milhar.

    `format_pt(124439808)` -> `"124.439.808"`; `format_pt(0.9567, 2, percent=True)` ->
    `"95,67%"`; `format_pt(3.14159, 2)` -> `"3,14"`; `format_pt(4.7e-07, 1, scientific=True)` ->
    `"4,7e-07"`. Inteiros saem sem casas decimais (a menos que `percent`); `None` e NaN saem
    como `"—"`; textos passam sem mudança; um tensor de um elemento vira o seu número. Com uma
    `Series` ou um `DataFrame` do pandas, formata cada valor (para mostrar tabelas).

    Ensinado no Notebook 1, §1.3.
    """
    if hasattr(value, "columns"):  # DataFrame: coluna a coluna
        return value.apply(lambda column: column.map(lambda v: format_pt(v, decimals, percent, scientific)))
    if hasattr(value, "map") and hasattr(value, "index"):  # Series
        return value.map(lambda v: format_pt(v, decimals, percent, scientific))
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    if hasattr(value, "item") and not isinstance(value, Real):  # tensor de um elemento
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"format_pt formata números, mas recebeu {type(value).__name__}: {value!r}.")
    if math.isnan(value):
        return "—"
    if percent:
        value = 100 * value
    if scientific:
        text = f"{value:.{decimals}e}"
    elif isinstance(value, Integral):
        text = f"{int(value):,}"
    else:
        text = f"{value:,.{decimals}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")  # 1,234.5 -> 1.234,5
    return text + ("%" if percent else "")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Intervalo de Wilson `(mínimo, máximo)` para a proporção `successes / n`.

    Ex.: 8 acertos em 10 -> (0,490; 0,943): com tão poucos exemplos, a acurácia verdadeira
    pode estar em qualquer lugar entre 49% e 94%.

    Ensinado no Notebook 7, §7.2.
    """
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"n (número de exemplos) deve ser um inteiro positivo, mas é {n!r}.")
    if isinstance(successes, bool) or int(successes) != successes or not 0 <= successes <= n:
        raise ValueError(f"successes (acertos) deve ser um inteiro entre 0 e n={n}, mas é {successes!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence deve estar entre 0 e 1 (ex.: 0.95), mas é {confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)  # 0.95 -> 1,96
    p = successes / n
    denominator = 1 + z**2 / n
    center = (p + z**2 / (2 * n)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = 0.0 if successes == 0 else center - half_width  # nas pontas a conta dá 0 e 1 exatos,
    high = 1.0 if successes == n else center + half_width  # a menos de arredondamento
    return low, high


def format_accuracy_with_interval(accuracy: float, n: int, confidence: float = 0.95, decimals: int = 1) -> str:
    """Acurácia com o intervalo de Wilson, em português: `"92,3% (IC 95%: 84,2%–96,4%, n=78)"`.

    `accuracy` é a fração de acertos (entre 0 e 1) medida em `n` exemplos; os acertos são
    `accuracy x n`, que precisa dar (quase) um número inteiro.

    Ensinado no Notebook 7, §7.2.
    """
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy deve ser uma fração entre 0 e 1 (ex.: 0.923), mas é {accuracy!r}.")
    successes = round(accuracy * n)
    if abs(successes - accuracy * n) > 1e-6 * max(1, n):
        raise ValueError(
            f"accuracy={accuracy!r} com n={n} não corresponde a um número inteiro de acertos "
            f"({accuracy * n:.3f}): confira se n é o número de exemplos avaliados."
        )
    low, high = wilson_interval(successes, n, confidence)
    level = f"{100 * confidence:g}".replace(".", ",")
    return (f"{format_pt(accuracy, decimals, percent=True)} (IC {level}%: {format_pt(low, decimals, percent=True)}–"
            f"{format_pt(high, decimals, percent=True)}, n={format_pt(n)})")
