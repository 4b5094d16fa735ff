"""The encoder-decoder: a recurrent encoder reads a sentence, a recurrent decoder writes the answer.

Both are the fused torch.nn.RNN / LSTM / GRU of a registered cell (`core.cells`). The encoder runs
on a packed batch, so each sentence ends at its own length; the decoder starts from the encoder's
final state (LSTM: h and c). Training uses teacher forcing: the decoder reads the true previous
symbol, so every answer step runs in one fused call. `greedy` writes an answer by feeding back its
own most likely symbol, one step at a time.

Attention (Luong et al. 2015, global attention on the decoder's output): at answer step t the
decoder's h_t scores every encoder output e_s, "dot" as h_t . e_s / sqrt(H), "additive" as
v . tanh(W_q h_t + W_k e_s) (Bahdanau et al. 2015); the softmax over the sentence's real words
weights the context c_t = sum_s a_ts e_s, and the readout reads tanh(W_c [h_t; c_t]). With
"none" the readout reads h_t alone: everything about the sentence passes through the final state.

Notebook use:

>>> exp = Seq2SeqExperiment(Seq2SeqConfig(cell="gru", attention="dot", max_groups=2))
>>> exp.step(300)
>>> exp.translate("three hundred and twelve").digits
Shapes: N batch, S sentence length, T answer length (+1 for the end marker), H hidden, E embedding.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import clip_grads_with_norm_, get_total_norm
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.cells import RECURRENT_CELLS, get_cell
from core.config import Field, setting
from core.tasks.numbers import (
    BOS,
    EOS,
    MAX_GROUPS,
    SYMBOLS,
    WORDS,
    NumberWordsTask,
    Pairs,
    decode_digits,
    encode_words,
    number_words,
)
from core.trainer import History, StepLoop, StepResult, make_optimizer

ATTENTIONS = ("none", "additive", "dot")
VAL_BATCH = 256
PROBE_BATCH = 16
_SEED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Seq2SeqConfig:
    """An encoder-decoder run: each setting declared once, with its bounds (core.config's schema).
    Invalid values raise ConfigError on construction."""

    cell: str = setting(
        "gru", choices=RECURRENT_CELLS, help="recurrent cell of encoder and decoder"
    )
    hidden: int = setting(64, 1, 512, help="hidden units of encoder and decoder")
    embed: int = setting(32, 1, 256, help="size of the word and digit vectors")
    attention: str = setting("dot", choices=ATTENTIONS, help="how the decoder reads the sentence")
    max_groups: int = setting(2, 1, MAX_GROUPS, help="longest number: groups of three digits")
    optimizer: str = "adam"
    lr: float = setting(0.01, 1e-5, 10.0, help="learning rate")
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip: float = setting(1.0, 0.0, 100.0, help="gradient-norm clipping threshold (0: off)")
    batch_size: int = setting(64, 1, 512, help="pairs per optimizer step")
    val_every: int = setting(50, 1, 1000, help="steps between validation passes")
    seed: int = setting(0, 0, 2**31 - 1, help="seeds weights and data")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.metadata:
                kind = {"str": str, "int": int, "float": float}[f.type]
                schema = Field(f.name, kind, f.default, **f.metadata)
                object.__setattr__(self, f.name, schema.check(getattr(self, f.name)))

    def replace(self, **changes: Any) -> Seq2SeqConfig:
        return dataclasses.replace(self, **changes)


class Attention(nn.Module):
    """Scores of decoder outputs (N, T, H) against encoder outputs (N, S, H); see the module doc."""

    def __init__(self, kind: str, hidden: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "additive":
            self.query = nn.Linear(hidden, hidden, bias=False)
            self.key = nn.Linear(hidden, hidden)
            self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, queries, keys, key_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """(context (N, T, H), weights (N, T, S)); key_mask (N, S) bool marks the real words."""
        if self.kind == "dot":
            scores = queries @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
        else:
            mixed = self.query(queries).unsqueeze(2) + self.key(keys).unsqueeze(1)
            scores = self.score(torch.tanh(mixed)).squeeze(-1)
        scores = scores.masked_fill(~key_mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ keys, weights


class Seq2Seq(nn.Module):
    """Embeddings, encoder, decoder, optional attention and the readout over output symbols."""

    def __init__(
        self, cell: str, vocab_in: int, vocab_out: int, hidden: int, embed: int, attention: str
    ):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(
                f"unknown attention {attention!r}; choose one of: {', '.join(ATTENTIONS)}"
            )
        self.cell = get_cell(cell)
        kwargs = {"nonlinearity": self.cell.nonlinearity} if self.cell.nonlinearity else {}
        self.source_embedding = nn.Embedding(vocab_in, embed, padding_idx=0)
        self.target_embedding = nn.Embedding(vocab_out, embed, padding_idx=0)
        self.encoder = self.cell.module(embed, hidden, batch_first=True, **kwargs)
        self.decoder = self.cell.module(embed, hidden, batch_first=True, **kwargs)
        self.attention = None if attention == "none" else Attention(attention, hidden)
        self.combine = None if attention == "none" else nn.Linear(2 * hidden, hidden)
        self.readout = nn.Linear(hidden, vocab_out)

    @property
    def hidden_size(self) -> int:
        return self.encoder.hidden_size

    def encode(self, source, lengths) -> tuple[torch.Tensor, Any]:
        """(outputs (N, S, H), zero past each end; final state at each sentence's own end)."""
        packed = pack_padded_sequence(
            self.source_embedding(source), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, state = self.encoder(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=source.shape[1])
        return outputs, state

    def decode(self, decoder_in, state, memory, memory_mask):
        """(logits (N, T, V), decoder state, attention weights (N, T, S) or None) for the symbols
        decoder_in (N, T), from `state`, reading the encoder outputs `memory` (N, S, H)."""
        outputs, state = self.decoder(self.target_embedding(decoder_in), state)
        if self.attention is None:
            return self.readout(outputs), state, None
        context, weights = self.attention(outputs, memory, memory_mask)
        mixed = torch.tanh(self.combine(torch.cat([outputs, context], dim=-1)))
        return self.readout(mixed), state, weights

    def forward(self, pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced logits (N, T, V) and attention weights (N, T, S) or None."""
        memory, state = self.encode(pairs.source, pairs.source_lengths)
        logits, _, weights = self.decode(pairs.decoder_in, state, memory, pairs.source != 0)
        return logits, weights

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def sequence_loss(logits: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """Mean cross-entropy over the scored answer steps (the digits and the end marker)."""
    mask = pairs.target_mask
    return F.cross_entropy(logits[mask], pairs.decoder_out[mask])


@torch.no_grad()
def greedy(model: Seq2Seq, pairs: Pairs, steps: int | None = None):
    """(symbols (N, steps), attention (N, steps, S) or None): each step feeds back the most likely
    symbol of the last, from <s>; `steps` defaults to the batch's answer length."""
    steps = steps or pairs.decoder_out.shape[1]
    memory, state = model.encode(pairs.source, pairs.source_lengths)
    mask = pairs.source != 0
    symbol = torch.full((pairs.size, 1), BOS, dtype=torch.long, device=pairs.source.device)
    symbols, weights = [], []
    for _ in range(steps):
        logits, state, step_weights = model.decode(symbol, state, memory, mask)
        symbol = logits.argmax(-1)
        symbols.append(symbol)
        weights.append(step_weights)
    attention = None if weights[0] is None else torch.cat(weights, dim=1)
    return torch.cat(symbols, dim=1), attention


def scores(symbols: torch.Tensor, pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pair: (token accuracy, exact match) of decoded symbols against the answer, both over
    the scored steps (the digits and the end marker: a right answer must also stop)."""
    mask, truth = pairs.target_mask, pairs.decoder_out
    hits = (symbols[:, : truth.shape[1]] == truth) & mask
    token = hits.sum(1).float() / mask.sum(1).float()
    return token, (hits | ~mask).all(dim=1).float()


def exact_by_length(symbols: torch.Tensor, pairs: Pairs, edges) -> list[float]:
    """Exact match per bucket of sentence length: words in [edges[k], edges[k+1]); NaN if empty."""
    _, exact = scores(symbols, pairs)
    words = pairs.source_lengths.cpu()
    result = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        chosen = (words >= low) & (words < high)
        result.append(float(exact.cpu()[chosen].mean()) if chosen.any() else math.nan)
    return result


@dataclass
class Translation:
    """A typed phrase, its words, the model's digits and its attention (len(digits)+1, words)."""

    words: list[str]
    digits: str
    attention: np.ndarray | None
    symbols: list[str]


def train_step(model, optimizer, pairs: Pairs, clip: float) -> StepResult:
    """One optimizer step as core.trainer.optimizer_step: loss, backward, total gradient norm,
    divergence check (a non-finite loss or norm changes nothing), clipping, update."""
    optimizer.zero_grad(set_to_none=True)
    logits, _ = model(pairs)
    loss = sequence_loss(logits, pairs)
    loss.backward()
    total_norm = get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    loss_value, norm_value = loss.item(), total_norm.item()
    if not (math.isfinite(loss_value) and math.isfinite(norm_value)):
        return StepResult(loss_value, norm_value, False, True)
    clipped = 0 < clip < norm_value
    if clipped:
        clip_grads_with_norm_(model.parameters(), clip, total_norm)
    optimizer.step()
    return StepResult(loss_value, norm_value, clipped, False)


class Seq2SeqExperiment(StepLoop):
    """One encoder-decoder run, advanced in bounded steps like core.trainer.Experiment:
    `step(k)`, `validate()`, `metrics()`, `probe()`, `translate(text)`, under one lock."""

    def __init__(self, config: Seq2SeqConfig, device: str | torch.device | None = None) -> None:
        self.config = config
        self.device = torch.device(device or "cpu")
        self.lock = threading.RLock()
        self.task = NumberWordsTask(config)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            config, task = self.config, self.task
            with _SEED_LOCK:
                torch.manual_seed(config.seed)
                self.model = Seq2Seq(
                    config.cell,
                    task.input_size,
                    task.output_size,
                    config.hidden,
                    config.embed,
                    config.attention,
                )
            self.model.to(self.device)
            self.optimizer = make_optimizer(self.model, config)
            self.rng = np.random.default_rng([config.seed, 1])
            self.val_batch = self._fixed_batch(VAL_BATCH, 2)
            self.probe_batch = self._fixed_batch(PROBE_BATCH, 3)
            self.history = History()
            self.probe_log: list = []
            self.steps_done, self.diverged, self.message = 0, False, ""

    def _fixed_batch(self, size: int, stream: int) -> Pairs:
        rng = np.random.default_rng([self.config.seed, stream])
        return self.task.sample(size, rng, split="val").to(self.device)

    def _train_step(self) -> None:
        started = time.perf_counter()
        pairs = self.task.sample(self.config.batch_size, self.rng).to(self.device)
        result = train_step(self.model, self.optimizer, pairs, self.config.clip)
        if result.diverged:
            self.diverged = True
            self.message = f"Training diverged at step {self.steps_done + 1}; lower the learning rate, then Reset."
            return
        self.steps_done += 1
        val = (math.nan, math.nan)
        if self.steps_done % self.config.val_every == 0 or self.steps_done == 1:
            val = self.validate()
        seconds = time.perf_counter() - started
        self.history.add(
            self.steps_done,
            result.loss,
            *val,
            result.grad_norm,
            result.clipped,
            self.config.lr,
            seconds,
        )

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """(teacher-forced loss, exact match of greedy answers) on the fixed validation set."""
        with self.lock, _evaluating(self.model):
            pairs = self.val_batch
            loss = float(sequence_loss(self.model(pairs)[0], pairs))
            return loss, float(scores(greedy(self.model, pairs)[0], pairs)[1].mean())

    @torch.no_grad()
    def evaluate(self, edges=(), pairs: Pairs | None = None) -> dict[str, Any]:
        """Token accuracy and exact match of greedy answers (default: the validation set), and
        with `edges` the exact match per sentence-length bucket (`exact_by_length`), from one
        decoding pass."""
        pairs = pairs or self.val_batch
        with self.lock, _evaluating(self.model):
            symbols = greedy(self.model, pairs)[0]
        token, exact = scores(symbols, pairs)
        result: dict[str, Any] = {
            "token_accuracy": float(token.mean()),
            "exact_match": float(exact.mean()),
        }
        if len(edges):
            result["by_length"] = exact_by_length(symbols, pairs, edges)
        return result

    def metrics(self) -> dict[str, Any]:
        steps, val_loss, val_metric = self.history.validations()
        recent = self.history.seconds[-50:]
        return {
            "step": self.steps_done,
            "train_loss": self.history.train_loss[-1] if len(self.history) else math.nan,
            "val_loss": float(val_loss[-1]) if len(steps) else math.nan,
            "val_metric": float(val_metric[-1]) if len(steps) else math.nan,
            "steps_per_second": len(recent) / sum(recent) if recent else math.nan,
            "diverged": self.diverged,
            "message": self.message,
        }

    def translate(self, text: str) -> Translation:
        """The model's digits for a typed phrase; ConfigError with a plain message on bad input."""
        indices = encode_words(text, self.task.max_words)
        source = torch.tensor([indices], device=self.device)
        pairs = Pairs(
            source, torch.tensor([len(indices)]), source[:, :1], source[:, :1], source[:, :1] > 0
        )
        with self.lock, _evaluating(self.model):
            symbols, attention = greedy(self.model, pairs, self.task.max_digits + 1)
        symbols = symbols[0].tolist()
        shown = symbols.index(EOS) + 1 if EOS in symbols else len(symbols)
        return Translation(
            words=[WORDS[i] for i in indices],
            digits=decode_digits(symbols),
            attention=None if attention is None else attention[0, :shown].cpu().numpy(),
            symbols=[SYMBOLS[i] for i in symbols[:shown]],
        )

    def probe(self, pairs: Pairs | None = None):
        """The encoder's gradient per word and the attention (core.seq2seq_probe); changes nothing."""
        from core.seq2seq_probe import probe  # it imports this module

        with self.lock:
            return probe(self.model, pairs or self.probe_batch, self.steps_done)

    def observe(self):
        """Probe the fixed batch and keep (step, grad_norm) in `probe_log`; returns the probe."""
        with self.lock:
            result = self.probe()
            if not self.diverged:
                self.probe_log.append((self.steps_done, result.grad_norm))
                del self.probe_log[:-500]
            return result

    def parameter_count(self) -> int:
        return self.model.parameter_count()


class _evaluating:
    """Eval mode for a helper's passes; restores the training mode."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc) -> None:
        self.model.train(self.was_training)


__all__ = [
    "ATTENTIONS",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Seq2SeqExperiment",
    "Translation",
    "exact_by_length",
    "greedy",
    "number_words",
    "scores",
    "sequence_loss",
    "train_step",
]
