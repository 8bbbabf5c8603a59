"""O modelo da aula na abordagem 1: o DistilBERT, um codificador, como extrator de *features*.

A aula faz a abordagem 1 com `AutoModel.from_pretrained("distilbert-base-uncased")` e o
`AutoTokenizer` do mesmo nome: tokeniza os textos, passa-os pelo modelo congelado e usa os
estados ocultos como *features* de uma floresta aleatória. Este módulo segue o mesmo caminho e
devolve `(X, y)` em NumPy, como `features.extract_features` faz com o GPT-2.

O `transformers` é opcional no curso: `pip install -e ".[encoder]"` (no Colab ele já vem instalado).

Sem internet e sem cópia local dos pesos, entra o **modo de demonstração**, como no GPT-2: um
DistilBERT pequeno com pesos ALEATÓRIOS, salvo no layout do Hugging Face (`config.json` +
`model.safetensors`) e um vocabulário WordPiece montado com as mensagens do curso (`vocab.txt`),
carregados pelas MESMAS chamadas `from_pretrained`. Variáveis de ambiente (as do GPT-2):
- `LLMDEFINITIONS_DEMO=1` força o modo de demonstração;
- `LLMDEFINITIONS_MODELS_DIR=/pasta`: uma cópia local em `/pasta/distilbert-base-uncased/`
  (`config.json`, `model.safetensors`, `vocab.txt`, `tokenizer_config.json`);
- `HF_HUB_OFFLINE=1`: nada é baixado (só vale o que já está no cache do Hugging Face).
"""

from __future__ import annotations

import importlib
import json
import os
import string
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from . import disk_cache
from .course import demo_forced, show_warning
from .data import load_sms_spam, require_columns
from .download import offline_reason
from .features import eval_mode

__all__ = [
    "ENCODER_NAME",
    "ENCODER_POSITIONS",
    "DEMO_ENCODER_CONFIG",
    "CourseEncoder",
    "encoder_positions",
    "EncoderUnavailableError",
    "transformers_available",
    "require_transformers",
    "wordpiece_vocabulary",
    "build_demo_encoder",
    "load_encoder",
    "encoder_features",
]

ENCODER_NAME = "distilbert-base-uncased"  # o modelo da aula
ENCODER_POSITIONS = ("first", "mean")  # de `classifier.TOKEN_POSITIONS`: "first" é o token [CLS]
_INSTALL_COMMAND = 'pip install -e ".[encoder]"'
_MODELS_DIR_ENV_VAR = "LLMDEFINITIONS_MODELS_DIR"  # a mesma variável do GPT-2 (course.py)
_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # os do BERT, nesta ordem: [PAD] tem id 0

# A arquitetura do DistilBERT (6 blocos, 768 dimensões, 12 cabeças), só que estreita e rasa.
DEMO_ENCODER_CONFIG = {
    "dim": 64, "n_layers": 2, "n_heads": 4, "hidden_dim": 256, "max_position_embeddings": 512,
    "dropout": 0.0, "attention_dropout": 0.0,
}
_DEMO_VOCAB_SIZE = 2000


class EncoderUnavailableError(ImportError):
    """O `transformers`, de que o DistilBERT precisa, não está instalado. Ensinado no Notebook 3, §3.7."""


@dataclass
class CourseEncoder:
    """O que `load_encoder` devolve: modelo, tokenizador, modo (`"real"` ou `"demo"`) e um resumo.

    Ensinado no Notebook 3, §3.7.
    """

    model: torch.nn.Module
    tokenizer: object
    mode: str  # "real" ou "demo"
    description: str

    @property
    def n_parameters(self) -> int:
        """Quantos parâmetros o modelo tem (todos congelados na abordagem 1)."""
        return sum(p.numel() for p in self.model.parameters())


def transformers_available() -> bool:
    """Verdadeiro se o `transformers` está instalado e importa sem erro. Ensinado no Notebook 3, §3.7."""
    try:
        require_transformers()
    except EncoderUnavailableError:
        return False
    return True


def require_transformers():
    """Importa e devolve o `transformers`; sem ele, `EncoderUnavailableError` diz como instalar.

    Ensinado no Notebook 3, §3.7.
    """
    try:
        return importlib.import_module("transformers")
    except ImportError as err:
        raise EncoderUnavailableError(
            "O DistilBERT da aula usa o pacote `transformers`, que não vem na instalação básica do curso. "
            f"Instale com: {_INSTALL_COMMAND} (no Colab: %pip install transformers) e reinicie o kernel."
        ) from err


@contextmanager
def _quiet(transformers, progress_bars: bool = False):
    """Sem avisos do `transformers` (ex.: pesos do pré-treino que não usamos) e, se pedido, sem barras."""
    logging = transformers.utils.logging
    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    if not progress_bars:
        logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def _course_sample_texts() -> list[str]:
    """As 200 mensagens escritas para o curso (`sample_sms.tsv`), que vêm dentro do pacote."""
    with resources.as_file(resources.files(__package__) / "sample_sms.tsv") as sample:
        return load_sms_spam(sample)["Text"].tolist()


def wordpiece_vocabulary(texts, size: int = _DEMO_VOCAB_SIZE, min_count: int = 1) -> list[str]:
    """Um vocabulário WordPiece reprodutível: tokens especiais, os caracteres ASCII e os vistos nos textos
    (inteiros e como continuação `##c`: uma palavra nova vira pedaços, não [UNK]) e as palavras mais
    frequentes que aparecem ao menos `min_count` vezes (empates em ordem alfabética), até `size` itens.
    O texto é normalizado e dividido como o tokenizador do BERT "uncased" fará (minúsculas, sem acentos).

    Ensinado no Notebook 3, §3.7.
    """
    from tokenizers import normalizers, pre_tokenizers  # vem junto com o transformers

    normalize, split = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    counts = Counter(word for text in texts for word, _ in split.pre_tokenize_str(normalize.normalize_str(text)))
    ascii_characters = string.ascii_lowercase + string.digits + string.punctuation
    characters = sorted({character for word in counts for character in word} | set(ascii_characters))
    vocabulary = [*_SPECIAL_TOKENS, *characters, *(f"##{c}" for c in characters)]
    frequent = [word for word in counts if len(word) > 1 and counts[word] >= min_count]
    words = sorted(frequent, key=lambda word: (-counts[word], word))
    return vocabulary + words[: max(size - len(vocabulary), 0)]


def build_demo_encoder(directory: str | os.PathLike, texts=None, seed: int = 123) -> Path:
    """Grava em `directory` um DistilBERT ALEATÓRIO no layout do Hugging Face, sem baixar nada.

    O tokenizador é um WordPiece (o algoritmo do BERT) com vocabulário montado a partir de `texts`
    (padrão: as mensagens de exemplo do curso): caracteres e palavras mais frequentes, em `vocab.txt`.
    O modelo é um `DistilBertModel` com `DEMO_ENCODER_CONFIG`, salvo com `save_pretrained`
    (`config.json` + `model.safetensors`). `AutoModel`/`AutoTokenizer.from_pretrained(directory)`
    leem a pasta como leriam a do Hub. Mesmos `texts` e `seed`, mesmos arquivos.

    Ensinado no Notebook 3, §3.7.
    """
    transformers = require_transformers()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    texts = _course_sample_texts() if texts is None else [str(text) for text in texts]
    vocabulary = wordpiece_vocabulary(texts)
    (directory / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    tokenizer_config = {"tokenizer_class": "DistilBertTokenizer", "do_lower_case": True, "model_max_length": 512}
    (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2), encoding="utf-8")
    config = transformers.DistilBertConfig(vocab_size=len(vocabulary), pad_token_id=0, **DEMO_ENCODER_CONFIG)
    torch.manual_seed(seed)
    with _quiet(transformers):
        transformers.DistilBertModel(config).save_pretrained(directory, safe_serialization=True)
    return directory


def _from_pretrained(transformers, source, local_files_only: bool = False):
    """As duas chamadas da aula: `AutoTokenizer` e `AutoModel`, de um nome do Hub ou de uma pasta.

    Um download do Hub (centenas de MB) mostra a barra de progresso; uma pasta local carrega em silêncio."""
    with _quiet(transformers, progress_bars=not Path(source).is_dir()):
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
        model = transformers.AutoModel.from_pretrained(source, local_files_only=local_files_only)
    return model.eval(), tokenizer


def _demo_encoder(transformers, reason: str, texts=None) -> CourseEncoder:
    """O DistilBERT de demonstração (pasta temporária, lida por `from_pretrained`), com o aviso visível."""
    with tempfile.TemporaryDirectory(prefix="distilbert-demo-") as directory:
        model, tokenizer = _from_pretrained(transformers, build_demo_encoder(directory, texts))
    show_warning(
        "MODO DE DEMONSTRAÇÃO: DistilBERT com pesos aleatórios (os números NÃO são os do DistilBERT)",
        f"Motivo: {reason}",
        "O vocabulário (WordPiece) foi montado com as próprias mensagens; o modelo é pequeno e aleatório.",
        details=(f"Para usar o {ENCODER_NAME} real: rode com internet (ou com {_MODELS_DIR_ENV_VAR} apontando "
                 f"para uma pasta com {ENCODER_NAME}/) e sem LLMDEFINITIONS_DEMO=1."),
    )
    return CourseEncoder(model, tokenizer, "demo", "DistilBERT pequeno aleatório (demonstração)")


def load_encoder(model_name: str = ENCODER_NAME, models_dir=None, demo_texts=None) -> CourseEncoder:
    """O DistilBERT pré-treinado da aula, ou o de demonstração se os pesos não puderem ser obtidos.

    Procura primeiro uma cópia local em `models_dir/model_name/` (ou `LLMDEFINITIONS_MODELS_DIR`);
    senão usa o nome do Hub, como a aula (o `transformers` guarda o download no cache dele). Sem
    rede (ou com `HF_HUB_OFFLINE=1`) só vale o cache; sem nada disso, o modo de demonstração, com
    vocabulário montado com `demo_texts`. Uma cópia local corrompida gera erro (nunca troca calada).

    Ensinado no Notebook 3, §3.7.
    """
    transformers = require_transformers()
    if demo_forced():
        return _demo_encoder(transformers, "LLMDEFINITIONS_DEMO=1 está definida.", demo_texts)
    models_dir = models_dir or os.environ.get(_MODELS_DIR_ENV_VAR)
    local = Path(models_dir, model_name) if models_dir else None
    if local is not None and (local / "config.json").is_file():
        model, tokenizer = _from_pretrained(transformers, local)
        print(f"Modelo carregado: {model_name} pré-treinado (pasta {local}).")
        return CourseEncoder(model, tokenizer, "real", f"{model_name} pré-treinado")
    reason = offline_reason()
    try:
        model, tokenizer = _from_pretrained(transformers, model_name, local_files_only=reason is not None)
    except Exception as err:  # fora do cache e sem rede, Hub fora do ar, download interrompido...
        why = reason or f"{type(err).__name__}: {str(err).splitlines()[0]}"
        return _demo_encoder(transformers, f"os pesos do {model_name} não puderam ser obtidos ({why}).", demo_texts)
    print(f"Modelo carregado: {model_name} pré-treinado (Hugging Face Hub ou o cache dele).")
    return CourseEncoder(model, tokenizer, "real", f"{model_name} pré-treinado")


def encoder_features(encoder: CourseEncoder, data, device, token_position: str = "first", batch_size: int = 32):
    """Um vetor por texto, tirado do codificador congelado (`last_hidden_state`, a saída do último bloco).

    `token_position="first"`: o vetor do token especial [CLS], o primeiro de todo texto (o da aula);
    `token_position="mean"`: a média dos vetores dos tokens reais (a máscara de atenção exclui o padding).
    `data` é uma tabela com `Text` e `Label`. Devolve `(X, y)` em NumPy, na ordem original.

    Uma passada dá as duas posições (`encoder_positions`), e ela vai para o cache em disco
    (`disk_cache.py`), com a chave feita dos pesos e do código do codificador e dos ids de cada lote.

    Ensinado no Notebook 3, §3.7.
    """
    if token_position not in ENCODER_POSITIONS:
        raise ValueError(f"token_position deve ser um de {ENCODER_POSITIONS}, não {token_position!r}.")
    require_columns(data, ["Text", "Label"])
    texts, model = data["Text"].astype(str).tolist(), encoder.model.to(device)
    order = np.argsort([len(text) for text in texts], kind="stable")  # tamanhos parecidos: pouco padding
    batches = [(order[start : start + batch_size],
                encoder.tokenizer([texts[i] for i in order[start : start + batch_size]], padding=True,
                                  truncation=True, return_tensors="pt"))
               for start in range(0, len(texts), batch_size)]
    ids = [row for _, batch in batches for row in batch["input_ids"].tolist()]  # com o padding de cada lote
    key = disk_cache.cache_key("encoder_features", disk_cache.module_fingerprint(model), disk_cache.class_code(
        type(model)), disk_cache.tokens_fingerprint(ids), disk_cache.tokens_fingerprint([order.tolist()]),
        batch_size, torch.device(device).type)
    features = disk_cache.load_or_compute(key, lambda: encoder_positions(model, batches, len(texts), device))
    return features[token_position].numpy(), data["Label"].to_numpy(dtype=np.int64)


@torch.no_grad()
def encoder_positions(model, batches, n_texts: int, device) -> dict[str, torch.Tensor]:
    """Os vetores das duas posições de `ENCODER_POSITIONS` para cada texto, numa passada só.

    `batches`: pares `(linhas, lote tokenizado)`; `linhas` diz a posição de cada texto do lote.
    Ensinado no Notebook 3, §3.7.
    """
    features = {position: torch.zeros(n_texts, model.config.hidden_size) for position in ENCODER_POSITIONS}
    with eval_mode(model):
        for rows, batch in batches:
            rows = torch.as_tensor(rows)
            mask = batch["attention_mask"].to(device)  # 1 = token real, 0 = padding
            hidden = model(input_ids=batch["input_ids"].to(device), attention_mask=mask).last_hidden_state
            features["first"][rows] = hidden[:, 0].float().cpu()  # o [CLS]: a atenção bidirecional vê o texto todo
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            features["mean"][rows] = ((hidden * weights).sum(dim=1) / weights.sum(dim=1)).float().cpu()
    return features
