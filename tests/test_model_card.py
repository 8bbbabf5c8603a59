"""`model_card`: o model card documenta a execução e os dados realmente usados."""

from __future__ import annotations

from llmdefinitions import describe_data, write_model_card


def test_model_card_documents_run(tmp_path):
    card = write_model_card(tmp_path / "card.md", model_name="GPT-2 small spam", approach="Abordagem 3",
                            metrics={"Acurácia no teste": 0.9567}, training={"Épocas": 5})
    assert (tmp_path / "card.md").read_text(encoding="utf-8") == card
    for section in ("Uso pretendido", "Dados", "Métricas", "Limitações", "Vieses", "95,67%", "Épocas"):
        assert section in card
    assert "modo de demonstração" not in card
    assert "modo de demonstração" in write_model_card(model_name="x", approach="y", metrics={}, demo=True)


def test_model_card_data_section_follows_the_data():
    import pandas as pd

    def frame(ham, spam):
        return pd.DataFrame({"Text": ["t"] * (ham + spam), "Label": [0] * ham + [1] * spam})

    real = describe_data(frame(520, 525), frame(76, 73), frame(151, 149), sample=False)
    assert "Gómez Hidalgo" in real and "da UCI" in real
    assert "747 legítimos + 747 spam = 1.494 mensagens" in real
    assert "1.045 (treino) / 149 (validação) / 300 (teste)" in real
    sample = describe_data(frame(56, 56), frame(8, 8), frame(16, 16), sample=True)
    assert "amostra do curso" in sample.lower() and "NÃO é a SMS Spam Collection" in sample
    assert "80 legítimos + 80 spam = 160 mensagens" in sample and "5.574" not in sample.split("NÃO")[1]
