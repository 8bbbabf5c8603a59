"""llmdefinitions: o pacote do curso "Fine-tuning de LLMs para Classificação".

Os notebooks ensinam; este pacote guarda o que eles reutilizam. Cada módulo trata de um
conceito: `model` (a arquitetura GPT-2), `weights` (pesos pré-treinados), `tokenizer`,
`generation`, `data` (o dataset de SMS), `dataset` (tokenização e lotes), `classifier`
(as três abordagens), `features` (cálculos congelados feitos uma vez só), `training`,
`evaluation`, `checkpoint`, `memory`, `model_card` e `course` (modo de demonstração).
"""

from .config import BASE_CONFIG, MODEL_SIZES, config_from_settings, gpt2_config, model_configs, model_size_from_name
from .device import get_device
from .generation import generate, generate_text_simple
from .model import GPTModel
from .tokenizer import END_OF_TEXT, PAD_TOKEN_ID, get_tokenizer, text_to_token_ids, token_ids_to_text
from .weights import CheckpointError, GPT2DownloadError, download_and_load_gpt2, load_weights_into_gpt, read_checkpoint

__version__ = "1.0.0"
