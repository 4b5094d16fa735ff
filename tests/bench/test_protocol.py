"""The protocol-level visitor (bench/protocol.py) against a live server: the short version of the
class bench (bench/crowd.py) that CI keeps. Two visitors click at once; every click's effect
must show (button swapped, run paused, steps taken, count back at 0). No speed thresholds: the
waits are generous and only say a click was lost, never that it was slow."""

from __future__ import annotations

import asyncio

import pytest

from bench.browser import Server
from bench.protocol import Visitor

LOST_S = 30.0  # far past the 1.5 s resend: a click not seen by then is lost, not slow
SCRIPT = ["train", "train_stop", "step10", "step1", "train", "step10", "train", "reset", "step1"]


@pytest.fixture(scope="module")
def server():
    with Server() as running:
        yield running


async def clicks(url: str, who: str) -> list[tuple[str, bool, int]]:
    visitor = Visitor(url, "max_steps=100000", who)
    await visitor.open()
    seen = []
    try:
        for name in SCRIPT:
            click = await visitor.click(name)
            ok = await visitor.wait(lambda c=click: c.seen is not None, LOST_S)
            seen.append((name, ok, visitor.step))
            if name == "train":  # let it train a little before the next click
                await visitor.wait(lambda: visitor.step > seen[-1][2], LOST_S)
        assert not visitor.errors, visitor.errors
    finally:
        await visitor.close()
    return seen


async def two_visitors(url: str):
    return await asyncio.gather(clicks(url, "a"), clicks(url, "b"))


def test_every_click_of_two_protocol_visitors_shows_its_effect(server):
    for seen in asyncio.run(two_visitors(server.url)):
        print(seen)
        assert all(ok for _, ok, _ in seen), seen
        steps = dict(enumerate(step for _, _, step in seen))
        assert steps[3] == steps[2] + 1  # Step 1 after Step 10: exactly one more
        assert seen[-2][2] == 0 and seen[-1][2] == 1  # Reset, then one step
