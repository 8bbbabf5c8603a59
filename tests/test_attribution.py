"""Por que spam? Oclusão, gradientes integrados e a explicação colorida (llmdefinitions/attribution.py).

Modelos pequenos e aleatórios (2 blocos, emb_dim 32) com a cabeça de 2 classes do curso.
Tolerâncias: oclusão = laço ingênuo até 1e-6; completude dos gradientes integrados com 64
passos: |gap| <= 1e-2 * |f(x) - f(referência)|.
"""

from __future__ import annotations

import re
import sys

import pytest
import torch

from llmdefinitions import GPTModel, classification_logits, classify_review, gpt2_config
from llmdefinitions import attribution as A
from llmdefinitions.classifier import add_classification_head
from llmdefinitions.tokenizer import PAD_TOKEN_ID

MESSAGES = (
    "WINNER!! You have won a £1000 prize. Call 09061701461 now, free entry!",
    "Oi, você vem jantar hoje? Chego às 19h.",
    "Ok lar... Joking wif u oni...",
)


def _small_classifier(seed: int = 0, device: str = "cpu"):
    torch.manual_seed(seed)
    config = {**gpt2_config(), "emb_dim": 32, "n_heads": 4, "n_layers": 2, "context_length": 64, "drop_rate": 0.0}
    model = GPTModel(config)
    with torch.no_grad():  # pesos maiores que os da inicialização: as diferenças aparecem
        for param in model.parameters():
            param.mul_(1.5)
    return add_classification_head(model, seed=seed).to(device).eval()


@pytest.fixture(scope="module")
def model():
    return _small_classifier()


def _p_spam(model, ids) -> float:
    with torch.no_grad():
        logits = classification_logits(model, torch.tensor([ids]))
    return float(torch.softmax(logits, dim=-1)[0, 1])


@pytest.mark.parametrize("replacement_id", [None, 220])  # 220 = " " no GPT-2
def test_occlusion_equals_a_brute_force_loop(model, tokenizer, replacement_id):
    for text in MESSAGES:
        ids = tokenizer.encode(text)
        scores, full = A.occlusion_scores(model, ids, replacement_id)
        assert full == pytest.approx(_p_spam(model, ids), abs=1e-6)
        for i in range(len(ids)):  # classifica cada texto encurtado sozinho, sem padding
            shortened = ids[:i] + ids[i + 1:] if replacement_id is None else ids[:i] + [replacement_id] + ids[i + 1:]
            assert float(scores[i]) == pytest.approx(_p_spam(model, ids) - _p_spam(model, shortened), abs=1e-6)


def test_occlusion_rejects_what_it_cannot_do(model):
    with pytest.raises(ValueError, match="pelo menos 2 tokens"):
        A.occlusion_scores(model, [42])
    with pytest.raises(ValueError, match="preenchimento"):
        A.occlusion_scores(model, [42, 43], replacement_id=PAD_TOKEN_ID)


@pytest.mark.parametrize("baseline", ["zeros", "pad"])
@pytest.mark.parametrize("target", A.TARGETS)
def test_integrated_gradients_are_complete(model, tokenizer, baseline, target):
    for text in MESSAGES:
        ids = tokenizer.encode(text)
        result = A.integrated_gradients(model, ids, steps=64, baseline=baseline, target=target)
        change = result.input_value - result.baseline_value
        assert result.scores.shape == (len(ids),)
        assert abs(change) > 1e-4  # o teste só vale se a saída muda entre a referência e o texto
        assert abs(result.gap) <= 1e-2 * abs(change)
        assert float(result.scores.sum()) - change == pytest.approx(result.gap, abs=1e-5)
        if target == "probability":
            assert result.input_value == pytest.approx(_p_spam(model, ids), abs=1e-5)


def test_more_steps_shrink_the_gap(model, tokenizer):
    ids = tokenizer.encode(MESSAGES[0])
    coarse, fine = (A.integrated_gradients(model, ids, steps=s) for s in (4, 128))
    assert abs(fine.gap) < abs(coarse.gap)


def test_gradient_x_input_matches_autograd_through_the_model_parts(model, tokenizer):
    ids = torch.tensor(tokenizer.encode(MESSAGES[1]))
    x = model.tok_emb(ids).detach().requires_grad_(True)
    hidden = model.trf_blocks(x[None] + model.pos_emb(torch.arange(len(ids)))[None])  # sem o hook do pacote
    p_spam = torch.softmax(model.out_head(model.final_norm(hidden))[0, -1], dim=-1)[1]
    (gradient,) = torch.autograd.grad(p_spam, x)
    torch.testing.assert_close(A.gradient_x_input(model, ids), (x * gradient).sum(-1).detach(),
                               atol=1e-6, rtol=1e-4)


def test_explain_keeps_the_text_and_the_class(model, tokenizer):
    for method in A.METHODS:
        for text in MESSAGES:
            result = A.explain(text, model, tokenizer, method=method)
            assert "".join(result.tokens) == text  # "£", "ê", "à": cada caractere num token só
            assert len(result.scores) == len(result.tokens)
            assert result.spam_probability == pytest.approx(_p_spam(model, tokenizer.encode(text)), abs=1e-6)
            assert result.label == ("spam" if result.spam_probability > 0.5 else "not spam")
            assert (result.gap is not None) == (method == "integrated_gradients")
    with pytest.raises(ValueError, match="vazia"):
        A.explain("   ", model, tokenizer)
    with pytest.raises(ValueError, match="method"):
        A.explain("oi", model, tokenizer, method="lime")


def test_explain_gives_the_class_of_classify_review(model, tokenizer):
    for text in MESSAGES:
        for max_length in (None, 5):
            result = A.explain(text, model, tokenizer, method="gradient_x_input", max_length=max_length)
            assert result.label == classify_review(text, model, tokenizer, "cpu", max_length=max_length)
            assert len(result.tokens) == (max_length or len(tokenizer.encode(text)))


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_html_escapes_colours_both_signs_and_is_readable():
    tokens = ["<script>alert(1)</script>", ' & "x"', " grátis", " ok"]
    shown = A.explanation_html(tokens, [0.4, -0.2, 0.0, -0.4], title="Título <b>")
    page = shown._repr_html_()
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "&amp;" in page and "&quot;x&quot;" in page
    assert A.token_color(0.4, 0.4) in page and A.token_color(-0.4, 0.4) in page  # vermelho e azul cheios
    assert A.token_color(0.4, 0.4) != A.token_color(-0.4, 0.4)
    assert 'aria-label="Título &lt;b&gt;.' in page and 'role="figure"' in page
    spans = re.findall(r'style="background:(#[0-9a-f]{6});color:(#[0-9a-f]{6})', page)
    assert len(spans) >= len(tokens)  # cada token define o fundo E a cor do texto
    for strength in [i / 10 for i in range(11)]:  # do branco até a cor cheia, nos dois sinais
        for sign in (1, -1):
            assert _contrast(A.token_color(sign * strength, 1.0), "#000000") >= 4.5
    text = repr(shown)  # o texto simples: cada token com o peso com sinal
    assert "+0,400" in text and "-0,200" in text and "'<script>alert(1)</script>'" in text
    with pytest.raises(ValueError, match="um peso por token"):
        A.explanation_html(["a"], [0.1, 0.2])


def test_all_zero_scores_stay_white():
    page = A.explanation_html(["a", "b"], [0.0, 0.0])._repr_html_()
    assert page.count("background:#ffffff;color:#000000") >= 2


def test_interactive_falls_back_to_text_without_ipywidgets(model, tokenizer, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # como um kernel sem ipywidgets
    A.explain_interactively(model, tokenizer, default_text="Free entry, call now")
    out = capsys.readouterr().out
    assert "Classe:" in out and "p(spam)" in out and "' entry'" in out
    assert "Sem ipywidgets" in out


def test_interactive_widget_classifies_what_is_typed(model, tokenizer, monkeypatch, capsys):
    widgets = pytest.importorskip("ipywidgets")
    shown = []
    monkeypatch.setattr(A, "_live_widgets", lambda: widgets)  # como num kernel do Jupyter
    monkeypatch.setattr(A, "_show", lambda obj: shown.append(obj))
    A.explain_interactively(model, tokenizer, default_text="Free entry")
    box = shown[-1]
    (text, button), output = box.children[0].children, box.children[1]
    assert isinstance(shown[0], A.Attribution) and shown[0].text == "Free entry"  # o exemplo do livro estático
    text.value = "Você ganhou um prêmio"
    button.click()
    assert isinstance(shown[-1], A.Attribution) and shown[-1].text == "Você ganhou um prêmio"
    text.value = " "
    button.click()
    assert "vazia" in capsys.readouterr().out and output is box.children[1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="sem GPU CUDA")
def test_cuda_matches_cpu(model, tokenizer):
    ids = tokenizer.encode(MESSAGES[0])
    gpu = _small_classifier(device="cuda")
    torch.testing.assert_close(A.occlusion_scores(gpu, ids)[0], A.occlusion_scores(model, ids)[0], atol=1e-4, rtol=0)
    ig_gpu, ig_cpu = A.integrated_gradients(gpu, ids), A.integrated_gradients(model, ids)
    torch.testing.assert_close(ig_gpu.scores, ig_cpu.scores, atol=1e-4, rtol=0)
    assert abs(ig_gpu.gap) <= 1e-2 * abs(ig_gpu.input_value - ig_gpu.baseline_value)
