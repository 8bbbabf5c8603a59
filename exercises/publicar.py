"""Prepara os enunciados dos exercícios: células do Colab nas fontes e versão do aluno (release/).

O endereço do repositório fica num único lugar, `repository.url` em `_config.yml` (na raiz do
repositório). Este script:

1. (re)escreve nas fontes (`source/<atividade>/<notebook>.ipynb`) as duas primeiras células:
   a instalação do pacote `llmdefinitions` (só quando o notebook roda no Google Colab) e o selo
   "Abrir no Colab", que aponta para a versão do ALUNO (`exercises/release/...`);
2. atualiza a tabela de links "Abrir no Colab" de `book/exercicios.md` (entre marcadores), com o
   tempo estimado de cada exercício, lido da linha "**Tempo estimado para resolver:**" do enunciado;
3. gera a versão do aluno com `nbgrader generate_assignment "*" --force` (tira soluções e
   testes ocultos), que é publicada no repositório para os alunos abrirem no Colab.

Uso, com o ambiente do curso ativo (de qualquer pasta):
    python exercises/publicar.py               # atualiza source/ e regenera release/
    python exercises/publicar.py --verificar   # só confere; código 1 se algo estiver desatualizado

A conferência gera a versão do aluno numa cópia temporária do curso e compara, célula a
célula, com a que está em `release/` (tipo, conteúdo e metadados do nbgrader).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

PASTA = Path(__file__).resolve().parent  # exercises/
RAIZ = PASTA.parent  # raiz do repositório
ID_INSTALACAO = "instalacao"
ID_COLAB = "abrir-no-colab"

# O que nunca faz parte do curso copiado para conferência (entregas, notas, banco).
_NAO_COPIAR = ("submitted", "autograded", "feedback", "release", "gradebook.db", "__pycache__", "*.csv")


class ErroDePublicacao(RuntimeError):
    """Configuração ausente/errada ou falha do nbgrader."""


# --------------------------------------------------------------------------- repositório

def _sync_colab():
    """`tools/sync_colab.py`: a única fonte das células do Colab, as dos notebooks da aula e as daqui.

    Importado só quando usado: a correção também roda numa cópia de exercises/ sem tools/ ao lado.
    """
    ferramentas = str(RAIZ / "tools")
    if ferramentas not in sys.path:
        sys.path.insert(0, ferramentas)
    import sync_colab

    return sync_colab


def ler_repositorio(raiz: Path = RAIZ) -> tuple[str, str, str, str]:
    """Lê `repository.url` e `repository.branch` de `_config.yml`: `(url, dono, repo, ramo)`."""
    sync_colab = _sync_colab()
    try:
        return sync_colab.read_repository(raiz)
    except sync_colab.SyncError as erro:
        raise ErroDePublicacao(str(erro)) from erro


def link_colab(caminho_no_repositorio: str, raiz: Path = RAIZ) -> str:
    """Endereço que abre no Colab um notebook do repositório (caminho relativo à raiz)."""
    _, dono, repo, ramo = ler_repositorio(raiz)
    return _sync_colab().colab_url(dono, repo, ramo, caminho_no_repositorio)


def fonte_instalacao(url: str) -> str:
    """A célula que instala o pacote no Colab: a mesma dos notebooks da aula."""
    return _sync_colab().setup_source(url)


def fonte_selo(link: str) -> str:
    """O selo "Abrir no Colab" que leva a `link`."""
    return _sync_colab().badge_source(link)


# --------------------------------------------------------------------------- fontes

def notebooks_fonte(pasta: Path = PASTA) -> list[Path]:
    """Os notebooks do professor: `source/<atividade>/<notebook>.ipynb`, em ordem."""
    return sorted(
        caminho for caminho in (pasta / "source").glob("*/*.ipynb") if ".ipynb_checkpoints" not in caminho.parts
    )


def caminho_release(fonte: Path, pasta: Path = PASTA) -> Path:
    return pasta / "release" / fonte.parent.name / fonte.name


def _celulas_colab(fonte: Path, pasta: Path, raiz: Path) -> tuple[str, str]:
    url, *_ = ler_repositorio(raiz)
    try:
        base = pasta.relative_to(raiz).as_posix()
    except ValueError:  # uma cópia do curso fora do repositório
        base = "exercises"
    destino = f"{base}/release/{fonte.parent.name}/{fonte.name}"
    return fonte_instalacao(url), fonte_selo(link_colab(destino, raiz))


def sincronizar_fontes(pasta: Path = PASTA, raiz: Path = RAIZ, so_verificar: bool = False) -> list[str]:
    """Põe nas fontes as células de instalação e do selo. Devolve os problemas/alterações."""
    mensagens = []
    for fonte in notebooks_fonte(pasta):
        nb = nbformat.read(fonte, as_version=4)
        esperado = dict(zip((ID_INSTALACAO, ID_COLAB), _celulas_colab(fonte, pasta, raiz)))
        ids = [celula.get("id") for celula in nb.cells[:2]]
        if ids != [ID_INSTALACAO, ID_COLAB]:
            mensagens.append(
                f"{fonte.relative_to(pasta)}: as duas primeiras células devem ter ids "
                f"{[ID_INSTALACAO, ID_COLAB]} (encontrado: {ids}); corrija à mão."
            )
            continue
        mudou = False
        for celula in nb.cells[:2]:
            if celula.source != esperado[celula.id]:
                celula.source = esperado[celula.id]
                mudou = True
        if mudou:
            if so_verificar:
                mensagens.append(f"{fonte.relative_to(pasta)}: células do Colab desatualizadas.")
            else:
                fonte.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
                mensagens.append(f"{fonte.relative_to(pasta)}: células do Colab atualizadas.")
    return mensagens


# --------------------------------------------------------------------------- página do livro

PAGINA_EXERCICIOS = Path("book") / "exercicios.md"
INICIO_TABELA = "<!-- tabela gerada por exercises/publicar.py: não edite à mão -->"
FIM_TABELA = "<!-- fim da tabela gerada -->"


def _titulo(fonte: Path) -> str:
    """O título do enunciado (primeiro cabeçalho `# ...`), sem o prefixo "Exercício N —"."""
    for celula in nbformat.read(fonte, as_version=4).cells:
        if celula.cell_type == "markdown":
            for linha in celula.source.splitlines():
                if linha.startswith("# "):
                    return re.sub(r"^Exercício\s+\d+\s*[—-]\s*", "", linha[2:].strip())
    return fonte.stem


_TEMPO = re.compile(r"\*\*Tempo estimado para resolver:\*\* cerca de (\d+) minutos")


def tempo_estimado(fonte: Path) -> int:
    """Os minutos da linha "**Tempo estimado para resolver:** cerca de N minutos" do enunciado."""
    for celula in nbformat.read(fonte, as_version=4).cells:
        achado = _TEMPO.search(celula.source) if celula.cell_type == "markdown" else None
        if achado:
            return int(achado[1])
    raise ErroDePublicacao(
        f"{fonte.name}: o enunciado não tem a linha '**Tempo estimado para resolver:** cerca de N minutos'."
    )


def tabela_exercicios(pasta: Path = PASTA, raiz: Path = RAIZ) -> str:
    """A tabela de book/exercicios.md: um link do Colab por notebook da versão do aluno."""
    linhas = [INICIO_TABELA, "", "| # | Exercício | Tempo estimado | Abrir | No livro |", "|---|---|---|---|---|"]
    for numero, fonte in enumerate(notebooks_fonte(pasta), start=1):
        atividade = fonte.parent.name
        link = link_colab(f"exercises/release/{atividade}/{fonte.name}", raiz)
        linhas.append(
            f"| {numero} | {_titulo(fonte)} | {tempo_estimado(fonte)} min | [Abrir no Colab]({link}) | "
            f"[{atividade}](exercises/release/{atividade}/{fonte.name}) |"
        )
    return "\n".join(linhas + ["", FIM_TABELA])


def sincronizar_pagina(pasta: Path = PASTA, raiz: Path = RAIZ, so_verificar: bool = False) -> list[str]:
    """Atualiza a tabela entre os marcadores de book/exercicios.md."""
    pagina = raiz / PAGINA_EXERCICIOS
    if not pagina.exists():
        return [f"{PAGINA_EXERCICIOS} não existe"]
    texto = pagina.read_text(encoding="utf-8")
    padrao = re.compile(re.escape(INICIO_TABELA) + r".*?" + re.escape(FIM_TABELA), re.S)
    if not padrao.search(texto):
        return [f"{PAGINA_EXERCICIOS}: faltam os marcadores da tabela ({INICIO_TABELA!r} ... {FIM_TABELA!r})"]
    novo = padrao.sub(lambda _: tabela_exercicios(pasta, raiz), texto)
    if novo == texto:
        return []
    if so_verificar:
        return [f"{PAGINA_EXERCICIOS}: tabela de links desatualizada"]
    pagina.write_text(novo, encoding="utf-8")
    return [f"{PAGINA_EXERCICIOS}: tabela de links atualizada"]


# --------------------------------------------------------------------------- nbgrader

def ambiente_nbgrader() -> dict[str, str]:
    """Ambiente para rodar o nbgrader: a pasta `bin` deste Python no PATH (o nbgrader chama `alembic`)."""
    ambiente = dict(os.environ)
    pasta_bin = str(Path(sys.executable).parent)
    ambiente["PATH"] = pasta_bin + os.pathsep + ambiente.get("PATH", "")
    return ambiente


def rodar_nbgrader(argumentos: list[str], pasta: Path = PASTA, **kwargs) -> subprocess.CompletedProcess:
    """Roda `nbgrader <argumentos>` dentro da pasta do curso (onde está o nbgrader_config.py)."""
    executavel = Path(sys.executable).parent / "nbgrader"
    comando = [str(executavel)] if executavel.exists() else [sys.executable, "-m", "nbgrader"]
    return subprocess.run(
        comando + argumentos, cwd=pasta, env=ambiente_nbgrader(), text=True, capture_output=True, **kwargs
    )


def gerar_release(pasta: Path = PASTA) -> None:
    """`nbgrader generate_assignment "*" --force`: todas as atividades de source/ para release/."""
    resultado = rodar_nbgrader(["generate_assignment", "*", "--force"], pasta)
    if resultado.returncode != 0:
        raise ErroDePublicacao(
            f"nbgrader generate_assignment falhou (código {resultado.returncode}):\n"
            f"{resultado.stdout}\n{resultado.stderr}"
        )


def copiar_curso(pasta: Path, destino: Path) -> Path:
    """Copia o curso (fontes e configuração, sem entregas, notas nem release/) para `destino`."""
    shutil.copytree(pasta, destino, ignore=shutil.ignore_patterns(*_NAO_COPIAR))
    return destino


# --------------------------------------------------------------------------- conferência

def _resumo_celula(celula) -> dict:
    nbgrader = dict(celula.get("metadata", {}).get("nbgrader", {}))
    return {"tipo": celula.cell_type, "id": celula.get("id"), "fonte": celula.source, "nbgrader": nbgrader}


def comparar_notebooks(esperado: Path, atual: Path) -> list[str]:
    """Diferenças de células (tipo, id, conteúdo, metadados do nbgrader) entre dois notebooks."""
    if not atual.exists():
        return [f"{atual.name}: não existe"]
    a = nbformat.read(esperado, as_version=4)
    b = nbformat.read(atual, as_version=4)
    problemas = []
    if len(a.cells) != len(b.cells):
        problemas.append(f"{atual.name}: {len(b.cells)} células, esperadas {len(a.cells)}")
    for posicao, (ca, cb) in enumerate(zip(a.cells, b.cells)):
        ra, rb = _resumo_celula(ca), _resumo_celula(cb)
        for campo in ra:
            if ra[campo] != rb[campo]:
                problemas.append(f"{atual.name}, célula {posicao} ({ra['id']}): {campo} diferente")
    if a.metadata.get("kernelspec") != b.metadata.get("kernelspec"):
        problemas.append(f"{atual.name}: kernelspec diferente")
    return problemas


def conferir_release(pasta: Path = PASTA, raiz: Path = RAIZ) -> list[str]:
    """Gera a versão do aluno numa cópia temporária e compara com `release/`. Lista os problemas."""
    problemas = sincronizar_fontes(pasta, raiz, so_verificar=True)
    problemas += sincronizar_pagina(pasta, raiz, so_verificar=True)
    with tempfile.TemporaryDirectory(prefix="curso-") as temporaria:
        copia = copiar_curso(pasta, Path(temporaria) / "exercises")
        gerar_release(copia)
        gerados = sorted(p.relative_to(copia / "release") for p in (copia / "release").rglob("*") if p.is_file())
        publicados = sorted(
            p.relative_to(pasta / "release")
            for p in (pasta / "release").rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts
        )
        for relativo in sorted(set(publicados) - set(gerados)):
            problemas.append(f"release/{relativo}: sobrou (não vem de nenhuma fonte)")
        for relativo in gerados:
            gerado, publicado = copia / "release" / relativo, pasta / "release" / relativo
            if relativo.suffix == ".ipynb":
                problemas += [f"release/{relativo.parent}/{p}" for p in comparar_notebooks(gerado, publicado)]
            elif not publicado.exists() or gerado.read_bytes() != publicado.read_bytes():
                problemas.append(f"release/{relativo}: ausente ou diferente")
    return problemas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verificar", action="store_true", help="só confere; código 1 se algo estiver desatualizado")
    args = parser.parse_args(argv)
    try:
        if args.verificar:
            problemas = conferir_release()
            if problemas:
                print("Enunciados desatualizados (rode: python exercises/publicar.py):")
                print("\n".join(f"  - {p}" for p in problemas))
                return 1
            print("Fontes e release/ em dia.")
            return 0
        for mensagem in sincronizar_fontes() + sincronizar_pagina():
            print(mensagem)
        gerar_release()
    except ErroDePublicacao as erro:
        print(f"Erro: {erro}", file=sys.stderr)
        return 2
    print(f"Versão do aluno gerada em {PASTA / 'release'} ({len(notebooks_fonte())} notebooks).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
