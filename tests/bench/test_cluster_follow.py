"""How the failover follower reads the browser recorder's lists of changes (bench/cluster.py)."""

from __future__ import annotations

from bench.cluster import shown_since


def test_a_value_shown_again_after_reopening_counts_from_the_reopening():
    # Killed while the first tick was still coming: "Step 0" before and after, one entry only.
    assert shown_since([[1.0, 0]], since=5.0, value=0) == [5.0]


def test_changes_after_reopening_are_read_as_they_came():
    changes = [[1.0, "Pause"], [6.0, None], [7.0, "Train"]]
    assert shown_since(changes, since=5.0, value="Train") == [7.0]
    assert shown_since([[1.0, 12], [6.0, 0]], since=5.0, value=0) == [6.0]


def test_a_value_no_longer_shown_does_not_count():
    assert shown_since([[1.0, 12]], since=5.0, value=0) == []
    assert shown_since([[1.0, 0], [6.0, 3]], since=5.0, value=0) == []
    assert shown_since([], since=5.0, value=0) == []
