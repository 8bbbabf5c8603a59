"""O cache em disco: o trabalho congelado feito uma vez por curso, não uma vez por notebook.

Os notebooks 3 a 7 passam as mesmas mensagens pelos mesmos blocos congelados do GPT-2. Essa
conta é determinística: o resultado só depende do que entra nela. Por isso o guardamos num
arquivo cujo nome é um *hash* de TUDO o que entra na conta:

- os pesos, os *buffers*, os atributos e o código de cada módulo congelado (`module_fingerprint`);
- os ids dos tokens de cada texto, com o *padding*, se houver (`tokens_fingerprint`);
- quantos blocos, o que é guardado, o tamanho do lote, o dispositivo e o tipo numérico.

Mudou um peso, um texto, o *padding* ou o número de blocos: a chave muda e a conta é refeita.
Quem edita o modelo ou os dados nunca recebe um resultado velho.

- Pasta: `LLMDEFINITIONS_CACHE_DIR`, ou a pasta de cache do usuário (no Linux, `~/.cache/llmdefinitions`).
- Desligar: `LLMDEFINITIONS_CACHE_DIR=off`.
- Limite: `LLMDEFINITIONS_CACHE_MAX_GB` (padrão 2); acima dele, saem os arquivos usados há mais tempo.
- Apagar tudo: `clear_cache()`, ou `python -m llmdefinitions.disk_cache --clear`.

Os arquivos são safetensors (só tensores, nada de código). Cada um é gravado num arquivo
temporário e renomeado (`os.replace`): um arquivo pela metade nunca tem o nome final. Um
arquivo ilegível ou de outra chave é apagado, e a conta, refeita.

Ensinado no Notebook 4, §4.3.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import os
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .uncertainty import format_pt

__all__ = [
    "CACHE_DIR_ENV_VAR", "CACHE_MAX_GB_ENV_VAR", "cache_dir", "max_cache_bytes", "module_fingerprint", "class_code",
    "tokens_fingerprint", "cache_key", "load", "load_or_compute", "pack_rows", "unpack_rows", "clear_cache",
    "cache_info", "CacheInfo", "stats", "CacheUse", "cache_use", "disabled",
]

CACHE_DIR_ENV_VAR = "LLMDEFINITIONS_CACHE_DIR"
CACHE_MAX_GB_ENV_VAR = "LLMDEFINITIONS_CACHE_MAX_GB"
DEFAULT_MAX_GB = 2.0
OFF_VALUES = {"off", "0", "false", "no", "nao", "não", "none"}  # também desligam keep_freed_memory
_SUFFIX = ".safetensors"

# Quantas vezes o cache serviu (`hits`) e quantas a conta foi feita e guardada (`misses`) neste processo.
# `saved_seconds`: quanto tempo levaram, quando foram calculadas, as contas lidas do disco.
stats = {"hits": 0, "misses": 0, "saved_seconds": 0.0}


def cache_dir() -> Path | None:
    """A pasta do cache, ou `None` se ele está desligado (`LLMDEFINITIONS_CACHE_DIR=off`).

    Ensinado no Notebook 4, §4.3.
    """
    value = os.environ.get(CACHE_DIR_ENV_VAR, "").strip()
    if value.lower() in OFF_VALUES:
        return None
    return Path(value).expanduser() if value else Path(platformdirs.user_cache_dir("llmdefinitions")) / "frozen"


def max_cache_bytes() -> int:
    """O tamanho máximo do cache, em bytes (`LLMDEFINITIONS_CACHE_MAX_GB`, padrão 2 GB). Notebook 4, §4.3."""
    value = os.environ.get(CACHE_MAX_GB_ENV_VAR, "").strip() or str(DEFAULT_MAX_GB)
    try:
        gigabytes = float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"{CACHE_MAX_GB_ENV_VAR} deve ser um número de GB (ex.: 2 ou 0,5), não {value!r}.") from None
    if gigabytes < 0:
        raise ValueError(f"{CACHE_MAX_GB_ENV_VAR} não pode ser negativo (recebi {value!r}).")
    return int(gigabytes * 1e9)


@functools.lru_cache(maxsize=None)
def class_code(cls) -> str | None:
    """O código que define a classe: o do módulo inteiro no pacote do curso (pega as funções que
    ela chama), o da própria classe fora dele; a versão, nas classes do torch. `None` se não há fonte.

    Ensinado no Notebook 4, §4.3.
    """
    if cls.__module__.split(".")[0] == "torch":
        return f"{cls.__qualname__} (torch {torch.__version__})"
    try:
        if cls.__module__.split(".")[0] == "llmdefinitions":
            return inspect.getsource(sys.modules[cls.__module__])
        return inspect.getsource(cls)
    except (OSError, TypeError, KeyError):
        return None


_INTEGER_VIEW = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _device_checksum(tensor: torch.Tensor, chunk: int = 1 << 24) -> int:
    """Um resumo exato dos bits do tensor, calculado no próprio dispositivo (sem copiar para a CPU).

    Cada número, lido como inteiro, é multiplicado por um peso ímpar que depende da posição, e
    tudo é somado em inteiros de 64 bits (módulo 2^64). Multiplicar por um ímpar é inversível
    módulo 2^64: mudar qualquer número, mesmo no último bit, muda a soma.
    """
    words = tensor.detach().contiguous().reshape(-1)
    words = words.view(_INTEGER_VIEW[words.element_size()])
    total = torch.zeros((), dtype=torch.int64, device=words.device)
    for start in range(0, words.numel(), chunk):
        part = words[start : start + chunk].to(torch.int64)
        position = torch.arange(start, start + part.numel(), device=words.device, dtype=torch.int64)
        weight = (position * 6364136223846793005 + 1442695040888963407) | 1  # estouro = módulo 2^64
        total += (part * weight).sum()
    return int(total)


def _update_with_tensor(digest, tensor: torch.Tensor) -> None:
    """Acrescenta ao *hash* o tipo, a forma e os bits do tensor (na GPU, o resumo `_device_checksum`)."""
    digest.update(f"{tensor.dtype}:{tuple(tensor.shape)}:{tensor.device.type};".encode())
    if tensor.device.type != "cpu":  # ler 500 MB da GPU para a CPU a cada chamada custaria mais que a conta
        digest.update(str(_device_checksum(tensor)).encode())
    else:
        digest.update(tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy())


def _library_function(value) -> str | None:
    """O nome e a versão de uma função de biblioteca guardada num módulo (ex.: `torch.nn.functional.gelu`);
    `None` para qualquer outra (uma função escrita no notebook, um `forward` trocado na instância)."""
    library = (getattr(value, "__module__", None) or "").split(".")[0]
    if library not in ("torch", "transformers") or not hasattr(value, "__qualname__"):
        return None
    return f"{value.__module__}.{value.__qualname__} ({library} {sys.modules[library].__version__})"


def module_fingerprint(*modules) -> str | None:
    """Um *hash* de tudo o que define a conta dos `modules`: pesos, *buffers*, atributos simples
    (ex.: `causal`, a taxa de *dropout*) e o código de cada classe. `None` se algum código não
    pode ser lido (ex.: um `forward` trocado na instância): aí a conta não vai para o cache.

    Ensinado no Notebook 4, §4.3.
    """
    digest = hashlib.sha256()
    for module in modules:
        for name, sub in module.named_modules():
            attributes = {k: v for k, v in vars(sub).items() if k != "training" and not k.startswith("_")}
            functions = [_library_function(v) for v in attributes.values() if callable(v)
                         and not isinstance(v, torch.nn.Module)]  # ex.: `self.act = F.gelu`
            code = class_code(type(sub))
            if code is None or None in functions:
                return None
            simple = sorted((k, v) for k, v in attributes.items() if isinstance(v, (bool, int, float, str)))
            digest.update(f"{name}|{code}|{simple}|{functions}".encode())
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            _update_with_tensor(digest, tensor)
    return digest.hexdigest()


def tokens_fingerprint(encoded_texts) -> str:
    """Um *hash* dos ids de cada texto, na ordem (textos iguais em posições diferentes contam). Notebook 4, §4.3."""
    digest = hashlib.sha256()
    for ids in encoded_texts:
        digest.update(torch.tensor(ids, dtype=torch.int64).numpy())
        digest.update(b";")
    return digest.hexdigest()


def _has_none(part) -> bool:
    """`part` é `None`, ou uma lista ou tupla que contém `None` em qualquer nível."""
    return part is None or (isinstance(part, (list, tuple)) and any(_has_none(item) for item in part))


def cache_key(*parts) -> str | None:
    """A chave de uma conta: o *hash* das partes (`None` se alguma parte, ou item de uma lista ou tupla
    entre elas, é `None`: aí não há cache). Notebook 4, §4.3."""
    if _has_none(parts):
        return None
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _read(path: Path, key: str) -> tuple[dict[str, torch.Tensor], float] | None:
    """O conteúdo de um arquivo do cache e quanto tempo a conta levou, ou `None` (não existe;
    ilegível ou de outra chave: apagado)."""
    if not path.exists():
        return None
    try:
        with safe_open(path, framework="pt") as handle:  # a chave gravada no cabeçalho tem de ser a pedida
            metadata = handle.metadata() or {}
        if metadata.get("key") != key:
            raise ValueError("chave diferente")
        tensors, seconds = load_file(path), float(metadata.get("seconds", "0"))
    except Exception:  # noqa: BLE001 - arquivo pela metade, corrompido ou de outra versão: refazer
        path.unlink(missing_ok=True)
        return None
    os.utime(path)  # usado agora: é dos últimos a sair quando o cache passar do limite
    return tensors, seconds


def _write(path: Path, key: str, tensors: dict[str, torch.Tensor], seconds: float, limit: int) -> None:
    """Grava num temporário e renomeia (atômico); depois apaga os arquivos usados há mais tempo até o
    cache caber em `limit` bytes."""
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    if size > limit:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"key": key, "seconds": f"{seconds:.3f}"}
        save_file({k: t.contiguous() for k, t in tensors.items()}, temporary, metadata=metadata)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        warnings.warn(f"Cache em disco não gravado em {path.parent} ({error}); a conta segue sem cache.",
                      stacklevel=3)
        return
    files = sorted(path.parent.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime)  # o mais antigo primeiro
    total = sum(p.stat().st_size for p in files)
    for old in files:
        if total <= limit:
            break
        total -= old.stat().st_size
        old.unlink(missing_ok=True)


def load(key: str | None) -> dict[str, torch.Tensor] | None:
    """Os tensores guardados com `key`, ou `None` (sem chave, cache desligado, ou ainda não guardado).

    Ensinado no Notebook 4, §4.3.
    """
    directory = cache_dir()
    if key is None or directory is None:
        return None
    found = _read(directory / f"{key}{_SUFFIX}", key)
    if found is None:
        return None
    stats["hits"] += 1
    stats["saved_seconds"] += found[1]
    return found[0]


def load_or_compute(key: str | None, compute) -> dict[str, torch.Tensor]:
    """Os tensores guardados com `key`; se não há, `compute()` os calcula e eles são guardados.

    Sem chave (`None`) ou com o cache desligado, apenas chama `compute()`.
    Ensinado no Notebook 4, §4.3.
    """
    tensors = load(key)
    if tensors is not None:
        return tensors
    start = time.perf_counter()
    tensors = compute()
    directory = cache_dir()
    if key is not None and directory is not None:
        stats["misses"] += 1
        _write(directory / f"{key}{_SUFFIX}", key, tensors, time.perf_counter() - start, max_cache_bytes())
    return tensors


def pack_rows(rows: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Uma lista de tensores (linhas repetidas = o MESMO tensor) em três tensores para o arquivo:
    as linhas distintas emendadas (`rows`), o tamanho de cada uma (`lengths`) e, para cada
    posição da lista, qual linha distinta ela é (`index`). Notebook 4, §4.3.
    """
    position: dict[int, int] = {}
    distinct = []
    for row in rows:
        if id(row) not in position:
            position[id(row)] = len(distinct)
            distinct.append(row)
    return {"rows": torch.cat(distinct), "lengths": torch.tensor([r.shape[0] for r in distinct]),
            "index": torch.tensor([position[id(row)] for row in rows])}


def unpack_rows(tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """O inverso de `pack_rows`: a lista, com as posições repetidas apontando para o mesmo tensor. Notebook 4, §4.3."""
    distinct = torch.split(tensors["rows"], tensors["lengths"].tolist())
    return [distinct[i] for i in tensors["index"].tolist()]


@dataclass
class CacheInfo:
    """Onde está o cache, quantos arquivos e quantos bytes ele ocupa, e o limite. Notebook 4, §4.3."""

    directory: Path | None
    files: int
    nbytes: int
    limit: int

    def __str__(self) -> str:  # sem a pasta: o caminho é desta máquina (o comando a mostra)
        if self.directory is None:
            return f"Cache em disco desligado ({CACHE_DIR_ENV_VAR}=off)."
        return (f"Cache em disco: {self.files} arquivo(s), {format_pt(self.nbytes / 1e6, 1)} MB "
                f"(limite: {format_pt(self.limit / 1e9, 1)} GB)")


def cache_info() -> CacheInfo:
    """O estado do cache em disco. Notebook 4, §4.3."""
    directory = cache_dir()
    files = list(directory.glob(f"*{_SUFFIX}")) if directory is not None and directory.is_dir() else []
    return CacheInfo(directory, len(files), sum(p.stat().st_size for p in files), max_cache_bytes())


def clear_cache() -> int:
    """Apaga todos os arquivos do cache em disco; devolve quantos bytes foram liberados. Notebook 4, §4.3."""
    directory = cache_dir()
    if directory is None or not directory.is_dir():
        return 0
    freed = 0
    for path in [*directory.glob(f"*{_SUFFIX}"), *directory.glob(f".*{_SUFFIX}.*.tmp")]:
        freed += path.stat().st_size
        path.unlink(missing_ok=True)
    return freed


@dataclass
class CacheUse:
    """Num trecho: quantas contas vieram do disco (`hits`), quantas foram feitas e guardadas (`misses`)
    e se o cache estava ligado. Ensinado no Notebook 4, §4.3."""

    hits: int = 0
    misses: int = 0
    enabled: bool = True
    saved_seconds: float = 0.0  # quanto as contas lidas do disco levaram quando foram calculadas

    def __str__(self) -> str:
        if not self.enabled:
            return "cache em disco desligado: calculado agora"
        if not self.hits and not self.misses:
            return "nada passou pelo cache em disco"
        if self.hits and not self.misses:
            return f"lido do cache em disco; calculá-lo levou {format_pt(self.saved_seconds, 1)} s"
        if self.misses and not self.hits:
            return "calculado agora e guardado no cache em disco"
        return f"{self.hits} leitura(s) do cache em disco e {self.misses} conta(s) nova(s), guardada(s) nele"


@contextmanager
def cache_use():
    """`with cache_use() as origem:` conta o que, dentro do bloco, veio do disco; `print(origem)` diz.

    Ensinado no Notebook 4, §4.3.
    """
    use, before = CacheUse(), dict(stats)
    try:
        yield use
    finally:
        use.hits, use.misses = stats["hits"] - before["hits"], stats["misses"] - before["misses"]
        use.saved_seconds = stats["saved_seconds"] - before["saved_seconds"]
        use.enabled = cache_dir() is not None


@contextmanager
def disabled():
    """`with disabled():` desliga o cache em disco dentro do bloco (para comparar com uma conta nova).

    Ensinado no Notebook 4, §4.3.
    """
    previous = os.environ.get(CACHE_DIR_ENV_VAR)
    os.environ[CACHE_DIR_ENV_VAR] = "off"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(CACHE_DIR_ENV_VAR, None)
        else:
            os.environ[CACHE_DIR_ENV_VAR] = previous


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="O cache em disco do trabalho congelado (llmdefinitions).")
    parser.add_argument("--clear", action="store_true", help="apaga todos os arquivos do cache")
    args = parser.parse_args(argv)
    if args.clear:
        print(f"Cache em disco apagado: {clear_cache() / 1e6:.1f} MB liberados.")
    info = cache_info()
    print(info if info.directory is None else f"{info} em {info.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
