"""The sidebar under AppTest: the CSV uploader and what it shows."""

from __future__ import annotations

from tests.playground.helpers import (
    click,
    experiment,
    open_app,
    settle,
    status_text,
)


def test_csv_upload_errors_are_messages_and_good_files_are_used():
    at = open_app(task="csv", seq_len="20")
    assert not at.exception
    at.file_uploader(key="csv_upload").upload(
        "broken.csv", b"\x00\x01\x02garbage", "text/csv"
    ).run()
    assert any("Could not use broken\\.csv" in e.value for e in at.error)  # escaped Markdown
    assert not at.exception
    assert at.session_state["csv_table"] is None
    rows = "\n".join(f"{i},{(i * 7) % 13}.5" for i in range(200))
    at.file_uploader(key="csv_upload").set_value(
        ("series.csv", f"day,value\n{rows}".encode(), "text/csv")
    )
    at.run()
    assert not at.exception
    assert at.session_state["csv_table"].columns == ["day", "value"]
    # The Column picker shows the new file's columns in the same run as the upload.
    assert at.selectbox(key="w_csv_column").options == ["auto: value", "day", "value"]
    # "day" counts the rows (a time axis): the forecast starts on "value", and the page says why.
    assert at.selectbox(key="w_csv_column").value == 1
    assert experiment(at).task.column_name == "value"
    assert any("day steps evenly" in i.value for i in at.info), [i.value for i in at.info]
    # Never trained: the experiment switched to the uploaded table at once.
    assert experiment(at).data is at.session_state["csv_table"]
    settle(click(at, "step1"))
    assert status_text(at).startswith("**Step 1 /")


def test_file_names_and_columns_are_shown_as_text_not_markup():
    at = open_app(task="csv", seq_len="20")
    rows = "\n".join(f"{i},{i % 5}" for i in range(100))
    evil = "[log in](https://evil.example)"
    at.file_uploader(key="csv_upload").upload(
        f"{evil}.csv", f"t,{evil}\n{rows}".encode(), "text/csv"
    )
    at.run()
    assert not at.exception
    shown = [c.value for c in at.caption] + [i.value for i in at.info]
    assert any("evil" in text for text in shown)
    for text in shown:
        assert "](" not in text.replace("\\]\\(", ""), text  # every bracket escaped
    at.file_uploader(key="csv_upload").upload(f"{evil}.csv", b"\x00garbage", "text/csv").run()
    assert any("evil" in e.value and "](" not in e.value.replace("\\]\\(", "") for e in at.error)
