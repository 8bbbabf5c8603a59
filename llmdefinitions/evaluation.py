"""Usando e avaliando o classificador: previsões, matriz de confusão e erros."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from .classifier import classification_logits
from .tokenizer import PAD_TOKEN_ID

__all__ = ["CLASS_NAMES_PT", "classify_review", "predict", "confusion_table", "report", "misclassified"]

CLASS_NAMES_PT = ("não spam", "spam")


def _encode_for_model(text: str, tokenizer, context_length: int, max_length, pad_token_id: int) -> list[int]:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("O texto a classificar está vazio.")
    ids = tokenizer.encode(text, disallowed_special=())
    limit = min(max_length or len(ids), context_length)
    ids = ids[:limit]  # textos longos demais são truncados
    return ids + [pad_token_id] * (limit - len(ids))


@torch.inference_mode()
def classify_review(text, model, tokenizer, device, max_length=None, pad_token_id=PAD_TOKEN_ID,
                    token_position: str = "last_real") -> str:
    """Classifica um texto: devolve `"spam"` ou `"not spam"`.

    `max_length` (por exemplo, o do dataset de treino) trunca o texto e o completa com
    padding, como no treino; `None` usa o texto inteiro (até o contexto do modelo).
    """
    model.eval()
    context_length = model.pos_emb.num_embeddings
    ids = _encode_for_model(text, tokenizer, context_length, max_length, pad_token_id)
    input_tensor = torch.tensor([ids], device=device)
    logits = classification_logits(model, input_tensor, token_position, pad_token_id)
    return "spam" if logits.argmax(dim=-1).item() == 1 else "not spam"


@torch.inference_mode()
def predict(model, data_loader, device, token_position: str = "last_real"):
    """Rótulos verdadeiros e previstos de todos os lotes, como arrays NumPy."""
    model.eval()
    y_true, y_pred = [], []
    for input_batch, target_batch in data_loader:
        logits = classification_logits(model, input_batch.to(device), token_position)
        y_pred.append(logits.argmax(dim=-1).cpu())
        y_true.append(target_batch)
    return torch.cat(y_true).numpy(), torch.cat(y_pred).numpy()


def confusion_table(y_true, y_pred) -> pd.DataFrame:
    """Matriz de confusão com rótulos em português (linhas: real; colunas: previsto)."""
    from sklearn.metrics import confusion_matrix  # importado aqui: o scikit-learn demora a carregar

    matrix = confusion_matrix(y_true, y_pred, labels=[0, 1])
    return pd.DataFrame(
        matrix,
        index=[f"real: {name}" for name in CLASS_NAMES_PT],
        columns=[f"previsto: {name}" for name in CLASS_NAMES_PT],
    )


def report(y_true, y_pred) -> str:
    """Precisão, revocação e F1 por classe (`classification_report` do scikit-learn)."""
    from sklearn.metrics import classification_report

    return classification_report(y_true, y_pred, labels=[0, 1], target_names=list(CLASS_NAMES_PT),
                                 digits=3, zero_division=0)


def misclassified(df: pd.DataFrame, y_pred) -> pd.DataFrame:
    """As linhas de `df` (colunas Text, Label) em que o modelo errou, com a previsão."""
    y_pred = np.asarray(y_pred)
    if len(df) != len(y_pred):
        raise ValueError(f"df tem {len(df)} linhas, mas há {len(y_pred)} previsões.")
    names = np.array(CLASS_NAMES_PT)
    table = pd.DataFrame({
        "Texto": df["Text"].to_numpy(),
        "Real": names[df["Label"].to_numpy().astype(int)],
        "Previsto": names[y_pred.astype(int)],
    })
    return table[table["Real"] != table["Previsto"]]
