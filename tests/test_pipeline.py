"""Teste de integração: SMS reais -> atributos de um GPT-2 congelado -> floresta aleatória, de ponta a ponta."""

from __future__ import annotations

from llmdefinitions import extract_features
from tests.tiny_models import tiny_model


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
