# Configuração do nbgrader para os exercícios do curso.
# Rode os comandos do nbgrader A PARTIR DESTA PASTA (exercises/), com o ambiente do curso ativo:
#     cd exercises && nbgrader generate_assignment "*" --force
# O passo a passo completo está em book/professor/correcao.md.
import os
import sys

PASTA = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PASTA)  # para importar execucao_protegida.py, que está ao lado deste arquivo

from execucao_protegida import preprocessadores_da_correcao  # noqa: E402

c = get_config()  # noqa: F821 (o nbgrader define get_config ao carregar este arquivo)

# Os kernels da correção herdam o ambiente do nbgrader. Os exercícios usam modelos minúsculos:
# com 1 thread eles rodam dezenas de vezes mais rápido do que disputando os núcleos entre threads
# (e vários alunos podem ser corrigidos em paralelo sem um atrapalhar o outro).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# ----------------------------------------------------------------------------- o curso
c.CourseDirectory.course_id = "finetuning-llms-classificacao"
c.CourseDirectory.root = PASTA  # source/, release/, submitted/, autograded/, feedback/ ficam aqui

# ----------------------------------------------------------------------------- enunciados
# O que substitui as soluções na versão do aluno.
c.ClearSolutions.code_stub = {"python": "# SEU CÓDIGO AQUI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ESCREVA SUA RESPOSTA AQUI"

# ----------------------------------------------------------------------------- correção automática
# Execução protegida (ver execucao_protegida.py): saída limitada já na chegada, kernel travado
# ou morto é reiniciado sem derrubar a correção do aluno, e há um prazo total por notebook.
c.Autograde.autograde_preprocessors = preprocessadores_da_correcao()

# Tempo máximo de cada célula. Nossas soluções levam menos de 10 s por notebook inteiro.
c.Execute.timeout = 120
c.ExecutePreprocessor.timeout = 120  # o mesmo limite para `nbgrader validate`
c.Execute.interrupt_on_timeout = True  # interrompe a célula e segue para a próxima
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError",
    "evalue": "a célula passou do tempo limite e foi interrompida",
    "traceback": [
        "CellTimeoutError: a célula passou do tempo limite (Execute.timeout) e foi interrompida "
        "pelo corretor. Há um laço infinito ou uma conta longa demais?"
    ],
}
c.Execute.iopub_timeout = 5  # espera pelas últimas saídas depois da resposta do kernel
c.ExecucaoProtegida.tempo_total_notebook = 600  # depois disso, 5 s por célula restante
c.ExecucaoProtegida.max_caracteres_saida = 20_000  # por célula; o excesso é descartado

# Saída que sobra: no máximo 200 linhas por célula e tracebacks de até 60 linhas.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Células de teste que o aluno apagou voltam antes da execução (e valem nota normalmente).
c.OverwriteCells.add_missing_cells = True
