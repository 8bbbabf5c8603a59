"""Por que spam? Quanto cada token pesou na previsão do classificador.

Dois jeitos de medir, ambos escritos para serem lidos:

- **oclusão** (`occlusion_scores`): tiramos um token de cada vez e classificamos de novo; o
  peso do token é quanto a probabilidade de spam cai sem ele;
- **gradientes integrados** (`integrated_gradients`): andamos em linha reta de uma entrada
  "neutra" (embeddings zerados) até a mensagem e somamos os gradientes pelo caminho; a soma
  dos pesos dá exatamente a mudança da saída (completude), a menos do erro da integral numérica.

Os pesos saem na unidade da probabilidade de spam: positivo puxa para spam, negativo para não
spam. São correlações que o modelo aprendeu, não causas. Ensinado no Notebook 5, §5.7 e no
Notebook 6, §6.4.
"""

from __future__ import annotations

import codecs
import html
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .classifier import classification_logits
from .course import demo_tag
from .data import CLASS_NAMES
from .tokenizer import PAD_TOKEN_ID

__all__ = [
    "METHODS",
    "TARGETS",
    "spam_probabilities",
    "occlusion_scores",
    "embedding_gradients",
    "IntegratedGradients",
    "integrated_gradients",
    "gradient_x_input",
    "token_pieces",
    "Attribution",
    "explain",
    "ColoredTokens",
    "token_color",
    "explanation_html",
    "DEFAULT_MESSAGE",
    "explain_interactively",
]

# Os métodos de `explain` e o nome de cada um no que o aluno vê.
METHODS = {
    "occlusion": "oclusão",
    "integrated_gradients": "gradientes integrados",
    "gradient_x_input": "gradiente × entrada",
}
# O que os métodos de gradiente explicam: a probabilidade de spam (a mesma unidade da oclusão)
# ou o log da razão de chances, logit(spam) − logit(não spam).
TARGETS = ("probability", "log_odds")
DEFAULT_MESSAGE = "WINNER!! You have won a £1000 prize. Call 09061701461 now to claim, free entry!"


@torch.no_grad()
def spam_probabilities(model, input_batch: torch.Tensor, pad_token_id: int = PAD_TOKEN_ID) -> torch.Tensor:
    """p(spam) de cada linha de um lote (lendo o último token real, como o curso treina).

    Ensinado no Notebook 5, §5.7.
    """
    model.eval()
    logits = classification_logits(model, input_batch, "last_real", pad_token_id)
    return torch.softmax(logits, dim=-1)[:, 1]


@torch.no_grad()
def occlusion_scores(model, input_ids, replacement_id: int | None = None,
                     pad_token_id: int = PAD_TOKEN_ID) -> tuple[torch.Tensor, float]:
    """Oclusão: o peso do token i é p(spam | texto) − p(spam | texto sem o token i).

    `replacement_id=None` tira o token (o texto fica 1 token menor); um id troca o token por
    ele (por exemplo, o de um espaço). Todas as versões vão num lote só: uma passada do modelo.
    Devolve (pesos por token, p(spam) do texto inteiro). Ensinado no Notebook 5, §5.7.
    """
    ids = [int(i) for i in input_ids]
    if replacement_id is None and len(ids) < 2:
        raise ValueError("A oclusão precisa de pelo menos 2 tokens: sem o único token, não sobra texto.")
    if replacement_id == pad_token_id:
        raise ValueError("O token de preenchimento não serve de substituto: ele marca o fim do texto.")
    variants = [ids]  # linha 0: o texto inteiro
    for i in range(len(ids)):
        if replacement_id is None:  # sem o token i; o preenchimento à direita não muda o último token real
            variants.append(ids[:i] + ids[i + 1:] + [pad_token_id])
        else:
            variants.append(ids[:i] + [replacement_id] + ids[i + 1:])
    batch = torch.tensor(variants, device=model.tok_emb.weight.device)
    probabilities = spam_probabilities(model, batch, pad_token_id)
    return (probabilities[0] - probabilities[1:]).cpu(), float(probabilities[0])


def embedding_gradients(model, input_ids, embeddings: torch.Tensor, target: str = "probability",
                        pad_token_id: int = PAD_TOKEN_ID) -> tuple[torch.Tensor, torch.Tensor]:
    """Saída e gradiente em relação aos embeddings dos tokens, para várias versões deles.

    `embeddings` (versões, tokens, emb_dim) entram no lugar de `model.tok_emb(input_ids)` (um
    *hook* troca a saída da camada de embedding); as posições e o resto do modelo são os de
    sempre, e a previsão é lida no último token real (`classification_logits`).
    `target`: `"probability"` (p(spam)) ou `"log_odds"` (logit(spam) − logit(não spam)).
    Devolve (saída por versão, gradientes com a forma de `embeddings`). Ensinado no Notebook 5, §5.7.
    """
    if target not in TARGETS:
        raise ValueError(f"target deve ser um de {TARGETS}, não {target!r}.")
    model.eval()
    embeddings = embeddings.detach().requires_grad_(True)
    ids = torch.as_tensor(input_ids, device=embeddings.device).expand(embeddings.shape[0], -1)
    hook = model.tok_emb.register_forward_hook(lambda module, inputs, output: embeddings)
    try:
        with torch.enable_grad():
            logits = classification_logits(model, ids, "last_real", pad_token_id)
            values = torch.softmax(logits, -1)[:, 1] if target == "probability" else logits[:, 1] - logits[:, 0]
            (gradients,) = torch.autograd.grad(values.sum(), embeddings)  # as versões não se misturam
    finally:
        hook.remove()
    return values.detach(), gradients


class IntegratedGradients(NamedTuple):
    """O resultado de `integrated_gradients`. Ensinado no Notebook 5, §5.7."""
    scores: torch.Tensor  # um peso por token
    gap: float  # soma dos pesos − (f(texto) − f(referência)): o erro da integral numérica
    input_value: float  # f(texto)
    baseline_value: float  # f(referência)


def integrated_gradients(model, input_ids, steps: int = 64, baseline: str = "zeros", target: str = "probability",
                         batch_size: int = 33) -> IntegratedGradients:
    """Gradientes integrados, à mão, sobre os embeddings dos tokens.

    Caminho reto da referência x' (`"zeros"`, ou `"pad"`: o embedding do `<|endoftext|>` em todo
    token) até os embeddings x do texto: x' + α(x − x'), α = 0, 1/steps, ..., 1. O peso do token i
    é (x_i − x'_i) · (média dos gradientes no caminho), com a média pela regra do trapézio.
    Completude: a soma dos pesos é f(x) − f(x'), a menos de `gap`. Ensinado no Notebook 5, §5.7.
    """
    if steps < 1 or baseline not in ("zeros", "pad"):
        raise ValueError("Use steps >= 1 e baseline 'zeros' ou 'pad'.")
    ids = torch.as_tensor(list(input_ids), device=model.tok_emb.weight.device)
    with torch.no_grad():
        x = model.tok_emb(ids)  # (tokens, emb_dim)
        pad = model.tok_emb.weight.detach()[PAD_TOKEN_ID]  # o embedding do <|endoftext|>
        reference = torch.zeros_like(x) if baseline == "zeros" else pad.expand_as(x)
    alphas = torch.linspace(0.0, 1.0, steps + 1, device=x.device)
    path = reference + alphas[:, None, None] * (x - reference)  # (steps + 1, tokens, emb_dim)
    parts = [embedding_gradients(model, ids, chunk, target) for chunk in path.split(batch_size)]
    values = torch.cat([value for value, _ in parts])
    gradients = torch.cat([gradient for _, gradient in parts])
    mean_gradient = (gradients[:-1] + gradients[1:]).sum(dim=0) / (2 * steps)  # regra do trapézio
    scores = ((x - reference) * mean_gradient).sum(dim=-1)  # um número por token
    change = values[-1] - values[0]  # f(x) − f(x')
    return IntegratedGradients(scores.cpu(), float(scores.sum() - change), float(values[-1]), float(values[0]))


def gradient_x_input(model, input_ids, target: str = "probability") -> torch.Tensor:
    """Gradiente × entrada: x_i · ∂f/∂x_i somado nas dimensões do embedding do token i.

    Uma passada só (é o gradiente integrado com um passo e referência zero). Rápido, mas só
    olha a vizinhança de x: onde a saída já saturou, o gradiente é quase zero. Ensinado no
    Notebook 5, §5.7.
    """
    ids = torch.as_tensor(list(input_ids), device=model.tok_emb.weight.device)
    with torch.no_grad():
        x = model.tok_emb(ids)
    _, gradients = embedding_gradients(model, ids, x[None], target)
    return (x * gradients[0]).sum(dim=-1).cpu()


def token_pieces(input_ids, tokenizer) -> list[str]:
    """O texto de cada token. Um caractere de vários bytes (como "£" ou "ç") pode ser
    dividido entre tokens: ele aparece inteiro no token onde termina. Ensinado no Notebook 5, §5.7.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    single = getattr(tokenizer, "decode_single_token_bytes", None)
    pieces = []
    for token in input_ids:
        raw = single(int(token)) if single else tokenizer.decode([int(token)]).encode("utf-8")
        pieces.append(decoder.decode(raw))
    pieces[-1:] = [pieces[-1] + decoder.decode(b"", final=True)] if pieces else []
    return pieces


def _signed(value: float) -> str:
    return f"{value:+.3f}".replace(".", ",")


def _sign_word(value: float) -> str:
    return "spam" if value > 0 else "não spam" if value < 0 else "neutro"


@dataclass(frozen=True)
class ColoredTokens:
    """Tokens coloridos pelo peso: HTML no notebook e no livro, texto simples no resto.

    Ensinado no Notebook 5, §5.7.
    """
    html: str
    text: str

    def __repr__(self) -> str:  # texto simples (terminal, testes, text/plain)
        return self.text

    def _repr_html_(self) -> str:  # JupyterLab, Colab e o livro
        return self.html


# Cores escolhidas para texto preto: contraste WCAG >= 4,5:1 do branco até a cor cheia (tests/test_attribution.py).
# O quadro define o próprio fundo e cada token a sua cor: fica igual no tema claro e no escuro.
_WHITE, _SPAM_RGB, _NOT_SPAM_RGB = (255, 255, 255), (229, 115, 115), (100, 160, 240)
_BOX_CSS = ("margin:0.5em 0;padding:8px 10px;border:1px solid #d0d7de;border-radius:6px;background:#ffffff;"
            "color:#000000;font-family:sans-serif;font-size:15px;line-height:1.9")
_NOTE_CSS = "font-size:12px;color:#24292f;background:#ffffff"


def token_color(score: float, largest: float) -> str:
    """A cor de fundo de um token: vermelho puxa para spam, azul para não spam; quanto maior
    |peso| (relativo ao maior |peso| da mensagem), mais forte. Ensinado no Notebook 5, §5.7.
    """
    strength = min(abs(score) / largest, 1.0) if largest > 0 else 0.0
    full = _SPAM_RGB if score > 0 else _NOT_SPAM_RGB
    red, green, blue = (round(w + strength * (f - w)) for w, f in zip(_WHITE, full))
    return f"#{red:02x}{green:02x}{blue:02x}"


def explanation_html(tokens, scores, title: str = "Peso de cada token") -> ColoredTokens:
    """Os tokens com fundo colorido pelo peso (HTML com `title`/`aria-label`) e, em texto
    simples, cada token com o seu peso com sinal. Ensinado no Notebook 5, §5.7 e no Notebook 6, §6.4.
    """
    tokens, scores = [str(t) for t in tokens], [float(s) for s in scores]
    if len(tokens) != len(scores):
        raise ValueError(f"São {len(tokens)} tokens e {len(scores)} pesos: deveria haver um peso por token.")
    largest = max((abs(s) for s in scores), default=0.0)
    legend = ("vermelho: puxa para spam; azul: puxa para não spam; cor mais forte: peso maior "
              "(relativo ao maior desta mensagem)")
    swatches = "".join(f'<span style="background:{token_color(sign, 1.0)};color:#000000;padding:0 4px;'
                       f'margin-right:6px;border-radius:3px">{word}</span>'
                       for sign, word in ((1.0, "spam"), (-1.0, "não spam")))
    spans = "".join(
        f'<span title="{_signed(s)} ({_sign_word(s)})" style="background:{token_color(s, largest)};'
        f'color:#000000;border-radius:3px;margin-right:1px">{html.escape(t)}</span>'
        for t, s in zip(tokens, scores))
    page = (f'<div role="figure" aria-label="{html.escape(title)}. {legend}" style="{_BOX_CSS}">'
            f'<div style="{_NOTE_CSS}">{html.escape(title)}</div>'
            f'<div style="white-space:pre-wrap;overflow-wrap:anywhere">{spans}</div>'
            f'<div style="{_NOTE_CSS}">{swatches}{legend}</div></div>')
    lines = [f"  {_signed(s)}  {t!r}" for t, s in zip(tokens, scores)]
    return ColoredTokens(page, "\n".join([title, "  peso    token", *lines]))


@dataclass(frozen=True)
class Attribution:
    """A explicação de uma mensagem: tokens, pesos, p(spam) e o método. No notebook aparece
    colorida (`explanation_html`). Ensinado no Notebook 5, §5.7.
    """
    text: str
    tokens: tuple[str, ...]
    scores: tuple[float, ...]
    spam_probability: float
    method: str
    gap: float | None = None  # só nos gradientes integrados: o erro de completude
    note: str = ""  # por exemplo, " [DEMONSTRAÇÃO]"

    @property
    def label(self) -> str:
        """A classe prevista, com os nomes da aula (`"spam"` ou `"not spam"`), como `classify_review`."""
        return CLASS_NAMES[int(self.spam_probability > 0.5)]

    @property
    def title(self) -> str:
        probability = f"{self.spam_probability:.3f}".replace(".", ",")
        return f"Classe: {self.label} · p(spam) = {probability} · método: {METHODS[self.method]}{self.note}"

    def colored(self) -> ColoredTokens:
        return explanation_html(self.tokens, self.scores, self.title)

    def __repr__(self) -> str:
        return repr(self.colored())

    def _repr_html_(self) -> str:
        return self.colored()._repr_html_()


def explain(text: str, model, tokenizer, device=None, method: str = "occlusion", max_length: int | None = None,
            **options) -> Attribution:
    """Classifica `text` e explica a previsão com `method` (uma chave de `METHODS`).

    `max_length` trunca o texto como `classify_review` (a classe é a mesma que ela devolve).
    `options` vão para o método (`replacement_id`; `steps`, `baseline`, `target`). `device`, se
    dado, recebe o modelo. Ensinado no Notebook 5, §5.7 e no Notebook 6, §6.4.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("A mensagem a explicar está vazia.")
    if method not in METHODS:
        raise ValueError(f"method deve ser um de {tuple(METHODS)}, não {method!r}.")
    if device is not None:
        model.to(device)
    ids = tokenizer.encode(text, disallowed_special=())[: min(max_length or 10**9, model.pos_emb.num_embeddings)]
    gap = None
    if method == "occlusion":
        scores, probability = occlusion_scores(model, ids, **options)
    else:
        batch = torch.tensor([ids], device=model.tok_emb.weight.device)
        probability = float(spam_probabilities(model, batch)[0])
        if method == "integrated_gradients":
            scores, gap, _, _ = integrated_gradients(model, ids, **options)
        else:
            scores = gradient_x_input(model, ids, **options)
    return Attribution(text, tuple(token_pieces(ids, tokenizer)), tuple(scores.tolist()), probability, method,
                       gap, demo_tag())


def _live_widgets():
    """O módulo `ipywidgets`, se ele existe e há um kernel do Jupyter rodando; senão, `None`."""
    try:
        import ipywidgets
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return ipywidgets if shell is not None and getattr(shell, "kernel", None) is not None else None


def _show(obj) -> None:
    try:
        from IPython.display import display
    except ImportError:
        print(repr(obj))
    else:
        display(obj)


def explain_interactively(model, tokenizer, device=None, default_text: str = DEFAULT_MESSAGE,
                          method: str = "occlusion", max_length: int | None = None) -> None:
    """Uma caixa de texto e um botão: digite uma mensagem e veja a classe, p(spam) e os pesos.

    Primeiro mostra a explicação de `default_text` (é o que aparece no livro estático). Sem
    `ipywidgets` ou sem kernel, para aí; com eles, mostra também a caixa (JupyterLab e Colab).
    `max_length`: como em `classify_review`. Ensinado no Notebook 5, §5.7.
    """
    example = explain(default_text, model, tokenizer, device, method, max_length)
    _show(example)
    widgets = _live_widgets()
    if widgets is None:
        print("(Sem ipywidgets ou sem kernel interativo: acima, a explicação da mensagem padrão.)")
        return
    text = widgets.Text(value=default_text, description="Mensagem:", layout=widgets.Layout(width="70%"))
    button = widgets.Button(description="Explicar", button_style="primary", tooltip="Classificar e explicar")
    output = widgets.Output()

    def on_click(_button) -> None:
        output.clear_output()
        with output:
            try:
                _show(explain(text.value, model, tokenizer, None, method, max_length))
            except ValueError as error:  # mensagem vazia, por exemplo
                print(f"Erro: {error}")

    button.on_click(on_click)
    box = widgets.VBox([widgets.HBox([text, button]), output])
    box.add_class("explicacao-spam")  # o teste do navegador acha a caixa por esta classe
    _show(box)
