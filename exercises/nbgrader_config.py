# Configuração do nbgrader para os exercícios do curso.
# Rode os comandos do nbgrader A PARTIR DESTA PASTA (exercises/), com o ambiente do curso ativo:
#     cd exercises && nbgrader generate_assignment "*" --force
# O passo a passo completo está em book/professor/correcao.md.
import os
import sys

PASTA = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PASTA)  # para importar execucao_protegida.py, que está ao lado deste arquivo

from execucao_protegida import (  # noqa: E402
    preprocessadores_da_correcao,
    preprocessadores_da_devolutiva,
    preprocessadores_da_limpeza,
)

c = get_config()  # noqa: F821 (o nbgrader define get_config ao carregar este arquivo)

# Os kernels da correção herdam o ambiente do nbgrader. Os exercícios usam modelos minúsculos:
# com 1 thread eles rodam dezenas de vezes mais rápido do que disputando os núcleos entre threads
# (e vários alunos podem ser corrigidos em paralelo sem um atrapalhar o outro).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# ----------------------------------------------------------------------------- o curso
c.CourseDirectory.course_id = "finetuning-llms-classificacao"
c.CourseDirectory.root = PASTA  # source/, release/, submitted/, autograded/, feedback/ ficam aqui
# Cópias guardadas pelo reparo das entregas (verificar_entregas.py) não vão para autograded/ nem feedback/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.antes-do-reparo"]

# ----------------------------------------------------------------------------- enunciados
# O que substitui as soluções na versão do aluno.
c.ClearSolutions.code_stub = {"python": "# SEU CÓDIGO AQUI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ESCREVA SUA RESPOSTA AQUI"

# ----------------------------------------------------------------------------- correção automática
# Execução protegida (ver execucao_protegida.py): saída limitada já na chegada, kernel travado
# ou morto é reiniciado sem derrubar a correção do aluno, e há um prazo total por notebook.
c.Autograde.autograde_preprocessors = preprocessadores_da_correcao()

# Tempo máximo de cada célula: medido nas soluções (tempos_solucoes.json, gerado por
# `python corrigir.py --medir-tempos`), vezes 10, com piso de 10 s. Células sem medição (as que o
# aluno criou, atividades ainda não medidas) ficam com Execute.timeout.
c.ExecucaoProtegida.arquivo_tempos = os.path.join(PASTA, "tempos_solucoes.json")
c.ExecucaoProtegida.margem_tempo = 10.0
c.ExecucaoProtegida.piso_tempo = 10
c.Execute.timeout = 60
c.ExecutePreprocessor.timeout = 60  # o mesmo limite para `nbgrader validate`
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
c.ExecucaoProtegida.tempo_total_notebook = 300  # depois disso, 5 s por célula restante
c.ExecucaoProtegida.max_caracteres_saida = 20_000  # por célula; o excesso é descartado
# Avisos (warnings), barras de progresso (tqdm) e o aviso de saída truncada vão para stderr; o
# nbgrader daria zero a um teste correto só por isso. Eles são guardados como stdout: só erros
# de verdade (exceções, asserts que falham) tiram pontos.
c.ExecucaoProtegida.stderr_como_stdout = True

# Saída que sobra: no máximo 200 linhas por célula e tracebacks de até 60 linhas.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Células de teste que o aluno apagou voltam antes da execução (e valem nota normalmente).
# SobrescreverCelulas = OverwriteCells sem o aviso de checksum que dispara para todo aluno (cada
# teste com parte oculta difere da versão do aluno); quem editou uma célula travada é apontado
# por verificar_entregas.py, com o nome da célula.
c.OverwriteCells.add_missing_cells = True
c.SobrescreverCelulas.add_missing_cells = True
c.Autograde.sanitize_preprocessors = preprocessadores_da_limpeza()

# ----------------------------------------------------------------------------- devolutivas
# A devolutiva mostra qual teste falhou e a mensagem, não o código dos testes ocultos.
# Para mostrar tudo: `python corrigir.py --mostrar-testes-ocultos` (OcultarTestesOcultos.enabled=False).
c.GenerateFeedback.preprocessors = preprocessadores_da_devolutiva()
