"""Words for the Translate page. Plain data; no Streamlit here."""

TITLE = "Translation: number words to digits"
INTRO = (
    "Two encoder-decoders learn to turn English number words into digits (three hundred and "
    "twelve → 312) from the same batches: one without attention, whose decoder sees the sentence "
    "only through the encoder's last hidden state, and one with attention, which looks back at "
    "every word as it writes each digit. Watch the long sentences: that is where they part."
)
START = "Press Train (or Step 100) to start both networks."
ATTENTION_TITLES = {  # core.seq2seq ATTENTIONS, as the picker names them
    "additive": "Additive (Bahdanau)",
    "dot": "Dot product (Luong)",
}
ATTENTION_HELP = (
    "How the second network scores each word against the digit it is writing: a small learned "
    "layer over both hidden states, or their dot product. The first network has none."
)
PHRASE_LABEL = "Type a number in words"
PHRASE_HELP = "Words such as one, twelve, forty, hundred, and, thousand, million; hyphens are fine."
DEFAULT_PHRASE = "three hundred and twelve"
CHANGED = "The settings changed: Train starts new networks with them."
TAKE_HOME = (
    "**Take it home.** The checkpoint holds both networks: their weights, optimizer state, "
    "settings and history, so uploading it here later trains on exactly where they stopped "
    "(`core.seq2seq_checkpoint.load_seq2seq_checkpoint` reads it in a notebook). The script needs "
    "only PyTorch and NumPy and rebuilds the data, the network with attention and its training "
    "loop: `python run.py --steps 200`; add `--attention none` for the other network."
)
UPLOAD_HELP = "A checkpoint downloaded from this page (both networks, their settings and history)."
