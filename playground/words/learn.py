"""Words for the Learn page: its ideas (`CONCEPTS`) and the "Show me" demos under them (`DEMOS`),
plus the playground's intro line.

Plain data; no Streamlit here. No experiment config is written here: core/teaching owns them all.
A `Demo` names one (see core.teaching.config_for) and says what to expect; each `Concept` lists
its demos by name.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- demos: one click loads an experiment that shows an idea ----------------------------------

# core.teaching owns every config; a demo names one ("claim:label" or a key of core.teaching.CONFIGS)
# and adds the words: a button label and what the visitor should expect to see.


@dataclass(frozen=True)
class Demo:
    """A "Show me" button of the Learn view: the config it loads, by name, and its words."""

    config: str  # a name core.teaching.config_for resolves
    label: str
    expect: str


DEMOS: dict[str, Demo] = {
    "next_number": Demo(
        "next_number:lstm",
        "Next number (LSTM)",
        "The loss falls below the 'repeat the last number' line within a few hundred steps. Then "
        "type 1, 2, 3, ?, 5 under the predictions: the network fills in about 4 and expects "
        "about 6 next.",
    ),
    "no_memory": Demo(
        "independent:feedforward",
        "Adding problem, no memory",
        "A network that treats each input on its own: its loss stays on the 0.167 line of always "
        "answering 1.0, since the marked numbers are behind it. In the Gradients tab the "
        "gradient exists at the last step only; at every earlier step it is exactly zero.",
    ),
    "with_memory": Demo(
        "independent:lstm",
        "Same task, with memory (LSTM)",
        "The LSTM carries the first marked number in its hidden state: its loss leaves the 0.167 "
        "line and drops below 0.01 within a few hundred steps, and its gradient reaches back to "
        "the marked steps.",
    ),
    "hidden_memory": Demo(
        "long_memory:lstm",
        "Adding problem, T=50 (LSTM)",
        "For a few hundred steps the loss sits on the 0.167 baseline; then it drops below 0.01 "
        "once the network learns to hold the first marked number. In the Memory tab, watch the "
        "hidden-state paths spread out as the state starts to carry information.",
    ),
    "memory_rnn": Demo(
        "long_memory:rnn",
        "Same task, vanilla RNN",
        "The vanilla RNN's loss stays near the 0.167 line: its gradient never reaches the first "
        "marked number, so it never learns to keep it.",
    ),
    "memory_gru": Demo(
        "long_memory:gru",
        "Same task, GRU",
        "The GRU holds the number too: its loss drops below 0.01 after a few hundred steps, "
        "usually a little before the LSTM's.",
    ),
    "bptt": Demo(
        "bptt",
        "Gradient flowing back (RNN, T=20)",
        "The gradient-per-step chart shows the error flowing backwards from the last step, where "
        "the answer is scored, to earlier steps; each step back multiplies it by the recurrent "
        "weights once more, so it falls off toward step 0.",
    ),
    "vanishing_rnn": Demo(
        "vanishing:rnn",
        "Vanishing: vanilla RNN, T=50",
        "The vanilla RNN's gradient per time step drops by many orders of magnitude toward the "
        "first steps (a straight slope on the log axis), and its loss stays near the 0.167 "
        "baseline: the first marked number is out of reach.",
    ),
    "vanishing_lstm": Demo(
        "vanishing:lstm",
        "Same task with an LSTM",
        "At first the LSTM's gradient falls off just as steeply. Once it finds the trick (around "
        "step 500) its loss drops below 0.01 and the curve flattens: the cell state carries the "
        "gradient back to the early steps.",
    ),
    "exploding": Demo(
        "exploding:unclipped",
        "Exploding: gain 3, no clipping",
        "The recurrent weights start three times too large (spectral radius about 3), so the "
        "gradient grows about a million-fold from the last step back to the first. With plain SGD "
        "and no clipping, training blows up within a few dozen steps.",
    ),
    "exploding_clipped": Demo(
        "exploding:clipped",
        "Gain 3 with clipping",
        "The same start with the gradient norm clipped at 0.25: every update is scaled down to a "
        "safe length, the run stays stable and goes on to learn the waves.",
    ),
    "lstm_gates": Demo(
        "lstm_gates",
        "LSTM gates on the copy task",
        "In the Gates tab, the input gate opens while the symbols arrive, the forget gate stays "
        "near 1 through the quiet stretch so the cell state holds them, and the output gate opens "
        "after the go signal.",
    ),
    "gru": Demo(
        "gru_vs_lstm:gru",
        "GRU on the copy task",
        "The GRU learns to recall three symbols after a pause of ten steps, with 3/4 of an "
        "LSTM's recurrent parameters: compare the parameter count in the Cell tab with the LSTM "
        "demo next to this one.",
    ),
    "gru_lstm": Demo(
        "gru_vs_lstm:lstm",
        "LSTM on the same task",
        "The LSTM with the same settings: its loss falls at about the same time as the GRU's, "
        "and the Cell tab counts four weight blocks per layer to the GRU's three.",
    ),
    "text": Demo(
        "text:lstm",
        "Write text (LSTM)",
        "Accuracy climbs past the 'always guess a space' baseline; the generated text goes from "
        "random letters to common short words within a few hundred steps. Try the temperature "
        "slider: low is repetitive, high is creative.",
    ),
    "forecast": Demo(
        "forecast:lstm",
        "Forecast a noisy wave",
        "The one-step predictions soon follow the smooth wave through the noise; the 10-step "
        "forecast, where the network feeds its own outputs back in, stays close to the clean wave, "
        "far closer than repeating the last value.",
    ),
    "real_forecast": Demo(
        "real_forecast:lstm",
        "Forecast real data: CO2 at Mauna Loa",
        "The network's one-step error on the last nine years, which it never trains on, drops to "
        "a small fraction of repeating the last value within a few hundred steps. Under the "
        "forecast chart the page says which forecast wins: the network, the straight line, or "
        "repeating last year's value.",
    ),
    "speech": Demo(
        "speech:lstm",
        "Recognise spoken words (LSTM)",
        "Accuracy rises well above chance (one in eight) within a hundred steps. In the Memory "
        "tab, the hidden-state paths of different words end in different places.",
    ),
    "speakers": Demo(
        "speakers:lstm",
        "Who is speaking? Real recordings (LSTM)",
        "Test accuracy passes 0.95 within a few hundred steps, beside the dash-dot lines of "
        "1-NN with dynamic time warping and of a model with no memory. The no-memory model does "
        "about as well: the speaker's voice shows in every frame.",
    ),
    "order_lstm": Demo(
        "order:lstm",
        "Order matters: reviews word by word (LSTM)",
        "Accuracy passes 0.95 within a couple of hundred steps, far above the dash-dot lines of "
        "bag-of-words on the sentences where order decides. Under the predictions, type your own "
        "review and watch the verdict swing at 'but'.",
    ),
    "order_no_memory": Demo(
        "order:feedforward",
        "Order matters: reviews, no memory",
        "The no-memory model sees only the last word, so its accuracy stays near the 0.5 line of "
        "guessing: in 'good at first but dull' and 'dull at first but good' the last word says "
        "nothing on its own.",
    ),
    "variable_length": Demo(
        "variable_length",
        "Ragged sequences",
        "Sequences in one batch have between 4 and 24 numbers (see the length histogram in the "
        "Memory tab). The network reads each only to its own end; padding never enters its state "
        "or the loss.",
    ),
}


@dataclass(frozen=True)
class Concept:
    """One idea of the Learn view: a title, a few paragraphs, and the demos (keys of DEMOS) that
    show it. The measured claims (core.teaching.CLAIMS) those demos come from are shown with
    it, then `claims`: keys of claims no demo loads (core.teaching.SEQ2SEQ_CLAIMS, whose
    encoder-decoders the playground can't hold)."""

    title: str
    text: str
    demos: tuple[str, ...]
    claims: tuple[str, ...] = ()


CONCEPTS: list[Concept] = [
    Concept(
        "Sequential data",
        "Much of what we care about arrives in order: words in a sentence, notes in a tune, "
        "daily temperatures. Shuffle the order and the meaning changes. A plain feed-forward "
        "network looks at each input on its own; a recurrent network reads a sequence one step "
        "at a time and can use what came earlier to make sense of what comes now.\n\n"
        "The smallest example: given 1, 2, 3, ?, 5, what is missing? Nothing in the single "
        "number 3 says the answer is 4; the pattern lives in the order. A network without "
        "memory, shown each number alone, can't find it.",
        ("next_number", "no_memory", "with_memory"),
    ),
    Concept(
        "Hidden state: the network's memory",
        "At every step the network combines the new input with its **hidden state**, a vector "
        "that summarises everything it has read so far, and passes the result on to the next "
        "step. The same weights are reused at every step; this loop is the recurrent connection.\n\n"
        "The adding problem tests that memory: two numbers in a long row are marked, and only at "
        "the end must the network output their sum. It has to keep the first one in its hidden "
        "state for dozens of steps.",
        ("hidden_memory", "memory_rnn", "memory_gru"),
    ),
    Concept(
        "Backpropagation through time",
        "To train a recurrent network we unroll the loop into one long chain, one copy of the "
        "cell per time step, all sharing weights, and run ordinary backpropagation along it: "
        "**backpropagation through time** (BPTT). The error at the end travels back step by "
        "step, and each step's share of it is the gradient the playground plots per time step.",
        ("bptt",),
    ),
    Concept(
        "Vanishing and exploding gradients",
        "Going back one step multiplies the gradient by the recurrent weights and by the slope "
        "of the activation. Repeat that fifty times: if the factor is a bit below one, the "
        "gradient **vanishes** and early inputs stop influencing learning; if it is above one, "
        "it **explodes** and training becomes unstable.\n\n"
        "The eigenvalues of the recurrent weight matrix (Weights tab) tell which way it goes: "
        "inside the unit circle, shrinking; outside, growing. Gradient clipping caps the length "
        "of each update and tames explosions; it can't bring back a vanished gradient.",
        ("vanishing_rnn", "vanishing_lstm", "exploding", "exploding_clipped"),
    ),
    Concept(
        "LSTM: gates and the cell state",
        "The Long Short-Term Memory cell adds a second state, the **cell state** c, and three "
        "**gates**, each a number between 0 and 1 per unit: the *input* gate decides how much "
        "new information to write, the *forget* gate how much of the old cell state to keep, "
        "and the *output* gate how much of the cell to show as the hidden state. Because the "
        "cell state is updated by adding rather than by repeated squashing, information and "
        "gradient can travel across many steps.",
        ("lstm_gates",),
    ),
    Concept(
        "GRU: fewer gates, similar results",
        "The Gated Recurrent Unit merges the forget and input gates into one **update gate** and "
        "adds a **reset gate** that decides how much of the past to use when proposing a new "
        "state. It has no separate cell state and three weight blocks instead of four, so about "
        "a quarter fewer parameters, and on many tasks it learns as well as an LSTM.",
        ("gru", "gru_lstm"),
    ),
    Concept(
        "Applications: text, time series, speech",
        "Text: read characters one by one and predict the next, then sample from the "
        "predictions to write new text. Time series: learn the rhythm of a signal and forecast "
        "it, feeding predictions back in. Speech: turn sound into a sequence of spectrogram "
        "frames and say which word was spoken, or, from real recordings, who spoke. Sentiment: "
        "read a review word by word and say whether it is positive; in 'good at first, but "
        "dull' only the order of the words tells praise from blame.",
        (
            "text",
            "forecast",
            "real_forecast",
            "speech",
            "speakers",
            "order_lstm",
            "order_no_memory",
        ),
    ),
    Concept(
        "Variable-length sequences",
        "Sentences, recordings and series don't come in one size. A recurrent network doesn't "
        "mind: it simply runs for as many steps as the input has. In a batch, shorter sequences "
        "are padded, and the padding is kept out of both the hidden state and the loss.",
        ("variable_length",),
    ),
    Concept(
        "Translation: encoder, decoder and attention",
        "To turn one sequence into another of a different length, such as a sentence into its "
        "translation, two recurrent networks work in turn. The **encoder** reads the sentence "
        "word by word; the **decoder** then writes the answer one symbol at a time, each time "
        "fed the symbol it wrote last. Without attention the decoder knows the sentence only "
        "through the encoder's last hidden state: one vector of fixed size, however long the "
        "sentence, so long sentences get squeezed and their early words fade.\n\n"
        "**Attention** lets the decoder look back at every word: before writing each symbol it "
        "scores all the encoder's states, mixes them by those scores, and reads the mixture. "
        "Here the sentences are numbers in words (three hundred and twelve → 312). The "
        "**Translate** page trains both kinds side by side and shows where the attention looks.",
        (),
        claims=("translation",),
    ),
]

INTRO = (
    "Pick a cell and a task in the sidebar and press **Train**. The model learns right here, on "
    "the server's CPU, and every chart below is redrawn as it learns. New to recurrent networks? "
    "Open **Learn** in the navigation for the ideas, each with a one-click demo."
)
