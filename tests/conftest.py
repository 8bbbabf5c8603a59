from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SPAM_ZIP = SHARED / "data" / "sms_spam_collection.zip"
TIKTOKEN_CACHE = SHARED / "tiktoken_cache"

# O tokenizador funciona sem internet quando o cache local existe.
if TIKTOKEN_CACHE.is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))


@pytest.fixture(scope="session")
def tokenizer():
    from llmdefinitions import get_tokenizer

    return get_tokenizer()


@pytest.fixture(scope="session")
def spam_zip():
    if not SPAM_ZIP.is_file():
        pytest.skip(f"espelho do dataset ausente: {SPAM_ZIP}")
    return SPAM_ZIP
