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
        "random_split(balanced_df, train_frac=0.7, val_frac=0.1)", "drop_duplicate_messages(df)",
        ".to_csv(caminho, index=None)", 'tokenizer.encode("<|endoftext|>", allowed_special={"<|endoftext|>"})',
        "show_source(SpamDataset)", "SpamDataset(val_df, tokenizer, max_length=train_dataset.max_length)",
        "show_source(create_dataloaders)", "show_source(pad_batch)", 'padding="dynamic"',
        "deduplicar = False", "max_length = 1024",
        # auxiliares internas e funções chamadas: mostradas antes do uso
        "show_source(download.download_first_available)", "show_source(download.download_file)",
        "show_source(download.extract_verified)", "show_source(course_data_file)", "show_source(demo_tag)",
        "download.sha256_of_file(data_file)", "show_source(dataset._check_texts)",
        "show_source(format_pt)", "show_source(count_duplicate_messages)", "show_source(drop_duplicate_messages)",
        "show_source(count_shared_messages)", "show_source(encode_labels)", "show_source(prepare_course_data)",
        "show_source(split_spam_frame)", "show_source(data.save_splits)", "show_source(get_tokenizer)",
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
        "show_source(get_device)", "show_source(download.offline_reason)", "show_source(download.hub_download)",
        "show_source(weights.read_checkpoint)", "show_source(download.download_from_hub)",
        "show_source(weights._to_model_names)", "show_source(demo_forced)", "show_source(config_from_settings)",
        "show_source(count_parameters)", "show_source(generate)", "show_source(text_to_token_ids)",
        "show_source(token_ids_to_text)",
        "text_2_aula = text_2 + \" Answer with 'yes' or 'no'.\"",
    ],
    "03_abordagem1_embeddings": [
        "show_source(GPTModel.hidden_states)", "show_source(extract_features)", "show_source(same_length_groups)",
        "show_source(join_datasets)",
        'extract_features(model, conjuntos, device, token_position="last_real")',
        "RandomForestClassifier(random_state=123",
        "clf.score(X_test, y_test)", 'token_position="mean"', "LogisticRegression(", "max_length=posicao + 1",
        "n_arvores = 5", "fracao = 0.05", "TfidfVectorizer()",
        "show_source(precompute_frozen_outputs)", "show_source(encoder_positions)", "with cache_use() as origem:",
    ],
    "04_abordagem2_cabeca": [
        "for param in model.parameters():\n    param.requires_grad = False",
        'model.out_head = torch.nn.Linear(in_features=course.config["emb_dim"], out_features=num_classes)',
        "show_source(prepare_head_only)", "prepare_head_only(model, num_classes=2, seed=123)",
        "count_parameters(model) == depois", 'inputs = tokenizer.encode("Do you have time")',
        'print("Inputs dimensions:", inputs.shape)', "outputs[:, -1, :]",
        "probas = torch.softmax(outputs[:, -1, :], dim=-1)", "label = torch.argmax(probas)",
        "torch.argmax(logits)", "show_source(classification_logits)", "show_source(precompute_frozen_outputs)",
        "show_source(TrainableTail)", "show_source(calc_loss_batch)", "show_source(calc_loss_loader)",
        "show_source(calc_accuracy_loader)", "show_source(train_classifier_simple)", "torch.optim.AdamW(",
        "weight_decay=0.1", "taxas_testadas = [5e-5, 1e-3]", 'Path("data/abordagem2_taxa.json").write_text(',
        "plot_values(", "texto[:1]", "lr_experimento = 1e-2",
        "show_source(plot_values)", "show_source(eval_mode)",
        "show_source(FrozenPassKeys)", "show_source(load_or_compute)", "show_source(disk_cache._write)",
        "with disabled():", "torch.equal(a, b)", "print(cache_info())",
    ],
    "05_abordagem3_ultimo_bloco": [
        "for param in model.parameters():\n    param.requires_grad = False",
        'model.out_head = torch.nn.Linear(in_features=course.config["emb_dim"], out_features=num_classes)',
        "for param in model.trf_blocks[-1].parameters():\n    param.requires_grad = True",
        "for param in model.final_norm.parameters():\n    param.requires_grad = True",
        "show_source(prepare_last_block)", "prepare_last_block(model, num_classes=2, seed=123)",
        "count_parameters(model) == contagem",
        "calc_accuracy_loader(train_loader, model, device, num_batches=lotes_estimativa)",
        "calc_loss_loader(train_loader, model, device, num_batches=lotes_estimativa)", "show_source(evaluate_model)",
        "wilson_interval(", "origem.saved_seconds", "with cache_use() as origem:", "rodar_dois_blocos = False",
        "show_source(train_classifier_simple)", "train_classifier_simple(model, lotes_da_aula, val_loader",
        "torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.1)", "show_source(TrainableTail)",
        "precompute_frozen_outputs(model, conjuntos, device, n_trainable_blocks=1)",
        "maior diferença entre os dois caminhos", "projecao = passos * tempo_por_passo_da_aula",
        "Razão medida nesta máquina", "show_source(classify_review)",
        '"You are a winner you have been specially"', '"Hey, just wanted to check if we\'re still on"',
        "classify_review(text_1, model, tokenizer, device, max_length=train_dataset.max_length)",
        'torch.save(model.state_dict(), "review_classifier.pth")',
        'torch.load("review_classifier.pth", weights_only=True)', "save_classifier(", "load_classifier(",
        "def vetores_com_padding(", 'paddings = {"sem padding": None', "tabela_padding = pd.DataFrame(",
        '"previsões que mudaram"', "tamanho_experimento = 40", "n_blocos = 2",
        "precompute_frozen_outputs(modelo_exp, conjuntos, device, n_trainable_blocks=n_blocos)",
        "show_source(save_classifier)",
        "show_source(last_block_at_last_token)", "show_source(_attention_reordered)", "torch.allclose(",
        "show_source(predict)", "show_source(confusion_table)", "show_source(report)", "show_source(misclassified)",
    ],
    "06_comparacao": [
        "show_source(advance_frozen_outputs)", 'Path("data/abordagem2_taxa.json")', 'escolha["taxa_escolhida"]',
        "lr2 = max(candidatas, key=", "features_from_frozen(", "prepare_last_block(base_model",
        "100 / len(test_df)", "tempo_congelado / tempo_total", "proporcao_spam = 747 / 5574",
        "n_parametros = 1_558_000_000", "TfidfVectorizer(ngram_range=(1, 2))", "show_source(estimate_finetune_memory)",
        "show_source(features_from_frozen)", "show_source(_blocks_between)", "show_source(_hidden_batches)",
        "show_source(write_model_card)", "describe_data(train_df, val_df, test_df)",
    ],
    "07_laboratorio": [
        "show_source(ExperimentLab.run)", "show_source(LoRALinear)", "run_experiments(linhas, lab=lab)",
        "merge_lora(", "save_lora(", "RODAR_LINHAS_LENTAS = False",
        'if ARQUIVO is None and "google.colab" in sys.modules',
        "files.upload()", "load_text_classification_file(", "format_accuracy_with_interval(",
        "show_source(run_experiments)", "show_source(apply_lora)", "show_source(merge_lora)", "show_source(save_lora)",
        "show_source(wilson_interval)", "show_source(format_accuracy_with_interval)",
    ],
}

# notebook -> trechos que precisam estar na PROSA (markdown)
PROSE_STEPS: dict[str, list[str]] = {
    "01_dados": [
        "**Tempo estimado:**", "publicada em 2011", "Raschka", "### Experimente", "## Autoavaliação",
        "<details><summary>Resposta</summary>", "a si mesmo e os tokens anteriores",
        "**Esta tarefa precisa do conjunto de dados real.**", "montada **antes** do pré-treino",
    ],
    "02_gpt2_pretreinado": [
        "**Tempo estimado:**", "548 MB", "A máscara causal à vista", "Raschka, cap. 6", "### Experimente",
        "## Autoavaliação", "<details><summary>Resposta</summary>",
        "No **modo de\ndemonstração** não dá para observar isso",
        "A aula usa uma variação",
    ],
    "03_abordagem1_embeddings": [
        "**Tempo estimado:**", "### Experimente", "## Autoavaliação", "<details><summary>Resposta</summary>",
        "cada token só enxerga a si mesmo e os anteriores", "em **cada divisão** de cada\nárvore",
    ],
    "04_abordagem2_cabeca": [
        "**Tempo estimado:**", "a softmax é opcional", "atenção causal", "StandardScaler", "controlada por `C`",
        "### Experimente: ler o primeiro token", "### Experimente: outra taxa de aprendizado",
        "## Autoavaliação", "<details><summary>Resposta</summary>", "*weight decay*", "**época**",
    ],
    "05_abordagem3_ultimo_bloco": [
        "**Tempo estimado:**", "**LayerNorm final**", "95,67%", "no computador da aula", "weights_only=True",
        "PyTorch 2.6", "executar código arbitrário", "## 5.9 A posição lida e o *padding*: uma comparação justa",
        "Raschka", "95,00%", "78,33%", "98,33%", "não é um erro", "**frágil**", "### Experimente: outro *padding*",
        "### Experimente: treinar os dois últimos blocos", "## Autoavaliação", "<details><summary>Resposta</summary>",
        "ch06/02_bonus_additional-experiments", "não está no livro impresso",
        "como este notebook treina cerca de 20 vezes mais rápido",
    ],
    "06_comparacao": [
        "**Tempo estimado:**", "não mínimos quadrados", "### Experimente", "## Autoavaliação",
        "<details><summary>Resposta</summary>", "data/abordagem2_taxa.json",
    ],
    "07_laboratorio": ["## 7.5 Seus próprios dados", "Wilson", "A100", "B começa em zero", "inglês",
                       "meia largura", "Hu et al., 2022"],
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
