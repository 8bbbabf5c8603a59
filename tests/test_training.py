"""Testes de llmdefinitions.training: o laço de treino (com e sem a cauda em cache) e o gráfico das curvas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from llmdefinitions import (
    TrainableTail,
    calc_accuracy_loader,
    calc_loss_loader,
    classify_review,
    confusion_table,
    create_dataloaders,
    frozen_outputs_loader,
    misclassified,
    plot_values,
    precompute_frozen_outputs,
    predict,
    prepare_head_only,
    prepare_last_block,
    report,
    train_classifier_simple,
)
from tests.tiny_models import synthetic_frame, tiny_model


def test_short_training_gives_same_losses_cached_or_not(tokenizer):
    frame = synthetic_frame(n=64)
    runs = {}
    for name in ("naive", "cached"):
        model = prepare_last_block(tiny_model(seed=3))
        train_loader, val_loader, _ = create_dataloaders(frame, frame.iloc[:16], frame, tokenizer, batch_size=8)
        if name == "cached":
            train_set, val_set = train_loader.dataset, val_loader.dataset
            train_loader = frozen_outputs_loader(precompute_frozen_outputs(model, train_set, "cpu"), 8, shuffle=True,
                                                 drop_last=True)
            val_loader = frozen_outputs_loader(precompute_frozen_outputs(model, val_set, "cpu"), 8)
            trained = TrainableTail(model)
        else:
            trained = model
        torch.manual_seed(0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
        runs[name] = train_classifier_simple(trained, train_loader, val_loader, optimizer, "cpu",
                                             num_epochs=2, eval_freq=3, eval_iter=2, progress=False)
    naive, cached = runs["naive"], runs["cached"]
    assert len(naive[0]) == len(cached[0]) == 6  # 16 passos, avaliação a cada 3
    np.testing.assert_allclose(naive[0], cached[0], atol=1e-5)
    np.testing.assert_allclose(naive[1], cached[1], atol=1e-5)
    assert naive[2:] == cached[2:]
    assert naive[4] == 2 * 64


def test_training_learns_a_separable_task(tokenizer):
    frame = pd.DataFrame({
        "Text": [f"WIN cash prize {i} call now" for i in range(40)] + [f"see you at lunch {i} ok" for i in range(40)],
        "Label": [1] * 40 + [0] * 40,
    }).sample(frac=1, random_state=0)
    model = prepare_head_only(tiny_model())
    train_loader, val_loader, test_loader = create_dataloaders(frame, frame, frame, tokenizer, padding="dynamic")
    frozen = precompute_frozen_outputs(model, train_loader.dataset, "cpu", n_trainable_blocks=0)
    loader = frozen_outputs_loader(frozen, 8, shuffle=True, drop_last=True)
    before = calc_loss_loader(test_loader, model, "cpu")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-2)
    losses, *_ = train_classifier_simple(TrainableTail(model, 0), loader, loader, optimizer, "cpu", 10, 10, 2,
                                         progress=False)
    assert calc_loss_loader(test_loader, model, "cpu") < before
    assert calc_accuracy_loader(test_loader, model, "cpu") == 1.0
    y_true, y_pred = predict(model, test_loader, "cpu")
    table = confusion_table(y_true, y_pred)
    assert table.to_numpy().tolist() == [[40, 0], [0, 40]]
    assert "spam" in report(y_true, y_pred)
    assert misclassified(frame, y_pred).empty
    assert classify_review("WIN cash prize 7 call now", model, tokenizer, "cpu") == "spam"
    assert classify_review("see you at lunch 3 ok", model, tokenizer, "cpu", max_length=30) == "not spam"


def test_plot_values_has_portuguese_labels():
    fig = plot_values([0, 1, 2], [0, 8, 16], [0.9, 0.5, 0.3], [1.0, 0.6, 0.4], label="loss", show=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Épocas" and fig.axes[1].get_xlabel() == "Exemplos vistos"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Perda no treino", "Perda na validação"]
