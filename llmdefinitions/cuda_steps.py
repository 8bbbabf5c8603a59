"""O laço de treino da aula numa GPU, com cada passo gravado num CUDA graph.

Por que isto existe: numa GPU, um passo de treino da cauda (abordagem 3, lotes de 8 textos de
~30 tokens) faz pouca conta e muitas operações pequenas. Forward, perda, backward e AdamW são ~90
*kernels*, e lançar cada um custa dezenas de microssegundos de Python, de *autograd* e de *driver*;
a GPU passa a maior parte do passo esperando o próximo lançamento (na H200: ~3,5 ms por passo, dos
quais ~0,5 ms de GPU). O passo é limitado pelo **lançamento**, não pela conta.

Um CUDA graph grava uma vez a sequência de *kernels* de um passo e depois a repete inteira com uma
só chamada (`graph.replay()`). O preço: as formas e os endereços dos tensores ficam fixos. Por isso

- as saídas congeladas ficam inteiras na memória da GPU (`ResidentLoader`): o lote é escolhido por
  índices, dentro do grafo, sem `DataLoader` montando e copiando um lote da CPU a cada passo;
- cada lote é completado com zeros até um múltiplo de `BUCKET_TOKENS` tokens (um grafo por
  comprimento). Na GPU esse *padding* quase não custa; a atenção nunca olha depois do último
  token real, então a conta é a mesma (muda só o arredondamento, ~1e-7);
- as avaliações (só o forward e um `.item()` por lote) também repetem um grafo (`GraphedForward`).

O resto é o laço de `train_classifier_simple`, sem mudança: os mesmos lotes na mesma ordem (o mesmo
gerador de números aleatórios), as mesmas avaliações e o mesmo AdamW. Fora de uma GPU CUDA, ou
quando algo impede a gravação (ex.: *dropout*, vários blocos treináveis), a função chama
`train_classifier_simple` e nada muda.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler

from .classifier import TrainableTail
from .course import demo_tag
from .features import FrozenOutputs, HiddenBatch
from .progress import tqdm
from .training import calc_accuracy_loader, evaluate_model, train_classifier_simple

__all__ = ["BUCKET_TOKENS", "stats", "bucket", "ResidentLoader", "GraphedTrainStep", "GraphedForward",
           "graphs_apply", "train_classifier_graphed"]

BUCKET_TOKENS = 64  # lotes até 64 tokens ou até o maior texto: poucos grafos (gravar custa), padding barato
# O que os grafos fizeram neste processo (lido pelos benchmarks): grafos gravados, passos comuns de
# aquecimento, passos de treino por forma (textos, tokens; todos) e os repetidos de um grafo, avaliações
# repetidas de um grafo por forma, e tokens reais treinados.
stats = {"graphs": 0, "warm_up_steps": 0, "steps": Counter(), "step_replays": Counter(),
         "eval_replays": Counter(), "real_tokens": 0}


def bucket(tokens: int) -> int:
    """O comprimento gravado para um lote de até `tokens` tokens: o múltiplo de `BUCKET_TOKENS` seguinte.

    Ensinado no Notebook 5, §5.5.
    """
    return -(-tokens // BUCKET_TOKENS) * BUCKET_TOKENS


class ResidentLoader:
    """As saídas congeladas de um `frozen_outputs_loader` inteiras na GPU, nos MESMOS lotes e na mesma ordem.

    Serve onde o loader servia (`len(...)`, `for lote, rótulos in ...`, `calc_accuracy_loader`). A
    tabela `hidden` (textos, maior texto, dim) guarda cada texto completado com zeros; um lote é
    `hidden[índices, :comprimento]`, já na GPU. A ordem vem de um `DataLoader` de índices com o
    MESMO gerador do loader original: ele sorteia exatamente como o original sortearia.

    Ensinado no Notebook 5, §5.5.
    """

    def __init__(self, loader: DataLoader, device):
        frozen = loader.dataset
        self.lengths = torch.tensor([h.shape[0] for h in frozen.hidden])  # na CPU: decide o comprimento
        self.hidden = torch.zeros(len(frozen), int(self.lengths.max()), frozen.hidden[0].shape[1], device=device)
        for row, h in zip(self.hidden, frozen.hidden):  # cada texto direto para a sua linha na GPU
            row[: h.shape[0]].copy_(h, non_blocking=True)
        self.device_lengths, self.labels = self.lengths.to(device), torch.tensor(frozen.labels, device=device)
        self.order = DataLoader(range(len(frozen)), batch_size=loader.batch_size, drop_last=loader.drop_last,
                                shuffle=isinstance(loader.sampler, RandomSampler), generator=loader.generator)

    def __len__(self) -> int:
        return len(self.order)

    def batch(self, indices: torch.Tensor, length: int) -> tuple[HiddenBatch, torch.Tensor]:
        """O lote dos textos `indices` (índices na GPU), completado com zeros até `length` tokens."""
        return HiddenBatch(self.hidden[indices, :length], self.device_lengths[indices]), self.labels[indices]

    def __iter__(self):
        for indices in self.order:  # como o loader original: até o maior texto do lote
            yield self.batch(indices.to(self.hidden.device, non_blocking=True), int(self.lengths[indices].max()))


class GraphedTrainStep:
    """Um passo de treino (zero_grad, forward, perda, backward, AdamW) gravado num CUDA graph por comprimento.

    `step(índices)` treina no lote desses textos. Na primeira vez que um comprimento aparece, o passo
    roda do jeito comum, num *stream* à parte (o aquecimento que o PyTorch pede antes de gravar; é
    um passo de verdade do treino). Na segunda, o passo é gravado (gravar não executa nada) e
    repetido. Daí em diante: copiar os índices para o tensor fixo do grafo e `graph.replay()`.

    Ensinado no Notebook 5, §5.5.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loader: ResidentLoader):
        self.model, self.optimizer, self.loader = model, optimizer, loader
        self.graphs: dict[tuple, tuple] = {}  # (textos, comprimento) -> (grafo, índices fixos)
        self.warmed: set[tuple] = set()  # formas que já rodaram um passo comum (o aquecimento)
        self.side_stream = torch.cuda.Stream(loader.hidden.device)

    def _step(self, indices: torch.Tensor, length: int) -> None:
        """O passo de `train_classifier_simple`, sobre um lote tirado da tabela da GPU."""
        self.optimizer.zero_grad(set_to_none=True)
        batch, labels = self.loader.batch(indices, length)
        F.cross_entropy(self.model(batch), labels).backward()
        self.optimizer.step()

    def __call__(self, indices: torch.Tensor) -> None:
        lengths = self.loader.lengths[indices]  # `indices` na CPU: nada aqui espera a GPU
        length = min(bucket(int(lengths.max())), self.loader.hidden.shape[1])
        shape = (len(indices), length)
        stats["steps"][shape] += 1
        stats["real_tokens"] += int(lengths.sum())
        if shape not in self.graphs and shape in self.warmed:
            self._capture(indices, length)
        if shape in self.graphs:
            graph, fixed_indices = self.graphs[shape]
            fixed_indices.copy_(indices, non_blocking=True)  # o lote deste passo entra no grafo
            graph.replay()
            stats["step_replays"][shape] += 1
            return
        self.side_stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side_stream):
            self._step(indices.to(self.loader.hidden.device), length)
        torch.cuda.current_stream().wait_stream(self.side_stream)
        self.warmed.add(shape)
        stats["warm_up_steps"] += 1

    def _capture(self, indices: torch.Tensor, length: int) -> None:
        """Grava o passo (sem executá-lo) com um tensor de índices fixo, que cada repetição reescreve."""
        fixed_indices, graph = indices.to(self.loader.hidden.device), torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)  # os gradientes nascem na memória do grafo
        with torch.cuda.graph(graph):
            self._step(fixed_indices, length)
        self.graphs[(len(indices), length)] = graph, fixed_indices
        stats["graphs"] += 1


class GraphedForward(nn.Module):
    """`model(lote)` das avaliações (sem gradiente) gravado num CUDA graph por comprimento; com gradiente, direto.

    Avaliar um lote é só o forward e um `.item()`, que espera a GPU: lançar os *kernels* um a um
    custa mais que a conta. Gravado, cada lote vira duas cópias para tensores fixos e um replay.
    Lotes com menos de `batch_size` textos completam as linhas com zeros (lidas e descartadas).
    Serve às caudas em que `graphs_apply` vale; na CPU, com gradiente ou com autocast, chama `model`.

    Ensinado no Notebook 5, §5.5.
    """

    def __init__(self, model: nn.Module, batch_size: int):
        super().__init__()
        self.model, self.batch_size = model, batch_size
        self.graphs: dict[int, tuple] = {}  # comprimento -> (grafo, entrada fixa, tamanhos fixos, saída)

    def forward(self, batch: HiddenBatch) -> torch.Tensor:
        rows, tokens, dim = batch.hidden.shape
        if (torch.is_grad_enabled() or rows > self.batch_size or batch.hidden.device.type != "cuda"
                or torch.is_autocast_enabled("cuda")):
            return self.model(batch)
        length = bucket(tokens)
        if length not in self.graphs:
            self.graphs[length] = self._capture(length, dim, batch.hidden.device)
        graph, hidden, lengths, logits = self.graphs[length]
        hidden.zero_()
        hidden[:rows, :tokens].copy_(batch.hidden)
        lengths[:rows].copy_(batch.lengths)  # as linhas de sobra guardam tamanhos antigos (>= 1): tanto faz
        graph.replay()
        stats["eval_replays"][(self.batch_size, length)] += 1
        return logits[:rows].clone()  # a saída fixa será reescrita no próximo replay

    def _capture(self, length: int, dim: int, device) -> tuple:
        hidden = torch.zeros(self.batch_size, length, dim, device=device)
        lengths = torch.ones(self.batch_size, dtype=torch.long, device=device)
        side_stream = torch.cuda.Stream(device)
        side_stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side_stream):
            self.model(HiddenBatch(hidden, lengths))  # aquecimento (não muda nada: é só um forward)
        torch.cuda.current_stream().wait_stream(side_stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            logits = self.model(HiddenBatch(hidden, lengths))
        stats["graphs"] += 1
        return graph, hidden, lengths, logits


def graphs_apply(model: nn.Module, loaders, optimizer: torch.optim.Optimizer, device) -> bool:
    """Se o treino pode ser gravado em CUDA graphs sem mudar a conta: GPU CUDA, sem autocast, uma
    `TrainableTail` com até 1 bloco treinável e sem *dropout* (o sorteio mudaria), loaders de saídas
    congeladas (`frozen_outputs_loader`) e AdamW fundido (`fused=True`: a mesma conta gravada ou não).

    Ensinado no Notebook 5, §5.5.
    """
    plain_loaders = all(isinstance(loader, ResidentLoader) or (
        isinstance(loader, DataLoader) and isinstance(loader.dataset, FrozenOutputs)
        and (type(loader.sampler) is SequentialSampler
             or (type(loader.sampler) is RandomSampler and not loader.sampler.replacement
                 and loader.sampler.num_samples == len(loader.dataset)))) for loader in loaders)
    rates = [m.p if isinstance(m, nn.Dropout) else getattr(m, "dropout", 0.0) for m in model.modules()]
    no_dropout = not any(rate for rate in rates if isinstance(rate, float))
    return (torch.device(device).type == "cuda" and torch.cuda.is_available()
            and not torch.is_autocast_enabled("cuda") and isinstance(model, TrainableTail)
            and len(model.blocks) <= 1 and no_dropout and plain_loaders
            and all(group.get("fused") for group in optimizer.param_groups))


@contextmanager
def _capturable(optimizer: torch.optim.Optimizer):
    """O PyTorch só grava `optimizer.step()` com `capturable=True`. No AdamW fundido isso não muda a
    conta (o contador de passos já mora na GPU); no fim, devolvemos o valor original."""
    before = [group["capturable"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["capturable"] = True
    try:
        yield
    finally:
        for group, value in zip(optimizer.param_groups, before):
            group["capturable"] = value


def train_classifier_graphed(model, train_loader, val_loader, optimizer, device, num_epochs,
                             eval_freq, eval_iter, tokenizer=None, token_position: str = "last_real",
                             progress: bool = True):
    """`train_classifier_simple` com cada passo num CUDA graph (numa GPU CUDA); o mesmo resultado.

    Os loaders podem ser `frozen_outputs_loader` ou `ResidentLoader`; `model`, a cauda ou um
    `GraphedForward` dela (o que as avaliações chamam). Quando a gravação não se aplica
    (`graphs_apply`: CPU, *dropout*, outro otimizador...), chama `train_classifier_simple` com os
    mesmos argumentos: na CPU nada muda. Devolve o mesmo que ele.

    Ensinado no Notebook 5, §5.5.
    """
    tail = model.model if isinstance(model, GraphedForward) else model
    if token_position != "last_real" or not graphs_apply(tail, (train_loader, val_loader), optimizer, device):
        return train_classifier_simple(model, train_loader, val_loader, optimizer, device, num_epochs,
                                       eval_freq, eval_iter, tokenizer, token_position, progress)
    train, val = (loader if isinstance(loader, ResidentLoader) else ResidentLoader(loader, device)
                  for loader in (train_loader, val_loader))
    evaluator = model if isinstance(model, GraphedForward) else GraphedForward(tail, train.order.batch_size)
    step = GraphedTrainStep(tail, optimizer, train)
    with _capturable(optimizer):
        history = _train_loop(evaluator, step, train, val, device, num_epochs, eval_freq, eval_iter, progress)
    optimizer.zero_grad(set_to_none=True)  # solta os gradientes guardados na memória dos grafos
    return history


def _train_loop(model, step: GraphedTrainStep, train: ResidentLoader, val: ResidentLoader, device,
                num_epochs: int, eval_freq: int, eval_iter: int, progress: bool):
    """O laço de `train_classifier_simple`, linha por linha, com `step(índices)` no lugar do passo
    (`model` é o `GraphedForward` das avaliações)."""
    train_losses, val_losses, train_accs, val_accs = [], [], [], []
    examples_seen, global_step = 0, -1
    bar = tqdm(total=num_epochs * len(train), desc="Treino", disable=not progress)
    for epoch in range(num_epochs):
        model.train()
        for indices in train.order:
            step(indices)
            examples_seen += len(indices)
            global_step += 1
            bar.update(1)
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train, val, device, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                bar.write(f"Ep {epoch + 1} (Step {global_step:06d}): Train loss {train_loss:.3f}, "
                          f"Val loss {val_loss:.3f}{demo_tag()}")
        train_acc = calc_accuracy_loader(train, model, device, eval_iter)
        val_acc = calc_accuracy_loader(val, model, device, eval_iter)
        train_accs.append(train_acc)
        val_accs.append(val_acc)
        bar.write(f"Training accuracy: {train_acc * 100:.2f}% | "
                  f"Validation accuracy: {val_acc * 100:.2f}%{demo_tag()}")
    bar.close()
    return train_losses, val_losses, train_accs, val_accs, examples_seen
