"""Confere as entregas dos alunos antes da correção, para nenhum problema virar um zero silencioso.

O `nbgrader autograde` encontra os testes e as respostas pelos metadados que ele mesmo grava em
cada célula (`grade_id`). Se o aluno apaga uma célula, troca o tipo dela, duplica células ou salva
o notebook com uma ferramenta que descarta metadados, a correção roda sem erro e simplesmente
dá zero. Este script compara cada notebook entregue com a fonte do professor e aponta:

- notebook não entregue (e arquivos com outro nome, como "Cópia de ex01_divisao.ipynb");
- arquivo que não é um notebook válido, ou grande demais;
- metadados do nbgrader removidos (de todas as células ou de algumas);
- células de teste, de resposta ou somente leitura apagadas;
- células com o tipo trocado (código <-> texto);
- células do nbgrader duplicadas (copiar e colar uma célula copia os metadados);
- metadados do nbgrader alterados (uma resposta marcada como teste, pontos trocados...), que
  fariam o nbgrader desistir do aluno ou corrigir a célula errada;
- células travadas (somente leitura e testes) editadas pelo aluno: a correção usa a versão
  original, mas o professor fica sabendo quem editou o quê;
- kernel diferente do da fonte (`python3`).

Uso, dentro de exercises/ e com o ambiente do curso ativo:
    python verificar_entregas.py                       # todas as atividades e alunos
    python verificar_entregas.py --atividade ex01_divisao --aluno maria
    python verificar_entregas.py --so-problemas        # esconde as entregas sem problema
    python verificar_entregas.py --reparar             # recoloca metadados perdidos e confere de novo

Sai com código 0 se estiver tudo certo e 1 se houver algum problema.

O `--reparar` copia os metadados do nbgrader da versão do aluno (`release/`) para as células que
os perderam ou que os tiveram alterados, achando cada célula pelo id, pelo conteúdo (testes e
células travadas) ou pela posição (respostas), e copia um notebook renomeado ("Cópia de ...")
para o nome certo; o arquivo original fica ao lado, com o sufixo `.antes-do-reparo`. O
`corrigir.py` faz esse reparo sozinho antes de corrigir.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

PASTA = Path(__file__).resolve().parent
TAMANHO_MAXIMO_MB = 20  # notebooks dos exercícios têm poucos KB; mais que isso é saída gigante

__all__ = ["Entrega", "verificar", "tabela", "reparar", "reparar_notebook", "main", "IMPEDE_CORRECAO"]

# Problemas que nem o reparo resolve: a entrega não vai para o nbgrader (o resumo diz por quê).
IMPEDE_CORRECAO = ("não é um notebook válido", "arquivo de ", "notebook não entregue", "atividade não entregue",
                   "notebook não encontrado")
# Chaves dos metadados do nbgrader que decidem o papel da célula (e que o aluno não deve mudar).
CHAVES_DO_PAPEL = ("grade", "solution", "locked", "task", "points")


@dataclass
class Entrega:
    """Uma linha do relatório: um notebook esperado de um aluno numa atividade."""

    aluno: str
    atividade: str
    notebook: str
    problemas: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problemas


# --------------------------------------------------------------------------- fonte do professor

@dataclass
class _CelulaFonte:
    grade_id: str
    id_celula: str | None
    tipo: str  # "code" ou "markdown"
    papel: str  # descrição para o relatório
    nbgrader: dict = field(default_factory=dict)
    originais: tuple[str, ...] = ()  # conteúdos aceitos numa célula travada (versão do aluno e fonte)


def _papel(nbgrader: dict) -> str:
    if nbgrader.get("grade") and nbgrader.get("solution"):
        return "resposta com correção manual"
    if nbgrader.get("grade"):
        return "teste"
    if nbgrader.get("solution"):
        return "resposta"
    if nbgrader.get("task"):
        return "tarefa"
    return "somente leitura"


def _sem_ocultos(fonte: str) -> str:
    """O que o nbgrader deixa de um teste na versão do aluno: tudo menos o trecho oculto."""
    linhas, dentro = [], False
    for linha in fonte.splitlines():
        if "BEGIN HIDDEN TESTS" in linha:
            dentro = True
        elif "END HIDDEN TESTS" in linha:
            dentro = False
        elif not dentro:
            linhas.append(linha)
    return "\n".join(linhas)


def _normalizar(fonte: str) -> str:
    """Conteúdo comparável entre editores: sem espaços no fim das linhas nem linhas vazias no fim."""
    return "\n".join(linha.rstrip() for linha in fonte.replace("\r\n", "\n").splitlines()).strip("\n")


def _release_de(fonte: Path) -> Path | None:
    """A versão do aluno (`release/<atividade>/<notebook>`) correspondente a uma fonte, se existir."""
    release = fonte.parents[2] / "release" / fonte.parent.name / fonte.name
    return release if release.is_file() else None


def _celulas_fonte(fonte: Path) -> tuple[list[_CelulaFonte], str | None]:
    nb = nbformat.read(fonte, as_version=4)
    release = _release_de(fonte)
    na_release = {}
    if release is not None:
        for celula in nbformat.read(release, as_version=4).cells:
            grade_id = celula.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                na_release[grade_id] = celula.source
    celulas = []
    for celula in nb.cells:
        nbgrader = celula.get("metadata", {}).get("nbgrader")
        if nbgrader and nbgrader.get("grade_id"):
            celulas.append(_CelulaFonte(
                nbgrader["grade_id"], celula.get("id"), celula.cell_type, _papel(nbgrader), dict(nbgrader),
                tuple({_normalizar(x) for x in (na_release.get(nbgrader["grade_id"], _sem_ocultos(celula.source)),
                                                celula.source)}),
            ))
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    return celulas, kernel


def atividades_da_fonte(pasta: Path = PASTA) -> dict[str, list[Path]]:
    """`{atividade: [notebooks da fonte]}` a partir de `source/`."""
    resultado: dict[str, list[Path]] = {}
    for notebook in sorted((pasta / "source").glob("*/*.ipynb")):
        if ".ipynb_checkpoints" not in notebook.parts:
            resultado.setdefault(notebook.parent.name, []).append(notebook)
    return resultado


# --------------------------------------------------------------------------- um notebook entregue

def _tipo(tipo: str) -> str:
    return {"code": "código", "markdown": "texto", "raw": "texto bruto"}.get(tipo, tipo)


def verificar_notebook(entregue: Path, fonte: Path) -> list[str]:
    """Os problemas de um notebook entregue, comparado com a fonte do professor."""
    tamanho_mb = entregue.stat().st_size / 1e6
    if tamanho_mb > TAMANHO_MAXIMO_MB:
        return [f"arquivo de {tamanho_mb:.0f} MB (saídas enormes?): limpe as saídas e reenvie"]
    try:
        nb = nbformat.read(entregue, as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError, ValueError, KeyError) as erro:
        return [f"não é um notebook válido ({type(erro).__name__}): peça o arquivo de novo"]

    celulas_fonte, kernel_fonte = _celulas_fonte(fonte)
    problemas = []

    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel_fonte and kernel != kernel_fonte:
        problemas.append(
            f"kernel {kernel!r} em vez de {kernel_fonte!r} (a correção usa {kernel_fonte!r} mesmo assim)"
            if kernel
            else f"sem kernelspec nos metadados (a correção usa {kernel_fonte!r})"
        )

    por_grade_id: dict[str, list] = {}
    for celula in nb.cells:
        grade_id = celula.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            por_grade_id.setdefault(grade_id, []).append(celula)
    ids_celulas = {celula.get("id"): celula for celula in nb.cells if celula.get("id")}

    if celulas_fonte and not por_grade_id:
        problemas.append(
            "metadados do nbgrader removidos de TODAS as células (notebook salvo por uma ferramenta "
            "que descarta metadados?): a correção automática daria zero"
        )
        return problemas

    for celula_fonte in celulas_fonte:
        nome = f"{celula_fonte.papel} '{celula_fonte.grade_id}'"
        encontradas = por_grade_id.get(celula_fonte.grade_id, [])
        if not encontradas:
            mesma = ids_celulas.get(celula_fonte.id_celula)
            if mesma is not None and "nbgrader" not in mesma.get("metadata", {}):
                problemas.append(f"célula de {nome} perdeu os metadados do nbgrader")
            else:
                problemas.append(f"célula de {nome} não encontrada (apagada, ou sem os metadados do nbgrader)")
            continue
        if len(encontradas) > 1:
            problemas.append(
                f"célula de {nome} aparece {len(encontradas)} vezes (copiar e colar copia os metadados; "
                "só uma delas é corrigida)"
            )
        tipos = {celula.cell_type for celula in encontradas}
        if tipos != {celula_fonte.tipo}:
            mudou = ", ".join(_tipo(t) for t in sorted(tipos))
            problemas.append(f"célula de {nome} mudou de {_tipo(celula_fonte.tipo)} para {mudou}")
        recebida = encontradas[0].metadata["nbgrader"]
        trocas = [
            f"{chave}={recebida.get(chave)!r} (era {celula_fonte.nbgrader.get(chave)!r})"
            for chave in CHAVES_DO_PAPEL
            if chave in celula_fonte.nbgrader and recebida.get(chave) != celula_fonte.nbgrader.get(chave)
        ]
        if trocas:
            problemas.append(f"célula de {nome}: metadados do nbgrader alterados ({', '.join(trocas)})")
        if celula_fonte.nbgrader.get("locked") and not celula_fonte.nbgrader.get("solution"):
            if any(_normalizar(c.source) not in celula_fonte.originais for c in encontradas):
                problemas.append(
                    f"ADULTERAÇÃO: célula de {nome} (travada) foi editada pelo aluno; a correção usa a "
                    "versão original (a edição não muda a nota)"
                )
    conhecidos = {celula.grade_id for celula in celulas_fonte}
    for grade_id in sorted(set(por_grade_id) - conhecidos):
        problemas.append(f"célula com metadados do nbgrader de uma célula que não existe na fonte ('{grade_id}')")
    return problemas


# --------------------------------------------------------------------------- reparo

SUFIXO_ORIGINAL = ".antes-do-reparo"


def _e_nbgrader(celula) -> bool:
    return bool(celula.get("metadata", {}).get("nbgrader", {}).get("grade_id"))


def reparar_notebook(entregue: Path, release: Path) -> list[str]:
    """Devolve às células os metadados do nbgrader perdidos, copiando-os da versão do aluno.

    Primeiro cada célula da versão do aluno (`release`) é localizada na entrega: pelo
    `grade_id` (se os metadados estão lá), pelo id da célula (nbformat 4.5, que muitas
    ferramentas preservam) ou pelo conteúdo idêntico (enunciados, testes, células travadas).
    Cada célula do nbgrader que continua sem par (normalmente uma resposta, que o aluno
    editou) fica com a célula livre logo antes da célula seguinte já localizada, ou logo depois
    da anterior. Só células sem metadados do nbgrader e do mesmo tipo são usadas. O arquivo
    original é guardado ao lado, com o sufixo `.antes-do-reparo`. Devolve o que foi feito.
    """
    nb = nbformat.read(entregue, as_version=4)
    referencia = nbformat.read(release, as_version=4).cells
    livres = {i for i, c in enumerate(nb.cells) if not _e_nbgrader(c)}
    local: dict[int, int] = {}  # posição na referência -> posição na entrega
    como: dict[int, str] = {}
    por_grade_id = {c.metadata.nbgrader.grade_id: i for i, c in enumerate(nb.cells) if _e_nbgrader(c)}

    def achar(p, i, motivo=None):
        local[p] = i
        livres.discard(i)
        if motivo:
            como[p] = motivo

    for p, ref in enumerate(referencia):
        if _e_nbgrader(ref) and ref.metadata.nbgrader.grade_id in por_grade_id:
            achar(p, por_grade_id[ref.metadata.nbgrader.grade_id])
    por_id = {nb.cells[i].get("id"): i for i in livres if nb.cells[i].get("id")}
    for p, ref in enumerate(referencia):
        i = por_id.get(ref.get("id"))
        if p not in local and i in livres and nb.cells[i].cell_type == ref.cell_type:
            achar(p, i, "mesmo id de célula")
    for p, ref in enumerate(referencia):
        if p in local:
            continue
        iguais = [i for i in sorted(livres)
                  if nb.cells[i].cell_type == ref.cell_type and nb.cells[i].source == ref.source]
        if len(iguais) == 1:
            achar(p, iguais[0], "mesmo conteúdo")
    for p, ref in enumerate(referencia):
        if p in local or not _e_nbgrader(ref):
            continue
        seguinte, anterior = local.get(p + 1), local.get(p - 1)
        for candidata, vizinha in ((None if seguinte is None else seguinte - 1, p + 1),
                                   (None if anterior is None else anterior + 1, p - 1)):
            if candidata in livres and nb.cells[candidata].cell_type == ref.cell_type:
                lado = "antes" if vizinha > p else "depois"
                achar(p, candidata, f"posição {lado} da célula {vizinha} da versão do aluno")
                break

    acoes = []
    for p, i in sorted(local.items()):
        ref = referencia[p]
        if not _e_nbgrader(ref):
            continue
        celula = nb.cells[i]
        grade_id = ref.metadata.nbgrader.grade_id
        if _e_nbgrader(celula):
            recebida = celula.metadata.nbgrader
            trocas = [c for c in CHAVES_DO_PAPEL if recebida.get(c) != ref.metadata.nbgrader.get(c)]
            if not trocas:
                continue
            motivo = f"metadados alterados ({', '.join(trocas)}) voltaram aos da versão do aluno"
        else:
            motivo = f"metadados recolocados ({como[p]})"
        celula.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
        for chave in ("deletable", "editable"):
            if chave in ref.metadata:
                celula.metadata[chave] = ref.metadata[chave]
        acoes.append(f"{grade_id}: {motivo}")
    conhecidos = {c.metadata.nbgrader.grade_id for c in referencia if _e_nbgrader(c)}
    for celula in nb.cells:
        if _e_nbgrader(celula) and celula.metadata.nbgrader.grade_id not in conhecidos:
            acoes.append(f"{celula.metadata.nbgrader.grade_id}: metadados de uma célula que não existe retirados")
            celula.metadata.pop("nbgrader")
    if not acoes:
        return []
    original = entregue.with_name(entregue.name + SUFIXO_ORIGINAL)
    if not original.exists():
        shutil.copy2(entregue, original)
    nbformat.write(nb, entregue)
    return acoes


def _renomeado(pasta_entrega: Path, nome: str, esperados: set[str]) -> Path | None:
    """O único outro .ipynb da entrega ("Cópia de X.ipynb", "X (1).ipynb"), se houver só um."""
    outros = [p for p in pasta_entrega.glob("*.ipynb") if p.name not in esperados]
    return outros[0] if len(outros) == 1 else None


def reparar(pasta: Path = PASTA, atividade: str = "*", aluno: str = "*") -> list[str]:
    """Repara as entregas da turma: metadados do nbgrader perdidos ou alterados e notebook renomeado.

    Devolve as ações feitas (o original fica guardado ao lado, com o sufixo `.antes-do-reparo`).
    """
    pasta = Path(pasta)
    acoes = []
    fontes = atividades_da_fonte(pasta)
    for entrega in verificar(pasta, atividade, aluno):
        pasta_entrega = pasta / "submitted" / entrega.aluno / entrega.atividade
        if any(p.startswith("notebook não encontrado") for p in entrega.problemas):
            outro = _renomeado(pasta_entrega, entrega.notebook, {f.name for f in fontes.get(entrega.atividade, [])})
            if outro is not None:
                shutil.copy2(outro, pasta_entrega / entrega.notebook)
                acoes.append(f"{entrega.aluno}/{entrega.atividade}: {outro.name!r} copiado para {entrega.notebook!r}")
                entrega.problemas = verificar_notebook(pasta_entrega / entrega.notebook,
                                                       pasta / "source" / entrega.atividade / entrega.notebook)
        if not any("metadados" in problema for problema in entrega.problemas):
            continue
        entregue = pasta_entrega / entrega.notebook
        release = pasta / "release" / entrega.atividade / entrega.notebook
        if not release.exists():
            acoes.append(f"{entrega.aluno}/{entrega.atividade}: sem {release} para copiar os metadados")
            continue
        prefixo = f"{entrega.aluno}/{entrega.atividade}/{entrega.notebook}"
        acoes += [f"{prefixo}: {a}" for a in reparar_notebook(entregue, release)]
    return acoes


# --------------------------------------------------------------------------- a turma

def verificar(pasta: Path = PASTA, atividade: str = "*", aluno: str = "*") -> list[Entrega]:
    """Confere `submitted/<aluno>/<atividade>/` contra `source/<atividade>/` (globs permitidos)."""
    pasta = Path(pasta)
    fontes = {
        nome: notebooks for nome, notebooks in atividades_da_fonte(pasta).items() if fnmatch.fnmatch(nome, atividade)
    }
    entregues = pasta / "submitted"
    alunos = sorted(
        p.name for p in entregues.iterdir() if p.is_dir() and fnmatch.fnmatch(p.name, aluno)
    ) if entregues.is_dir() else []
    resultado = []
    for nome_aluno in alunos:
        for nome_atividade, notebooks in fontes.items():
            pasta_entrega = entregues / nome_aluno / nome_atividade
            for fonte in notebooks:
                entrega = Entrega(nome_aluno, nome_atividade, fonte.name)
                resultado.append(entrega)
                if not pasta_entrega.is_dir():
                    entrega.problemas.append("atividade não entregue (pasta ausente)")
                    continue
                arquivo = pasta_entrega / fonte.name
                if arquivo.is_file():
                    entrega.problemas += verificar_notebook(arquivo, fonte)
                    continue
                outros = sorted(
                    p.name for p in pasta_entrega.glob("*.ipynb") if p.name not in {f.name for f in notebooks}
                )
                if outros:
                    entrega.problemas.append(
                        f"notebook não encontrado; há {', '.join(repr(o) for o in outros)}: "
                        f"renomeie para {fonte.name!r}"
                    )
                else:
                    entrega.problemas.append("notebook não entregue")
    return resultado


def tabela(entregas: list[Entrega], so_problemas: bool = False) -> str:
    """O relatório em texto: uma linha por problema (ou 'ok'), com colunas alinhadas."""
    cabecalho = ("Aluno", "Atividade", "Notebook", "Situação")
    linhas = []
    for entrega in entregas:
        if entrega.ok and not so_problemas:
            linhas.append((entrega.aluno, entrega.atividade, entrega.notebook, "ok"))
        for problema in entrega.problemas:
            linhas.append((entrega.aluno, entrega.atividade, entrega.notebook, "PROBLEMA: " + problema))
    larguras = [max([len(cabecalho[i])] + [len(linha[i]) for linha in linhas]) for i in range(3)]

    def formatar(linha):
        return "  ".join(str(valor).ljust(larguras[i]) for i, valor in enumerate(linha[:3])) + "  " + linha[3]

    partes = [formatar(cabecalho), formatar(tuple("-" * n for n in larguras) + ("-" * 8,))]
    partes += [formatar(linha) for linha in linhas]
    com_problema = sum(not entrega.ok for entrega in entregas)
    alunos = len({entrega.aluno for entrega in entregas})
    partes.append("")
    partes.append(
        f"{len(entregas)} notebooks esperados de {alunos} aluno(s); "
        f"{com_problema} com problema(s)." if entregas else "Nenhuma entrega encontrada em submitted/."
    )
    return "\n".join(partes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Confere as entregas (submitted/) contra as fontes (source/) antes da correção."
    )
    parser.add_argument("--atividade", default="*", help="id da atividade (aceita glob; padrão: todas)")
    parser.add_argument("--aluno", default="*", help="id do aluno (aceita glob; padrão: todos)")
    parser.add_argument("--pasta", type=Path, default=PASTA, help="pasta do curso (padrão: a deste script)")
    parser.add_argument("--so-problemas", action="store_true", help="mostra só as entregas com problema")
    parser.add_argument(
        "--reparar", action="store_true",
        help="recoloca os metadados do nbgrader perdidos, copiando-os de release/ (guarda o original)",
    )
    args = parser.parse_args(argv)
    if args.reparar:
        acoes = reparar(args.pasta, args.atividade, args.aluno)
        print("\n".join(["Reparos:"] + [f"  - {acao}" for acao in acoes]) if acoes else "Nada a reparar.")
        print()
    entregas = verificar(args.pasta, args.atividade, args.aluno)
    print(tabela(entregas, so_problemas=args.so_problemas))
    return 0 if entregas and all(entrega.ok for entrega in entregas) else 1


if __name__ == "__main__":
    sys.exit(main())
