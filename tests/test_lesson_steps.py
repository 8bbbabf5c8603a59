"""Cada notebook mostra, como código, os passos da aula que ensina (não só os resultados).

Para cada notebook, a lista diz o que tem de aparecer no código das células (texto exato,
procurado nas células de código) e na prosa (células markdown). Um passo que some de um
notebook faz este teste falhar, mesmo que o notebook ainda rode.
"""

from __future__ import annotations

import pytest

from tests.test_notebooks import NOTEBOOKS, _read

# notebook -> trechos que precisam estar no CÓDIGO das células
CODE_STEPS: dict[str, list[str]] = {
    "01_dados": [
        "show_source(download_and_unzip_spam_data)", "course_data_file(DATA_DIR)", "show_source(load_sms_spam)",
        'pd.read_csv(data_file, sep="\\t", header=None', "show_source(create_balanced_dataset)",
        "create_balanced_dataset(df, random_state=123)", '["Label"].map(LABELS)', "show_source(random_split)",
        "random_split(balanced_df, train_frac=0.7, validation_frac=0.1)", "drop_duplicate_messages(df)",
        ".to_csv(caminho, index=None)", 'tokenizer.encode("<|endoftext|>", allowed_special={"<|endoftext|>"})',
        "show_source(SpamDataset)", "SpamDataset(val_df, tokenizer, max_length=train_dataset.max_length)",
        "show_source(create_dataloaders)", "show_source(pad_batch)", 'padding="dynamic"',
        "deduplicar = False", "max_length = 1024",
    ],
    "02_gpt2_pretreinado": [
        "BASE_CONFIG.update(model_configs[CHOOSE_MODEL])", 'with torch.device("meta")',
        'model_size = CHOOSE_MODEL.split(" ")[-1].lstrip("(").rstrip(")")', "show_source(download_and_load_gpt2)",
        "show_source(load_weights_into_gpt)", "show_source(weights._block_params)",
        "download_and_load_gpt2(model_size=model_size, models_dir=MODELS_DIR)", "model = GPTModel(BASE_CONFIG)",
        "load_weights_into_gpt(model, params)", "model.eval();", "load_course_model(CHOOSE_MODEL)",
        "show_source(GPTModel)", "show_source(TransformerBlock)", "show_source(MultiHeadAttention)",
        'text_to_token_ids("Do you have time", tokenizer)', "torch.triu(", "masked_fill(futuro",
        "torch.softmax(notas, dim=-1)", "torch.allclose(att.out_proj(contexto), att(x)",
        "show_source(generate_text_simple)", 'text_1 = "Every effort moves you"',
        "Is the following text 'spam'? Answer with 'yes' or 'no':", "max_new_tokens=23",
        "Acurácia zero-shot", "OUTRO_MODELO = None",
    ],
    "03_abordagem1_embeddings": [
        "show_source(GPTModel.hidden_states)", "show_source(extract_features)", "show_source(features._pool)",
        'extract_features(model, train_dataset, device, pooling="last")', "RandomForestClassifier(random_state=123",
        "clf.score(X_test, y_test)", 'pooling="mean"', "LogisticRegression(", "max_length=posicao + 1",
        "n_arvores = 5", "fracao = 0.05", "TfidfVectorizer()",
    ],
    "04_abordagem2_cabeca": [],
    "05_abordagem3_ultimo_bloco": [],
    "06_comparacao": [],
}

# notebook -> trechos que precisam estar na PROSA (markdown)
PROSE_STEPS: dict[str, list[str]] = {
    "01_dados": [
        "**Tempo estimado:**", "publicada em 2011", "Raschka", "### Experimente", "## Autoavaliação",
        "<details><summary>Resposta</summary>", "a si mesmo e os tokens anteriores",
    ],
    "02_gpt2_pretreinado": [
        "**Tempo estimado:**", "548 MB", "A máscara causal à vista", "Raschka, cap. 6", "### Experimente",
        "## Autoavaliação", "<details><summary>Resposta</summary>",
    ],
    "03_abordagem1_embeddings": [
        "**Tempo estimado:**", "### Experimente", "## Autoavaliação", "<details><summary>Resposta</summary>",
        "cada token só enxerga a si mesmo e os anteriores",
    ],
    "04_abordagem2_cabeca": [],
    "05_abordagem3_ultimo_bloco": [],
    "06_comparacao": [],
}


def _sources(name: str, cell_type: str) -> str:
    return "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == cell_type)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lesson_code_is_visible(name):
    code = _sources(name, "code")
    missing = [step for step in CODE_STEPS.get(name, []) if step not in code]
    assert not missing, f"{name}: passos da aula ausentes do código: {missing}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lesson_prose_is_present(name):
    prose = _sources(name, "markdown")
    missing = [step for step in PROSE_STEPS.get(name, []) if step not in prose]
    assert not missing, f"{name}: trechos ausentes da prosa: {missing}"
