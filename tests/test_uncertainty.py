"""Intervalo de Wilson: valores conhecidos, conferência com o SciPy e o texto em português."""

from __future__ import annotations

import pytest

from llmdefinitions.uncertainty import format_accuracy_with_interval, wilson_interval


def test_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    # Mais exemplos, intervalo mais estreito em torno da mesma acurácia.
    small, large = wilson_interval(8, 10), wilson_interval(800, 1000)
    assert large[1] - large[0] < (small[1] - small[0]) / 5


@pytest.mark.parametrize("successes, n, confidence", [(8, 10, 0.95), (72, 78, 0.95), (3, 40, 0.9), (149, 150, 0.99)])
def test_matches_scipy(successes, n, confidence):
    scipy_stats = pytest.importorskip("scipy.stats")
    expected = scipy_stats.binomtest(successes, n).proportion_ci(confidence, method="wilson")
    assert wilson_interval(successes, n, confidence) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_format_in_portuguese():
    assert format_accuracy_with_interval(72 / 78, 78) == "92,3% (IC 95%: 84,2%–96,4%, n=78)"
    assert format_accuracy_with_interval(0.8, 10, confidence=0.9) == "80,0% (IC 90%: 54,1%–93,1%, n=10)"


def test_bad_inputs():
    with pytest.raises(ValueError, match="inteiro positivo"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="entre 0 e n=10"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(5, 10, confidence=95)
    with pytest.raises(ValueError, match="fração entre 0 e 1"):
        format_accuracy_with_interval(92.3, 78)
    with pytest.raises(ValueError, match="número inteiro de acertos"):
        format_accuracy_with_interval(0.5, 7)


def test_format_pt_writes_numbers_in_portuguese():
    import numpy as np
    import pandas as pd

    from llmdefinitions import format_pt

    assert format_pt(124_439_808) == "124.439.808"
    assert format_pt(np.int64(1234)) == "1.234"
    assert format_pt(0.9567, 2, percent=True) == "95,67%"
    assert format_pt(1234.56, 1) == "1.234,6"
    assert format_pt(float("nan")) == "—" and format_pt(None) == "—" and format_pt("x") == "x"
    table = format_pt(pd.DataFrame({"acc": [0.5, 0.25], "n": [1000, 2]}), 1)
    assert table["acc"].tolist() == ["0,5", "0,2"] and table["n"].tolist() == ["1.000", "2"]
    with pytest.raises(TypeError, match="formata números"):
        format_pt(True)
    assert format_pt(4.77e-7, 2, scientific=True) == "4,77e-07"
