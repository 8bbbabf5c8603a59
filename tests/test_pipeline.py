"""Dados -> lotes -> três abordagens -> treino -> avaliação, em modelos pequenos e no conjunto de dados real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from llmdefinitions import (
    GPTModel,
    SpamDataset,
    TrainableTail,
    calc_accuracy_loader,
    calc_loss_loader,
    classification_logits,
    classify_review,
    confusion_table,
    count_parameters,
    create_dataloaders,
    extract_features,
    frozen_outputs_loader,
    gpt2_config,
    misclassified,
    plot_values,
    precompute_frozen_outputs,
    predict,
    prepare_head_only,
    prepare_last_block,
    prepare_spam_splits,
    report,
    train_classifier_simple,
)
from llmdefinitions.model import tie_weights

TINY = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 3, "context_length": 256}


def tiny_model(seed=0, layers=3, **config):
    torch.manual_seed(seed)
    model = GPTModel({**TINY, "n_layers": layers, **config})
    with torch.no_grad():  # pesos maiores que o padrão: diferenças aparecem
        for p in model.parameters():
            p.mul_(3.0)
    return model.eval()


def synthetic_frame(n=48, seed=1):
    rng = np.random.default_rng(seed)
    words = ["free", "prize", "call", "now", "hi", "mum", "see", "you", "later", "win", "cash", "ok", "lunch"]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 30))) for _ in range(n)]
    return pd.DataFrame({"Text": texts, "Label": rng.integers(0, 2, size=n)})


@pytest.fixture(scope="module")
def real_splits(spam_zip, tmp_path_factory):
    return prepare_spam_splits(tmp_path_factory.mktemp("data"), url=spam_zip)


# ----------------------------------------------------------------------------- o token classificado

def test_dynamic_and_fixed_padding_give_same_predictions(tokenizer):
    frame = synthetic_frame()
    model = prepare_head_only(tiny_model())
    fixed = create_dataloaders(frame, frame, frame, tokenizer, padding="fixed")[2]
    dynamic = create_dataloaders(frame, frame, frame, tokenizer, padding="dynamic")[2]
    with torch.no_grad():
        logits_fixed = torch.cat([classification_logits(model, x) for x, _ in fixed])
        logits_dynamic = torch.cat([classification_logits(model, x) for x, _ in dynamic])
    torch.testing.assert_close(logits_fixed, logits_dynamic, atol=1e-5, rtol=1e-5)
    assert np.array_equal(predict(model, fixed, "cpu")[1], predict(model, dynamic, "cpu")[1])


def test_last_position_depends_on_padding(tokenizer):
    """A armadilha da aula: olhar a última posição lê um token de padding."""
    model = prepare_head_only(tiny_model())
    text = "win a free prize now"
    ids = tokenizer.encode(text)
    short = torch.tensor([ids + [50256] * 2])
    long = torch.tensor([ids + [50256] * 40])
    with torch.no_grad():
        same_real = classification_logits(model, short), classification_logits(model, long)
        diff_last = classification_logits(model, short, "last"), classification_logits(model, long, "last")
    torch.testing.assert_close(*same_real)
    assert (diff_last[0] - diff_last[1]).abs().max() > 1e-3


# ----------------------------------------------------------------------------- abordagens

def test_trainable_parameter_counts_gpt2_small():
    model = tie_weights(GPTModel(gpt2_config("gpt2-small (124M)")))
    assert count_parameters(model) == (124_439_808, 124_439_808)
    prepare_head_only(model)
    head_only = count_parameters(model)
    assert head_only.trainable == 768 * 2 + 2 == 1_538
    prepare_last_block(model)
    last_block = count_parameters(model)
    assert last_block.trainable == 1_538 + 7_087_872 + 1_536
    # A cabeça nova substitui a saída amarrada: o total cai para embeddings + blocos + norma + cabeça.
    assert last_block.total == 124_439_808 + 1_538
    assert round(last_block.fraction, 4) == 0.0570
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(n.startswith(("trf_blocks.11.", "final_norm.", "out_head.")) for n in names)


@pytest.mark.parametrize("n_trainable", [0, 1, 2])
def test_cached_tail_equals_full_forward(tokenizer, n_trainable):
    frame = synthetic_frame()
    model = prepare_last_block(tiny_model())
    data = SpamDataset(frame, tokenizer, pad=False)
    frozen = precompute_frozen_outputs(model, data, "cpu", n_trainable_blocks=n_trainable, batch_size=5)
    tail = TrainableTail(model, n_trainable)
    full_loader = create_dataloaders(frame, frame, frame, tokenizer, padding="fixed")[2]
    with torch.no_grad():
        expected = torch.cat([classification_logits(model, x) for x, _ in full_loader])
        got = torch.cat([classification_logits(tail, x) for x, _ in frozen_outputs_loader(frozen, batch_size=7)])
    assert (got - expected).abs().max().item() < 1e-5
    if n_trainable == 0:  # só o último token real é guardado
        assert all(h.shape[0] == 1 for h in frozen.hidden)


class WrappedLinear(torch.nn.Linear):
    """Um `nn.Linear` de outro tipo (como um adaptador): a cauda calcula K e V do jeito direto."""


@pytest.mark.parametrize("qkv_bias, wrapped", [(True, False), (False, False), (True, True)])
def test_tail_gradients_equal_full_model(tokenizer, qkv_bias, wrapped):
    """Treinar a cauda é treinar o modelo: mesma perda e mesmos gradientes em todo parâmetro
    treinável, embora a cauda nunca calcule K e V do último bloco (veja `last_block_at_last_token`)."""
    frame = synthetic_frame(n=12)
    model = prepare_last_block(tiny_model(qkv_bias=qkv_bias))
    if wrapped:
        att = model.trf_blocks[-1].att
        for name in ("W_key", "W_value"):
            layer = getattr(att, name)
            copy = WrappedLinear(layer.in_features, layer.out_features, bias=qkv_bias)
            copy.load_state_dict(layer.state_dict())
            setattr(att, name, copy)
    params = [p for p in model.parameters() if p.requires_grad]
    loaders = create_dataloaders(frame, frame, frame, tokenizer, batch_size=12, padding="fixed")
    full_inputs, labels = next(iter(loaders[2]))
    frozen = precompute_frozen_outputs(model, SpamDataset(frame, tokenizer, pad=False), "cpu")
    tail_inputs, tail_labels = next(iter(frozen_outputs_loader(frozen, batch_size=12)))
    assert tail_labels.tolist() == labels.tolist()
    losses, grads = [], []
    for module, inputs in ((model, full_inputs), (TrainableTail(model), tail_inputs)):
        loss = torch.nn.functional.cross_entropy(classification_logits(module, inputs), labels)
        losses.append(loss.item())
        grads.append(torch.autograd.grad(loss, params))
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    for param, full, tail in zip(params, *grads):
        torch.testing.assert_close(tail, full, atol=1e-5, rtol=1e-4)


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


def test_extract_features_matches_hidden_states(tokenizer):
    frame = synthetic_frame(n=10)
    model = tiny_model()
    X, y = extract_features(model, frame, "cpu", tokenizer=tokenizer, batch_size=3)
    assert X.shape == (10, 32) and X.dtype == np.float32 and y.tolist() == frame["Label"].tolist()
    ids = torch.tensor([tokenizer.encode(frame["Text"].iloc[4])])
    with torch.no_grad():
        hidden = model.hidden_states(ids)[0]
    np.testing.assert_allclose(X[4], hidden[-1].numpy(), atol=1e-5)
    X_mean, _ = extract_features(model, frame, "cpu", tokenizer=tokenizer, token_position="mean")
    np.testing.assert_allclose(X_mean[4], hidden.mean(0).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="token_position"):
        extract_features(model, frame, "cpu", tokenizer=tokenizer, token_position="max")


def test_random_forest_on_frozen_features(real_splits, tokenizer):
    from sklearn.ensemble import RandomForestClassifier

    train_df, _, test_df = real_splits
    model = tiny_model()
    X_train, y_train = extract_features(model, train_df, "cpu", tokenizer=tokenizer, token_position="mean")
    X_test, y_test = extract_features(model, test_df, "cpu", tokenizer=tokenizer, token_position="mean")
    assert X_train.shape == (1045, 32) and X_test.shape == (300, 32)
    clf = RandomForestClassifier(n_estimators=100, random_state=123).fit(X_train, y_train)
    # Mesmo com pesos aleatórios há sinal (vocabulário das mensagens): bem acima dos 50% do acaso.
    assert clf.score(X_test, y_test) > 0.75


# ----------------------------------------------------------------------------- usar o modelo

def test_classify_review_handles_long_empty_and_padding(tokenizer):
    model = prepare_head_only(tiny_model())
    long_text = "free prize " * 400  # ~800 tokens > contexto de 256
    assert classify_review(long_text, model, tokenizer, "cpu") in ("spam", "not spam")
    assert classify_review(long_text, model, tokenizer, "cpu", max_length=5000) in ("spam", "not spam")
    with pytest.raises(ValueError, match="vazio"):
        classify_review("   ", model, tokenizer, "cpu")
    text = "call now to claim"
    assert classify_review(text, model, tokenizer, "cpu") == classify_review(text, model, tokenizer, "cpu",
                                                                             max_length=120)


def test_plot_values_has_portuguese_labels():
    fig = plot_values([0, 1, 2], [0, 8, 16], [0.9, 0.5, 0.3], [1.0, 0.6, 0.4], label="loss", show=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Épocas" and fig.axes[1].get_xlabel() == "Exemplos vistos"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Perda no treino", "Perda na validação"]
