"""Corrige a turma inteira com um comando: conferência, autograde, devolutivas e planilha de notas.

Passos (todos a partir desta pasta, exercises/):
1. `verificar_entregas.py`: aponta notebooks ausentes, renomeados, com células apagadas ou sem
   os metadados do nbgrader (que dariam zero sem aviso);
2. `nbgrader autograde <atividade> --force`: roda os notebooks com os testes ocultos. Um aluno
   com erro, laço infinito ou saída gigante não para a correção dos outros (ver
   execucao_protegida.py e nbgrader_config.py);
3. `nbgrader generate_feedback <atividade> --force`: um HTML por notebook em feedback/;
4. `nbgrader export --to notas.csv`: a planilha de notas;
5. um resumo por aluno e atividade: nota, problemas da conferência, células que passaram do
   tempo, kernels reiniciados e entregas que o nbgrader não conseguiu corrigir.

Uso, com o ambiente do curso ativo:
    python corrigir.py                          # todas as atividades, todos os alunos
    python corrigir.py --atividade ex01_divisao # uma atividade
    python corrigir.py --aluno maria            # um aluno
    python corrigir.py --reparar                # recoloca metadados do nbgrader perdidos antes de corrigir
    python corrigir.py --apenas-feedback        # depois da correção manual no formgrader
    python corrigir.py --tempo-celula 30        # muda Execute.timeout (padrão do config: 120 s)

Sai com código 0 se tudo foi corrigido sem problemas, 1 caso contrário (veja o resumo).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

PASTA = Path(__file__).resolve().parent
sys.path.insert(0, str(PASTA))

from publicar import ambiente_nbgrader, rodar_nbgrader  # noqa: E402
from verificar_entregas import Entrega, atividades_da_fonte, reparar, tabela, verificar  # noqa: E402

ARQUIVO_NOTAS = "notas.csv"
ERROS_DE_EXECUCAO = {
    "CellTimeoutError": "célula(s) passaram do tempo",
    "DeadKernelError": "kernel morreu e foi reiniciado",
}


# Avisos do nbgrader/jupyter que não ajudam o professor, e as linhas INFO que valem mostrar.
RUIDO = ("SAWarning", "for notebook in", "return [x for x", "without encryption")
INFO_UTIL = ("[corretor]", "Autograding", ".html")


@dataclass
class Nota:
    aluno: str
    atividade: str
    nota: float | None = None
    maximo: float | None = None
    correcao_manual_pendente: bool = False
    observacoes: list[str] = field(default_factory=list)


def _passo(titulo: str) -> None:
    print(f"\n=== {titulo} ===", flush=True)


def _nbgrader(argumentos: list[str], pasta: Path) -> bool:
    """Roda o nbgrader mostrando a saída; devolve True se terminou sem erro."""
    resultado = rodar_nbgrader(argumentos, pasta)
    saida = (resultado.stdout + resultado.stderr).strip()
    linhas_relevantes = [
        linha for linha in saida.splitlines()
        if not any(ruido in linha for ruido in RUIDO)
        and ("| INFO]" not in linha or any(marca in linha for marca in INFO_UTIL))
    ]
    if linhas_relevantes:
        print("\n".join(linhas_relevantes), flush=True)
    if resultado.returncode != 0:
        print(f"[corrigir] nbgrader {argumentos[0]} terminou com código {resultado.returncode} "
              "(alguma entrega falhou; veja acima). Seguindo com as demais.", flush=True)
    return resultado.returncode == 0


def _garantir_gradebook(pasta: Path, atividades: list[str]) -> bool:
    """O autograde usa os testes guardados no gradebook.db por `generate_assignment`.

    Numa máquina nova (o gradebook.db não vai para o repositório) as atividades ainda não estão
    lá: gera cada uma que faltar numa pasta temporária, sem tocar em release/.
    """
    from nbgrader.api import Gradebook, MissingEntry

    faltando = []
    with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
        for atividade in atividades:
            try:
                gradebook.find_assignment(atividade)
            except MissingEntry:
                faltando.append(atividade)
    ok = True
    for atividade in faltando:
        print(f"[corrigir] {atividade} ainda não está no gradebook.db: registrando as fontes.", flush=True)
        temporaria = ".release-corrigir"
        ok &= _nbgrader(["generate_assignment", atividade, "--force",
                         f"--CourseDirectory.release_directory={temporaria}"], pasta)
        shutil.rmtree(pasta / temporaria, ignore_errors=True)
    return ok


def _erros_de_execucao(notebook: Path) -> list[str]:
    """Timeouts e kernels reiniciados registrados nas saídas de um notebook corrigido."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 (um arquivo estragado não pode parar o resumo)
        return ["notebook corrigido ilegível"]
    contagem: dict[str, int] = {}
    for celula in nb.cells:
        for saida in celula.get("outputs", []):
            if saida.get("output_type") == "error" and saida.get("ename") in ERROS_DE_EXECUCAO:
                contagem[saida["ename"]] = contagem.get(saida["ename"], 0) + 1
    return [f"{notebook.name}: {n} {ERROS_DE_EXECUCAO[nome]}" for nome, n in sorted(contagem.items())]


def notas(pasta: Path, entregas: list[Entrega]) -> list[Nota]:
    """Nota de cada (aluno, atividade) conferido, direto do gradebook, com as observações."""
    from nbgrader.api import Gradebook, MissingEntry

    problemas: dict[tuple[str, str], list[str]] = {}
    for entrega in entregas:
        problemas.setdefault((entrega.aluno, entrega.atividade), []).extend(
            f"{entrega.notebook}: {p}" for p in entrega.problemas
        )
    resultado = []
    with Gradebook(f"sqlite:///{pasta / 'gradebook.db'}") as gradebook:
        for (aluno, atividade), lista in problemas.items():
            nota = Nota(aluno, atividade, observacoes=list(lista))
            corrigida = pasta / "autograded" / aluno / atividade
            if (pasta / "submitted" / aluno / atividade).is_dir():
                if not corrigida.is_dir():
                    nota.observacoes.append("o nbgrader NÃO conseguiu corrigir esta entrega (veja o log acima)")
                for notebook in sorted(corrigida.glob("*.ipynb")):
                    nota.observacoes += _erros_de_execucao(notebook)
            try:
                submissao = gradebook.find_submission(atividade, aluno)
            except MissingEntry:
                pass
            else:
                if corrigida.is_dir():
                    nota.nota, nota.maximo = submissao.score, submissao.max_score
                    nota.correcao_manual_pendente = bool(submissao.needs_manual_grade)
            resultado.append(nota)
    return resultado


def tabela_de_notas(lista: list[Nota]) -> str:
    linhas = [("Aluno", "Atividade", "Nota", "Observações")]
    for nota in lista:
        valor = "-" if nota.nota is None else f"{nota.nota:g}/{nota.maximo:g}"
        if nota.correcao_manual_pendente:
            valor += " (falta correção manual)"
        observacoes = nota.observacoes or ["ok"]
        linhas.append((nota.aluno, nota.atividade, valor, observacoes[0]))
        linhas += [("", "", "", obs) for obs in observacoes[1:]]
    larguras = [max(len(linha[i]) for linha in linhas) for i in range(3)]
    texto = ["  ".join(linha[i].ljust(larguras[i]) for i in range(3)) + "  " + linha[3] for linha in linhas]
    texto.insert(1, "  ".join("-" * n for n in larguras) + "  " + "-" * 11)
    return "\n".join(texto)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Confere, corrige e exporta as notas da turma.")
    parser.add_argument("--atividade", default="*", help="id da atividade (glob; padrão: todas)")
    parser.add_argument("--aluno", default="*", help="id do aluno (glob; padrão: todos)")
    parser.add_argument("--pasta", type=Path, default=PASTA, help="pasta do curso (padrão: a deste script)")
    parser.add_argument("--tempo-celula", type=int, help="segundos por célula (Execute.timeout)")
    parser.add_argument("--reparar", action="store_true",
                        help="antes de conferir, recoloca metadados do nbgrader perdidos (verificar_entregas.py --reparar)")
    parser.add_argument("--apenas-feedback", action="store_true",
                        help="não roda o autograde: só devolutivas e notas (depois da correção manual)")
    args = parser.parse_args(argv)
    pasta = args.pasta.resolve()
    # O gradebook do nbgrader chama o programa `alembic`, que está na pasta bin deste Python:
    # assim o script funciona mesmo sem o ambiente ativado.
    os.environ["PATH"] = ambiente_nbgrader()["PATH"]

    atividades = [a for a in atividades_da_fonte(pasta) if fnmatch.fnmatch(a, args.atividade)]
    if not atividades:
        print(f"Nenhuma atividade em {pasta / 'source'} corresponde a {args.atividade!r}.")
        return 1

    _passo("1. Conferência das entregas")
    if args.reparar:
        acoes = reparar(pasta, args.atividade, args.aluno)
        print("\n".join(["Reparos:"] + [f"  - {acao}" for acao in acoes] + [""]) if acoes else "Nada a reparar.\n")
    entregas = verificar(pasta, args.atividade, args.aluno)
    print(tabela(entregas, so_problemas=True))
    if not entregas:
        return 1

    filtro_aluno = [] if args.aluno == "*" else ["--student", args.aluno]
    tudo_certo = all(entrega.ok for entrega in entregas)
    if not args.apenas_feedback:
        _passo("2. Correção automática (nbgrader autograde)")
        tudo_certo &= _garantir_gradebook(pasta, atividades)
        extra = [] if args.tempo_celula is None else [f"--Execute.timeout={args.tempo_celula}"]
        # Uma chamada só (o nbgrader aceita glob na atividade): um aluno com problema não para os outros.
        tudo_certo &= _nbgrader(["autograde", args.atividade, "--force", *filtro_aluno, *extra], pasta)

    _passo("3. Devolutivas (nbgrader generate_feedback)")
    tudo_certo &= _nbgrader(["generate_feedback", args.atividade, "--force", *filtro_aluno], pasta)

    _passo("4. Planilha de notas (nbgrader export)")
    tudo_certo &= _nbgrader(["export", "--to", ARQUIVO_NOTAS], pasta)
    print(f"Notas em {pasta / ARQUIVO_NOTAS}; devolutivas em {pasta / 'feedback'}.")

    _passo("5. Resumo")
    lista = notas(pasta, entregas)
    print(tabela_de_notas(lista))
    pendentes = sum(nota.correcao_manual_pendente for nota in lista)
    if pendentes:
        print(f"\n{pendentes} entrega(s) com resposta de correção manual: corrija no formgrader e depois rode "
              "`python corrigir.py --apenas-feedback`.")
    tudo_certo &= all(not nota.observacoes for nota in lista)
    print("\nTudo corrigido sem problemas." if tudo_certo else "\nHá problemas: veja as observações acima.")
    return 0 if tudo_certo else 1


if __name__ == "__main__":
    sys.exit(main())
