"""llmdefinitions: o pacote do curso "Fine-tuning de LLMs para Classificação".

Os notebooks ensinam; este pacote guarda o que eles reutilizam. Um módulo por conceito:

- `model`: a arquitetura GPT-2 inteira, em PyTorch puro;
- `config`, `weights`: hiperparâmetros e pesos pré-treinados (Hugging Face, safetensors);
- `tokenizer`, `generation`: texto <-> tokens e geração de texto;
- `data`: o conjunto de dados SMS Spam Collection (obter, ler, limpar, balancear, dividir);
- `download`: baixar com segurança (endereços alternativos, sha256, quarentena; dados e pesos);
- `user_data`: seus próprios dados (CSV/TSV de duas classes) e o exemplo em português do curso;
- `dataset`: tokenização, padding e lotes;
- `classifier`: as três abordagens e a escolha do token classificado;
- `features`: o trabalho congelado feito uma vez só (o que torna o treino rápido);
- `disk_cache`: esse trabalho guardado em disco, uma vez por curso (chave = hash de tudo o que entra na conta);
- `frozen_cache`: as linhas do laboratório que compartilham uma passada congelada;
- `encoder`: a abordagem 1 da aula com o DistilBERT (um codificador, via `transformers`; extra opcional);
- `training`, `evaluation`: perda, acurácia, laço de treino, métricas e uso do modelo;
- `cuda_steps`: o mesmo laço de treino numa GPU, com cada passo gravado num CUDA graph;
- `attribution`: por que spam? o peso de cada token na previsão (oclusão, gradientes integrados);
- `lora`: LoRA escrito à mão (adaptadores de posto baixo, fusão, salvar só o adaptador);
- `experiments`, `lab`: o laboratório (notebook 7): as variações do fine-tuning e a tabela delas;
- `checkpoint`, `memory`, `model_card`: salvar, estimar memória, documentar;
- `course`: como os notebooks obtêm modelo e dados (e o modo de demonstração);
- `uncertainty`: o intervalo de confiança (Wilson) de uma acurácia medida em poucos exemplos;
- `source`: mostrar, dentro do notebook, o código do pacote que vai ser usado;
- `device`: CPU, CUDA ou MPS (e, no Linux, a memória liberada guardada para reuso).
"""

from .attribution import (
    Attribution,
    explain,
    explain_interactively,
    explanation_html,
    integrated_gradients,
    occlusion_scores,
)
from .checkpoint import load_classifier, save_classifier
from .classifier import (
    TrainableTail,
    add_classification_head,
    blocks_at_real_tokens,
    classification_logits,
    count_parameters,
    freeze_all,
    prepare_head_only,
    prepare_last_block,
)
from .config import BASE_CONFIG, config_from_settings, gpt2_config, model_configs, model_size_from_name
from .course import (
    course_data_file,
    demo_forced,
    demo_tag,
    describe_config,
    is_demo,
    load_course_model,
    prepare_course_data,
    show_warning,
)
from .cuda_steps import ResidentLoader, train_classifier_graphed
from .data import (
    CLASS_NAMES,
    LABELS,
    SPAM_DATA_URL,
    count_duplicate_messages,
    count_shared_messages,
    create_balanced_dataset,
    download_and_unzip_spam_data,
    drop_duplicate_messages,
    encode_labels,
    load_sms_spam,
    load_sms_spam_naive,
    load_split,
    prepare_spam_splits,
    random_split,
    save_splits,
    split_spam_frame,
)
from .dataset import SpamDataset, create_dataloaders, last_real_token_index, pad_batch
from .device import get_device, keep_freed_memory
from .disk_cache import cache_info, cache_use, clear_cache
from .download import DataDownloadError, DataIntegrityError, GPT2DownloadError
from .evaluation import classify_review, confusion_table, misclassified, predict, report
from .experiments import (
    REFERENCE_RESULTS,
    REFERENCE_SOURCE,
    Experiment,
    ExperimentError,
    ExperimentSkipped,
    default_experiments,
    slow_experiments,
)
from .features import (
    FrozenOutputs,
    HiddenBatch,
    advance_frozen_outputs,
    extract_features,
    features_from_frozen,
    frozen_outputs_loader,
    precompute_frozen_outputs,
)
from .frozen_cache import FrozenCache
from .generation import generate, generate_text_simple
from .lab import ExperimentLab, run_experiment, run_experiments
from .lora import (
    LoRAError,
    LoRALinear,
    apply_lora,
    count_lora_parameters,
    load_lora,
    lora_parameters_per_layer,
    lora_state_dict,
    merge_lora,
    save_lora,
)
from .memory import estimate_finetune_memory, estimate_lora_memory
from .model import GPTModel
from .model_card import describe_data, write_model_card
from .source import show_source
from .tokenizer import PAD_TOKEN_ID, get_tokenizer, text_to_token_ids, token_ids_to_text
from .training import (
    calc_accuracy_loader,
    calc_loss_batch,
    calc_loss_loader,
    evaluate_model,
    plot_values,
    train_classifier_simple,
)
from .uncertainty import format_accuracy_with_interval, format_pt, wilson_interval
from .user_data import UserDataError, course_portuguese_sample_path, load_text_classification_file
from .weights import CheckpointError, download_and_load_gpt2, load_weights_into_gpt, read_checkpoint

__all__ = [
    # attribution
    "Attribution", "explain", "explain_interactively", "explanation_html", "integrated_gradients", "occlusion_scores",
    # checkpoint
    "load_classifier", "save_classifier",
    # classifier
    "TrainableTail", "add_classification_head", "blocks_at_real_tokens", "classification_logits", "count_parameters",
    "freeze_all", "prepare_head_only", "prepare_last_block",
    # config
    "BASE_CONFIG", "config_from_settings", "gpt2_config", "model_configs", "model_size_from_name",
    # course
    "course_data_file", "demo_forced", "demo_tag", "describe_config", "is_demo", "load_course_model",
    "prepare_course_data", "show_warning",
    # data
    "CLASS_NAMES", "LABELS", "SPAM_DATA_URL", "count_duplicate_messages", "count_shared_messages",
    "create_balanced_dataset", "download_and_unzip_spam_data", "drop_duplicate_messages", "encode_labels",
    "load_sms_spam", "load_sms_spam_naive", "load_split", "prepare_spam_splits", "random_split", "save_splits",
    "split_spam_frame",
    # cuda_steps
    "ResidentLoader", "train_classifier_graphed",
    # dataset
    "SpamDataset", "create_dataloaders", "last_real_token_index", "pad_batch",
    # device
    "get_device",
    # download
    "DataDownloadError", "DataIntegrityError", "GPT2DownloadError",
    # evaluation
    "classify_review", "confusion_table", "misclassified", "predict", "report",
    # experiments
    "REFERENCE_RESULTS", "REFERENCE_SOURCE", "Experiment", "ExperimentError", "ExperimentSkipped",
    "default_experiments", "slow_experiments",
    # disk_cache
    "cache_info", "cache_use", "clear_cache",
    # features, frozen_cache
    "FrozenCache", "FrozenOutputs", "HiddenBatch", "advance_frozen_outputs", "extract_features",
    "features_from_frozen", "frozen_outputs_loader", "precompute_frozen_outputs",
    # generation
    "generate", "generate_text_simple",
    # lab
    "ExperimentLab", "run_experiment", "run_experiments",
    # lora
    "LoRAError", "LoRALinear", "apply_lora", "count_lora_parameters", "load_lora", "lora_parameters_per_layer",
    "lora_state_dict", "merge_lora", "save_lora",
    # memory
    "estimate_finetune_memory", "estimate_lora_memory",
    # model
    "GPTModel",
    # model_card
    "describe_data", "write_model_card",
    # source
    "show_source",
    # tokenizer
    "PAD_TOKEN_ID", "get_tokenizer", "text_to_token_ids", "token_ids_to_text",
    # training
    "calc_accuracy_loader", "calc_loss_batch", "calc_loss_loader", "evaluate_model", "plot_values",
    "train_classifier_simple",
    # uncertainty
    "format_accuracy_with_interval", "format_pt", "wilson_interval",
    # user_data
    "UserDataError", "course_portuguese_sample_path", "load_text_classification_file",
    # weights
    "CheckpointError", "download_and_load_gpt2", "load_weights_into_gpt", "read_checkpoint",
]

__version__ = "1.0.0"

# No Linux, os passos de treino reusam a memória que liberam, sem novas faltas de página (device.py).
keep_freed_memory()
