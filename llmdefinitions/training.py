"""Perda, acurácia e o laço de treino do classificador."""

from __future__ import annotations

import io

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from .classifier import classification_logits
from .course import demo_tag
from .features import eval_mode
from .progress import tqdm

__all__ = [
    "calc_loss_batch",
    "calc_loss_loader",
    "calc_accuracy_loader",
    "evaluate_model",
    "train_classifier_simple",
    "plot_values",
]


def calc_loss_batch(input_batch, target_batch, model, device, token_position: str = "last_real"):
    """Entropia cruzada de um lote (o que o otimizador minimiza). Ensinado no Notebook 4, §4.4."""
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = classification_logits(model, input_batch, token_position)
    return F.cross_entropy(logits, target_batch)


@torch.no_grad()
def calc_loss_loader(data_loader, model, device, num_batches=None, token_position: str = "last_real"):
    """Perda média nos primeiros `num_batches` lotes (todos, se `None`). Ensinado no Notebook 4, §4.4."""
    num_batches = len(data_loader) if num_batches is None else min(num_batches, len(data_loader))
    if num_batches == 0:
        return float("nan")
    total = 0.0
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total += calc_loss_batch(input_batch, target_batch, model, device, token_position).item()
    return total / num_batches


@torch.no_grad()
def calc_accuracy_loader(data_loader, model, device, num_batches=None, token_position: str = "last_real"):
    """Fração de acertos nos primeiros `num_batches` lotes (todos, se `None`). Ensinado no Notebook 4, §4.4."""
    num_batches = len(data_loader) if num_batches is None else min(num_batches, len(data_loader))
    correct, seen = 0, 0
    with eval_mode(model):
        for i, (input_batch, target_batch) in enumerate(data_loader):
            if i >= num_batches:
                break
            logits = classification_logits(model, input_batch.to(device), token_position)
            correct += (logits.argmax(dim=-1) == target_batch.to(device)).sum().item()
            seen += len(target_batch)
    return correct / seen if seen else float("nan")


def evaluate_model(model, train_loader, val_loader, device, eval_iter, token_position: str = "last_real"):
    """Perdas de treino e validação estimadas em `eval_iter` lotes, em modo de avaliação.

    Ensinado no Notebook 4, §4.5.
    """
    model.eval()
    train_loss = calc_loss_loader(train_loader, model, device, eval_iter, token_position)
    val_loss = calc_loss_loader(val_loader, model, device, eval_iter, token_position)
    model.train()
    return train_loss, val_loss


def train_classifier_simple(model, train_loader, val_loader, optimizer, device, num_epochs,
                            eval_freq, eval_iter, tokenizer=None, token_position: str = "last_real",
                            progress: bool = True):
    """Treina o classificador e registra as curvas de aprendizado.

    A cada `eval_freq` passos estima as perdas em `eval_iter` lotes; no fim de cada época,
    a acurácia em `eval_iter` lotes. Devolve
    `(train_losses, val_losses, train_accs, val_accs, examples_seen)`.
    (`tokenizer` é aceito para manter a assinatura da aula; não é usado.)

    Ensinado no Notebook 4, §4.5 e no Notebook 5, §5.4.
    """
    train_losses, val_losses, train_accs, val_accs = [], [], [], []
    examples_seen, step = 0, -1
    bar = tqdm(total=num_epochs * len(train_loader), desc="Treino", disable=not progress)
    for epoch in range(num_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(input_batch, target_batch, model, device, token_position)
            loss.backward()
            optimizer.step()
            examples_seen += len(target_batch)
            step += 1
            bar.update(1)
            if step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iter,
                                                      token_position)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                bar.write(f"Ep {epoch + 1} (Step {step:06d}): Train loss {train_loss:.3f}, "
                          f"Val loss {val_loss:.3f}{demo_tag()}")
        train_acc = calc_accuracy_loader(train_loader, model, device, eval_iter, token_position)
        val_acc = calc_accuracy_loader(val_loader, model, device, eval_iter, token_position)
        train_accs.append(train_acc)
        val_accs.append(val_acc)
        bar.write(f"Training accuracy: {train_acc * 100:.2f}% | "
                  f"Validation accuracy: {val_acc * 100:.2f}%{demo_tag()}")
    bar.close()
    return train_losses, val_losses, train_accs, val_accs, examples_seen


_LABELS_PT = {"loss": "Perda", "accuracy": "Acurácia"}


def show_figure(fig) -> bool:
    """Mostra a figura como imagem PNG se estivermos num notebook; diz se mostrou. Notebook 4, §4.6."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    display(Image(buffer.getvalue()))
    return True


def plot_values(epochs_seen, examples_seen, train_values, val_values, label: str = "loss",
                title: str = "", show: bool = True):
    """Curvas de treino e validação; eixo de baixo em épocas, o de cima em exemplos vistos.

    Num notebook, a figura aparece na hora (não precisa de `%matplotlib inline`). Fora dele,
    ou com `show=False`, devolve a `Figure` do matplotlib (salve com `fig.savefig(...)`).

    Ensinado no Notebook 4, §4.6.
    """
    name = _LABELS_PT.get(label, label)
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(epochs_seen, train_values, label=f"{name} no treino")
    ax.plot(epochs_seen, val_values, linestyle="--", label=f"{name} na validação")
    ax.set_xlabel("Épocas")
    ax.set_ylabel(name)
    ax.legend()
    top = ax.twiny()  # segundo eixo x, alinhado ao primeiro
    top.plot(examples_seen, train_values, alpha=0)
    top.set_xlabel("Exemplos vistos")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if show and show_figure(fig):
        return None
    return fig
