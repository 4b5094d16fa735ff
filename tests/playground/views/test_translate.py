"""The Translate page under AppTest: both networks step together, the charts come from their
probes, and a typed phrase is translated, or answered with a plain message. The cell picker
shows titles; the translation claim's box is offered under the panel."""

from __future__ import annotations

from playground.views import translate
from tests.playground.helpers import button, click, figures, open_page, run_of, running, settle


def small_page():
    at = open_page("translate")
    assert any("Press Train" in m.value for m in at.info)
    at.number_input(key="translate_hidden").set_value(8)
    at.number_input(key="translate_groups").set_value(1)
    at.number_input(key="translate_steps").set_value(300)
    return at.run()


def test_step_trains_both_networks_and_draws_their_charts():
    at = small_page()
    settle(click(at, "translate_step"), "translate")
    assert not at.exception, at.exception
    driver = run_of(at, "translate")
    assert [run.steps_done for run in driver.runs.values()] == [100, 100]
    assert driver.runs["plain"].config.attention == "none"
    assert driver.runs["attention"].config.attention == "additive"
    shown = figures(at)
    assert {"chart_attention", "chart_exact_by_length", "chart_encoder_grad"} <= set(shown)
    attention = shown["chart_attention"]["data"][0]
    assert attention["type"] == "heatmap" and len(attention["x"]) == 4  # "three hundred and twelve"
    bars = shown["chart_exact_by_length"]["data"]
    assert [b["name"] for b in bars] == ["without attention", "with attention"]
    assert list(bars[0]["x"]) == translate.BUCKETS
    answers = [m.value for m in at.markdown if m.value.startswith("without attention:")]
    assert answers and "with attention: **" in answers[0]
    assert any(m.value.startswith("**Step 100 / 300**") for m in at.markdown)


def test_bad_phrase_gets_a_message_and_train_pauses():
    at = small_page()
    settle(click(at, "translate_step"), "translate")
    at.text_input(key="translate_phrase").set_value("three hundred and twelv").run()
    assert not at.exception, at.exception
    assert any("unknown word 'twelv'" in w.value for w in at.warning)
    assert "chart_attention" not in figures(at)
    at.text_input(key="translate_phrase").set_value("").run()
    assert any("type a number in words" in w.value for w in at.warning)
    click(at, "translate_train")
    assert running(at, "translate") and button(at, "translate_train")["label"] == "Pause"
    click(at, "translate_train_stop")
    assert not running(at, "translate") and not at.exception


def test_a_phrase_longer_than_the_longest_number_is_refused_plainly():
    at = small_page()  # up to 999: five words at most
    settle(click(at, "translate_step"), "translate")
    at.text_input(key="translate_phrase").set_value("one thousand two hundred and five").run()
    assert any("at most 5 words here, got 6" in w.value for w in at.warning)
    assert not at.exception


def translate_uploader(at):
    return next(
        u for u in at.get("file_uploader") if u.key.startswith("translate_checkpoint_upload")
    )


def test_take_home_offers_the_downloads_and_its_own_checkpoint_trains_on_exactly():
    from core import Experiment, ExperimentConfig
    from core.checkpoint import checkpoint_bytes
    from core.seq2seq import Seq2SeqExperiment
    from core.seq2seq_checkpoint import seq2seq_checkpoint_bytes
    from playground.actions import translation

    at = small_page()
    assert not at.get("download_button"), "nothing to download before a run"
    settle(click(at, "translate_step"), "translate")
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Checkpoint of both networks (.pt)", "Standalone script (.py)"]
    source = run_of(at, "translate")
    raw = translation.checkpoint_file(source)()
    assert "--attention" in translation.script_text(source.config, source.steps)

    other = open_page("translate")  # a new visitor, with the page's defaults
    translate_uploader(other).upload("mine.pt", raw, "application/octet-stream").run()
    assert not other.exception and not other.error, [e.value for e in other.error]
    assert any("Loaded mine" in s.value and "at step 100" in s.value for s in other.success)
    loaded = run_of(other, "translate")
    assert [run.steps_done for run in loaded.runs.values()] == [100, 100]
    assert other.number_input(key="translate_hidden").value == 8
    assert other.number_input(key="translate_groups").value == 1
    # The step target is the visitor's own Steps (the file holds none), here the default.
    assert other.number_input(key="translate_steps").value == 1500 == loaded.steps
    assert not any("settings changed" in i.value for i in other.info)
    settle(click(other, "translate_step"), "translate")
    settle(click(at, "translate_step"), "translate")
    for label, run in loaded.runs.items():
        assert run.steps_done == 200
        assert run.history.train_loss == source.runs[label].history.train_loss, label

    # A file of the other kind, or settings this page can't set: a message, the runs kept.
    sequence = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=4))
    config = loaded.config.replace(embed=16)
    runs = {"plain": Seq2SeqExperiment(config.replace(attention="none"))}
    runs["attention"] = Seq2SeqExperiment(config)
    for name, file, says in [
        ("seq", checkpoint_bytes(sequence), "Playground page"),
        ("wide", seq2seq_checkpoint_bytes(runs), "embed 16"),
        ("junk", b"PK not really", "not a playground checkpoint"),
    ]:
        translate_uploader(other).upload(f"{name}.pt", file, "application/octet-stream").run()
        assert not other.exception
        errors = [e.value for e in other.error]
        assert any(name in e and says in e for e in errors), errors
        assert run_of(other, "translate") is loaded, name


def test_the_cell_picker_shows_titles_and_the_translation_claim_is_offered():
    at = open_page("translate")
    picker = at.selectbox(key="translate_cell")
    assert picker.options == ["Vanilla RNN (tanh)", "LSTM", "GRU"] and picker.value == "gru"
    kinds = at.selectbox(key="translate_attention")
    assert kinds.options == ["Additive (Bahdanau)", "Dot product (Luong)"], kinds.options
    assert [e.label for e in at.expander] == [
        "Take it home: checkpoint, script; or continue from a checkpoint",
        "Check the claim: Translation and attention",
    ]
    at.selectbox(key="translate_cell").set_value("lstm").run()
    assert not at.exception and at.selectbox(key="translate_cell").value == "lstm"
    at.button(key="claim_translation").click().run()  # an idle claim's button is a plain one
    assert running(at, "claim") and button(at, "claim_translation")["label"] == "Stop"
    click(at, "claim_translation_stop")
    assert not at.exception and not running(at, "claim")
