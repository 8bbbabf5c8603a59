"""Usando e avaliando o classificador: previsões, matriz de confusão e erros."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .classifier import classification_logits
from .data import CLASS_NAMES
from .tokenizer import PAD_TOKEN_ID

__all__ = ["classify_review", "predict", "confusion_table", "report", "misclassified"]

# Os rótulos em português das classes 0 e 1 nas tabelas do curso (matriz de confusão, relatório,
# lista de erros). `classify_review` devolve os nomes da aula, em inglês: `data.CLASS_NAMES`.
CLASS_LABELS_PT = ("não spam", "spam")


@torch.inference_mode()
def classify_review(text, model, tokenizer, device, max_length=None, pad_token_id=PAD_TOKEN_ID,
                    token_position: str = "last_real") -> str:
    """Classifica um texto: devolve `"spam"` ou `"not spam"` (os nomes da aula, em inglês;
    `"not spam"` é a classe 0, "não spam" nas tabelas do curso).

    `max_length` (por exemplo, o do dataset de treino) trunca o texto e o completa com
    padding, como no treino; `None` usa o texto inteiro (até o contexto do modelo).

    Ensinado no Notebook 5, §5.7.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("O texto a classificar está vazio.")
    model.eval()
    ids = tokenizer.encode(text, disallowed_special=())
    limit = min(max_length or len(ids), model.pos_emb.num_embeddings)  # nunca além do contexto do modelo
    ids = ids[:limit] + [pad_token_id] * (limit - len(ids[:limit]))  # trunca textos longos; completa os curtos
    input_tensor = torch.tensor([ids], device=device)
    logits = classification_logits(model, input_tensor, token_position, pad_token_id)
    return CLASS_NAMES[logits.argmax(dim=-1).item()]


@torch.inference_mode()
def predict(model, data_loader, device, token_position: str = "last_real"):
    """Rótulos verdadeiros e previstos de todos os lotes, como arrays NumPy. Ensinado no Notebook 5, §5.6."""
    model.eval()
    y_true, y_pred = [], []
    for input_batch, target_batch in data_loader:
        logits = classification_logits(model, input_batch.to(device), token_position)
        y_pred.append(logits.argmax(dim=-1).cpu())
        y_true.append(target_batch)
    return torch.cat(y_true).numpy(), torch.cat(y_pred).numpy()


def confusion_table(y_true, y_pred) -> pd.DataFrame:
    """Matriz de confusão com rótulos em português (linhas: real; colunas: previsto). Ensinado no Notebook 5, §5.6."""
    from sklearn.metrics import confusion_matrix  # importado aqui: o scikit-learn demora a carregar

    matrix = confusion_matrix(y_true, y_pred, labels=[0, 1])
    return pd.DataFrame(
        matrix,
        index=[f"real: {name}" for name in CLASS_LABELS_PT],
        columns=[f"previsto: {name}" for name in CLASS_LABELS_PT],
    )


def report(y_true, y_pred) -> str:
    """Precisão, revocação e F1 por classe, em português (as contas são as do
    `classification_report` do scikit-learn; os números saem com vírgula decimal).

    Ensinado no Notebook 5, §5.6.
    """
    from sklearn.metrics import classification_report

    from .uncertainty import format_pt

    scores = classification_report(y_true, y_pred, labels=[0, 1], target_names=list(CLASS_LABELS_PT),
                                   output_dict=True, zero_division=0)
    rows = {**{name: scores[name] for name in CLASS_LABELS_PT}, "média das classes": scores["macro avg"]}
    table = pd.DataFrame({
        "precisão": [row["precision"] for row in rows.values()],
        "revocação": [row["recall"] for row in rows.values()],
        "F1": [row["f1-score"] for row in rows.values()],
        "mensagens": [int(row["support"]) for row in rows.values()],
    }, index=list(rows), dtype=object)
    accuracy = np.mean(np.asarray(y_true) == np.asarray(y_pred))
    return (format_pt(table, 3).to_string()
            + f"\n\nacurácia: {format_pt(accuracy, 3)} ({format_pt(len(y_true))} mensagens)")


def misclassified(df: pd.DataFrame, y_pred) -> pd.DataFrame:
    """As linhas de `df` (colunas Text, Label) em que o modelo errou, com a previsão. Ensinado no Notebook 5, §5.6."""
    y_pred = np.asarray(y_pred)
    if len(df) != len(y_pred):
        raise ValueError(f"df tem {len(df)} linhas, mas há {len(y_pred)} previsões.")
    names = np.array(CLASS_LABELS_PT)
    table = pd.DataFrame({
        "Texto": df["Text"].to_numpy(),
        "Real": names[df["Label"].to_numpy().astype(int)],
        "Previsto": names[y_pred.astype(int)],
    })
    return table[table["Real"] != table["Previsto"]]
