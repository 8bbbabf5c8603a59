"""O caminho `hf` de `bench_finetune.py`: a abordagem 3 como um aluno a escreveria com o Hugging Face.

`GPT2ForSequenceClassification` (a cabeça `score` lê o último token que não é padding: o mesmo
`"last_real"` do projeto), com tudo congelado menos `transformer.h[-1]`, `transformer.ln_f` e
`score`; lotes completados até o maior texto DO LOTE, com `attention_mask` (o padding dinâmico
usual do HF). O resto é igual aos outros caminhos: os mesmos lotes na mesma ordem, o mesmo AdamW,
o mesmo calendário de avaliação e a mesma avaliação final (`bench_finetune.train_and_evaluate`).

Os pesos de partida são os mesmos dos outros caminhos: o checkpoint do `--models-dir` carregado
com `from_pretrained`, ou (pesos aleatórios, `--tiny`) o GPT-2 do projeto convertido para os nomes
do HF. A cabeça começa com os pesos da cabeça do projeto; `score` não tem viés, e a do projeto
tem: por isso as previsões podem diferir um pouco (a conferência diz quantas).

O `transformers` é opcional: sem ele, o caminho é pulado com um aviso.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
from common import MODEL_NAME, SEED, starting_model
from roofline import FlopCounter, Stopwatch
from torch import nn

from llmdefinitions import PAD_TOKEN_ID, model_size_from_name, prepare_last_block
from llmdefinitions.memory import peak_rss_mb

MISSING = ("Caminho 'hf' pulado: o pacote `transformers` não está instalado "
           "(instale com: pip install -e \".[test]\").")


def available_paths(paths: list[str]) -> list[str]:
    """`paths` sem o 'hf' quando o `transformers` não está instalado (com um aviso, sem erro)."""
    if "hf" in paths and importlib.util.find_spec("transformers") is None:
        print(MISSING, flush=True)
        return [p for p in paths if p != "hf"]
    return paths


def bench():
    """O módulo `bench_finetune` (que importa este): o script em execução ou o módulo importado."""
    main = sys.modules.get("__main__")
    if Path(getattr(main, "__file__", "")).name == "bench_finetune.py":
        return main
    import bench_finetune

    return bench_finetune


class HFClassifier(nn.Module):
    """O modelo do HF com a interface dos laços do pacote: ids com padding à direita
    (`PAD_TOKEN_ID`) entram, logits (lote, classes) saem. A máscara de atenção marca os tokens reais."""

    def __init__(self, hf_model):
        super().__init__()
        self.hf = hf_model

    def forward(self, input_ids):
        mask = (input_ids != PAD_TOKEN_ID).long()
        return self.hf(input_ids=input_ids, attention_mask=mask).logits


def hf_config(config: dict):
    """O `GPT2Config` equivalente à configuração do `GPTModel` (2 classes, sem dropout)."""
    from transformers import GPT2Config

    drop = config["drop_rate"]
    return GPT2Config(vocab_size=config["vocab_size"], n_positions=config["context_length"],
                      n_embd=config["emb_dim"], n_layer=config["n_layers"], n_head=config["n_heads"],
                      resid_pdrop=drop, embd_pdrop=drop, attn_pdrop=drop, layer_norm_epsilon=1e-5,
                      num_labels=2, pad_token_id=PAD_TOKEN_ID)


def hf_state_from_gpt(model) -> dict[str, torch.Tensor]:
    """Os pesos do `GPTModel` com os nomes e o formato `Conv1D` do HF (o inverso de `load_weights_into_gpt`)."""
    s = {name: p.detach() for name, p in model.named_parameters()}
    state = {"transformer.wte.weight": s["tok_emb.weight"], "transformer.wpe.weight": s["pos_emb.weight"],
             "transformer.ln_f.weight": s["final_norm.weight"], "transformer.ln_f.bias": s["final_norm.bias"]}
    for i in range(model.cfg["n_layers"]):
        b, h = f"trf_blocks.{i}.", f"transformer.h.{i}."
        qkv = [f"{b}att.W_{x}" for x in ("query", "key", "value")]
        state.update({
            h + "ln_1.weight": s[b + "norm1.weight"], h + "ln_1.bias": s[b + "norm1.bias"],
            h + "attn.c_attn.weight": torch.cat([s[n + ".weight"].T for n in qkv], dim=1),
            h + "attn.c_attn.bias": torch.cat([s[n + ".bias"] for n in qkv]),
            h + "attn.c_proj.weight": s[b + "att.out_proj.weight"].T,
            h + "attn.c_proj.bias": s[b + "att.out_proj.bias"],
            h + "ln_2.weight": s[b + "norm2.weight"], h + "ln_2.bias": s[b + "norm2.bias"],
            h + "mlp.c_fc.weight": s[b + "ff.fc1.weight"].T, h + "mlp.c_fc.bias": s[b + "ff.fc1.bias"],
            h + "mlp.c_proj.weight": s[b + "ff.fc2.weight"].T, h + "mlp.c_proj.bias": s[b + "ff.fc2.bias"],
        })
    return state


def load_hf_classifier(args, device):
    """O `GPT2ForSequenceClassification` de partida e o GPT-2 do projeto (já com a cabeça da abordagem 3)."""
    from transformers import GPT2ForSequenceClassification

    ours, info = starting_model(args.tiny, args.models_dir, device)
    prepare_last_block(ours, seed=SEED)
    if "pré-treinados" in info["weights"]:  # o mesmo checkpoint, lido como o aluno leria
        folder = Path(args.models_dir) / model_size_from_name(MODEL_NAME)
        hf = GPT2ForSequenceClassification.from_pretrained(
            folder, num_labels=2, pad_token_id=PAD_TOKEN_ID, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    else:
        hf = GPT2ForSequenceClassification(hf_config(info["config"]))
        missing, unexpected = hf.load_state_dict(hf_state_from_gpt(ours), strict=False)
        assert missing == ["score.weight"] and not unexpected, (missing, unexpected)
    with torch.no_grad():
        hf.score.weight.copy_(ours.out_head.weight)  # a cabeça do projeto, sem o viés
    hf.requires_grad_(False)
    for module in (hf.transformer.h[-1], hf.transformer.ln_f, hf.score):
        module.requires_grad_(True)
    return hf.to(device).eval(), ours, info


def same_body(hf, ours) -> bool:
    """O corpo do modelo do HF (tudo menos `score`) tem exatamente os pesos do GPT-2 do projeto?"""
    theirs = hf.state_dict()
    return all(torch.equal(theirs[name], tensor) for name, tensor in hf_state_from_gpt(ours).items())


def count_conv1d(flops, model) -> None:
    """O GPT-2 do HF usa `Conv1D` (um `nn.Linear` com o peso transposto), que o `FlopCounter` não vê
    sozinho: cada um entra na conta como a linear `nx → nf` que é."""
    from transformers.pytorch_utils import Conv1D

    for module in model.modules():
        if isinstance(module, Conv1D):
            flops.count_linear(module, module.nx, module.nf)


def run_hf(args, device) -> dict:
    """O caminho `hf`: o modelo inteiro do HF a cada passo, lotes com padding dinâmico e `attention_mask`."""
    b = bench()
    from llmdefinitions import create_dataloaders, get_tokenizer

    with Stopwatch(device) as setup:
        hf, ours, info = load_hf_classifier(args, device)
        loaders = create_dataloaders(*b.load_splits(args), get_tokenizer(), batch_size=args.batch_size,
                                     padding="dynamic", seed=SEED)
    body = same_body(hf, ours)
    fingerprint = b.weights_fingerprint(ours) if body else float("nan")
    del ours
    flops = FlopCounter(hf)
    count_conv1d(flops, hf)
    result = {**info, "setup_s": setup.seconds, "peak_rss_setup_mb": peak_rss_mb(),
              "weights_fingerprint": fingerprint, "same_body_as_ours": body, "token_position": "last_real",
              "hf_model": type(hf).__name__, "attn_implementation": hf.config._attn_implementation,
              "head_bias": "o projeto tem viés na cabeça; score do HF não (começa com o peso do projeto)"}
    print(f"[hf] {args.hf_epochs} época(s), GPT2ForSequenceClassification inteiro a cada passo...", flush=True)
    result.update(b.train_and_evaluate(args, device, HFClassifier(hf), hf, loaders, args.hf_epochs, flops))
    result.update(total_s=sum(result["phases"].values()), flops=flops.flops)
    return result


def add_results(results: dict, args, check) -> None:
    """Extrapolação (se `--hf-epochs` < `--epochs`), razão `hf_over_ours` e a conferência contra o projeto."""
    paths, b = results["paths"], bench()
    results["settings"]["hf_epochs"] = args.hf_epochs
    hf, ours = paths.get("hf"), paths.get("ours")
    if hf is None:
        return
    basis = hf
    if hf["epochs"] != args.epochs:
        basis = results["hf_extrapolated"] = b.extrapolate_naive(hf, args.epochs)
        b.add_floor(basis, results["matmul"]["gflops_best"])
        basis["label"] += " (HF: média por passo numa época inteira, lotes de tamanhos variados)"
    if ours is None:
        return
    ratio = results.setdefault("ratio", {})
    ratio["hf_basis"] = "medido" if basis is hf else basis["label"]
    ratio["hf_over_ours"] = basis["total_s"] / ours["total_s"]
    ratio["training_hf_over_ours"] = basis["phases"]["training_s"] / (
        ours["phases"]["precompute_s"] + ours["phases"]["training_s"])
    results["ratio_hf_over_ours"] = ratio["hf_over_ours"]
    reference = check if check is not None and check["epochs"] == hf["epochs"] else ours
    results["hf_correctness"] = {**b.compare_runs(hf, reference),
                                 "reference": "ours_check" if reference is check else "ours",
                                 "reference_epochs": reference["epochs"], "same_body": hf["same_body_as_ours"]}


def summary_lines(results: dict) -> list[str]:
    """As linhas do caminho `hf` no resumo de `bench_finetune.py`."""
    lines = []
    if "hf_over_ours" in results.get("ratio", {}):
        r = results["ratio"]
        lines.append(f"HF / projeto: {r['hf_over_ours']:.1f}x no total, {r['training_hf_over_ours']:.1f}x só o "
                     f"treino (pré-cálculo + laço) [{r['hf_basis']}]")
    if "hf_correctness" in results:
        c = results["hf_correctness"]
        lines.append(f"Conferência HF ({c['epochs_compared']} época(s) contra {c['reference']} com "
                     f"{c['reference_epochs']}): mesmo corpo do modelo = {c['same_body']}; previsões no teste "
                     f"iguais em {c['test_agreement'] * 100:.2f}% ({c['test_n_different']} de {c['test_n']} "
                     f"diferentes); max |Δlogit| = {c['test_max_abs_logit_diff']:.2e} (a cabeça do HF não tem viés)")
    return lines
