"""Um processo de correção que fica vivo: usado por `corrigir.py`, um por núcleo.

Recebe, uma por linha na entrada padrão, entregas `aluno<TAB>atividade` e, para cada uma, roda o
`autograde` e o `generate_feedback` do nbgrader pela API (sem abrir um processo novo a cada
entrega: só importar o nbgrader leva segundos). Trabalha numa cópia própria do curso (`trabalho`),
com o seu próprio `gradebook.db`; `corrigir.py` copia as notas e os arquivos de cada entrega para a
turma quando este processo responde, e é o único que escreve no `gradebook.db` da turma.

Responde a cada entrega com uma linha JSON: `{"aluno", "atividade", "ok", "log"}`.

Uso (só por corrigir.py): python trabalhador_correcao.py PASTA_DO_CURSO PASTA_DE_TRABALHO '{"Execute": {...}}'
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    pasta, trabalho, extra = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log, temp_attrs
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(pasta)).load_config()
    config.CourseDirectory.root = str(trabalho)
    for secao, valores in extra.items():
        for chave, valor in valores.items():
            config[secao][chave] = valor
    config.HTMLExporter.template_name = "feedback"
    # Os conversores sem aplicação usam o logger "traitlets" (nível WARNING): as linhas INFO do
    # corretor ("... executado em 3.2 s") são o progresso que corrigir.py mostra.
    import logging

    from traitlets.log import get_logger

    get_logger().setLevel(logging.INFO)
    coursedir = CourseDirectory(config=config)
    print(json.dumps({"pronto": True}), flush=True)
    for linha in sys.stdin:
        aluno, atividade = linha.rstrip("\n").split("\t")
        partes, ok = [], True
        for classe in (Autograde, GenerateFeedback):
            with temp_attrs(coursedir, assignment_id=atividade, student_id=aluno):
                app = classe(coursedir=coursedir, config=Config(config))
                app.force = True
                if classe is Autograde:
                    app.create_student = True
                resultado = capture_log(app)
            partes += [resultado.get("log", ""), resultado.get("error", "")]
            ok &= bool(resultado.get("success"))
            if not ok:
                break
        print(json.dumps({"aluno": aluno, "atividade": atividade, "ok": ok, "log": "\n".join(p for p in partes if p)}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
