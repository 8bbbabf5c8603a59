"""A barra de progresso do curso (treino e download), escolhida num só lugar.

No JupyterLab e no Colab, com `ipywidgets` instalado, a barra é um widget. Sem widgets (terminal,
testes, um kernel sem `ipywidgets`), é uma linha de texto, sem aviso: o `tqdm.auto` avisaria
"IProgress not found" com o caminho da instalação, o que só assusta o aluno.
"""

from __future__ import annotations

import warnings

from tqdm import TqdmWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)  # sem widgets: cai no texto em silêncio
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
