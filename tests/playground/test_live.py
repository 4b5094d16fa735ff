"""The live worker (playground/live.py): slices of training in a thread of their own, fair slots,
probes only for drawings the page has made, and a clean stop whatever happens."""

from __future__ import annotations

import threading
import time

import pytest

from core import Experiment, ExperimentConfig
from playground import live
from playground.drivers import TrainingDriver
from playground.live import MAX_STEPS_PER_SLICE, Pace, Slots


def small_run(max_steps: int = 100_000) -> TrainingDriver:
    config = ExperimentConfig(cell="gru", task="adding", seq_len=10, hidden=8, batch_size=8)
    return TrainingDriver(Experiment(config), max_steps)


def wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_pace_fills_a_slice():
    pace = Pace()
    pace.record(steps=10, seconds=0.05)  # measured: 5 ms a step
    pace.record(steps=10, seconds=0.05)
    k = pace.next_k(remaining=10_000, seconds=0.15)
    assert 15 <= k <= 40  # ~0.15 s of steps at ~5-7 ms each
    assert pace.next_k(remaining=3, seconds=0.15) == 3  # never past the budget
    assert Pace(seconds_per_step=1e-7).next_k(10_000, 0.15) == MAX_STEPS_PER_SLICE
    assert Pace(seconds_per_step=5.0).next_k(10_000, 0.15) == 1  # one step, even a huge model


def test_slices_shrink_when_many_runs_take_turns(monkeypatch):
    slots = Slots(2)
    monkeypatch.setattr(live, "SLOTS", slots)
    assert live.slice_seconds() == live.SLICE_SECONDS  # nobody else: the longest slice
    held = slots.acquire(2)
    monkeypatch.setattr(slots, "_queue", [object()] * 14)  # 16 runs want the 2 slots
    assert live.slice_seconds() == pytest.approx(
        max(live.MIN_SLICE_SECONDS, live.CYCLE_SECONDS * 2 / 16)
    )
    slots._queue = []
    slots.release(held)


def test_slots_go_first_come_first_served():
    slots = Slots(1)
    assert slots.acquire(1) == 1
    order: list[int] = []

    def waiter(name: int) -> None:
        assert slots.acquire(1, timeout=10) == 1
        order.append(name)
        slots.release()

    threads = []
    for name in range(5):
        thread = threading.Thread(target=waiter, args=(name,))
        thread.start()
        threads.append(thread)
        wait(lambda n=name: slots.demand() == n + 2)  # in the queue, in this order
    slots.release()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_a_slot_request_gives_up_after_its_timeout():
    slots = Slots(1)
    slots.acquire(1)
    started = time.monotonic()
    assert slots.acquire(1, timeout=0.1) == 0
    assert 0.08 < time.monotonic() - started < 5.0
    assert slots.demand() == 1  # the request left the queue
    threading.Timer(0.1, slots.release).start()
    assert slots.acquire(2, timeout=5.0) == 1  # more only if free at once


def test_train_pause_and_step_in_the_worker():
    driver = small_run()
    live.start(driver)
    assert live.running(driver) and live.busy(driver)
    wait(lambda: driver.step >= 20)
    live.pause(driver)
    assert live.settle(driver)
    paused_at = driver.step
    time.sleep(0.2)
    assert driver.step == paused_at  # nothing trains after Pause
    assert driver.probe is not None and driver.probe.step == paused_at  # the final state, probed
    live.request(driver, 7)
    assert live.settle(driver)
    assert driver.step == paused_at + 7 and driver.probe.step == paused_at + 7
    assert not live.running(driver)


def test_the_count_after_a_pause_is_final():
    """Pause waits for the slice in progress: what the page draws next is where the run stays."""
    for _ in range(5):
        driver = small_run()
        live.start(driver)
        wait(lambda d=driver: d.step >= 5)
        live.pause(driver)
        paused_at = driver.step
        assert live.settle(driver)
        assert driver.step == paused_at
        live.close(driver)


def test_steps_clicked_while_slices_are_short_all_get_taken():
    """Three Step 10 clicks in a row, with slices of 3 steps: thirty steps, none dropped."""
    from playground.actions import training

    driver = small_run()
    driver.pace.seconds_per_step = 0.05  # next_k gives 3 steps per slice
    driver.pace.record = lambda steps, seconds: None  # ... and keeps doing so
    training_driver = training.driver
    try:
        training.driver = lambda: driver
        for _ in range(3):
            training.step(10)
        assert live.settle(driver)
    finally:
        training.driver = training_driver
    assert driver.step == 30


def test_a_run_stops_itself_at_its_budget():
    driver = small_run(max_steps=30)
    live.start(driver)
    assert live.settle(driver)
    assert driver.step == 30 and not live.running(driver)
    assert driver.live.thread is None and driver.probe.step == 30


def test_the_worker_probes_only_for_drawings_the_page_made():
    driver = small_run()
    live.start(driver)
    wait(lambda: driver.live.probes >= 1)
    time.sleep(0.5)  # the page draws nothing: no more probes, training goes on
    assert driver.live.probes == 1
    assert driver.step > driver.probe.step
    for drawing in range(3):
        live.seen(driver, driver.live.version)  # the page drew the run as it is
        wait(lambda d=drawing: driver.live.probes >= d + 2)
    live.pause(driver)
    live.settle(driver)
    assert driver.live.probes <= 5  # 4 during training (one per drawing) and the final one


def test_a_closed_run_stops_and_never_starts_again():
    driver = small_run()
    live.start(driver)
    wait(lambda: driver.step > 0)
    driver.close()
    wait(lambda: driver.live.thread is None)
    stopped_at = driver.step
    live.start(driver)
    live.request(driver, 5)
    assert driver.live.thread is None
    time.sleep(0.1)
    assert driver.step == stopped_at


def test_an_error_in_training_stops_the_run_with_a_message(monkeypatch):
    driver = small_run()

    def broken(k, workers=1):
        raise RuntimeError("out of luck")

    monkeypatch.setattr(driver, "advance", broken)
    live.start(driver)
    assert live.settle(driver)
    assert not live.running(driver)
    assert "RuntimeError: out of luck" in driver.live.error
    monkeypatch.undo()
    live.start(driver)  # Train again: the error is gone and it trains
    wait(lambda: driver.step > 0)
    assert not driver.live.error


def test_a_busy_server_says_waiting(monkeypatch):
    slots = Slots(1)
    monkeypatch.setattr(live, "SLOTS", slots)
    monkeypatch.setattr(live, "SLOT_WAIT_SECONDS", 0.05)
    slots.acquire(1)
    driver = small_run()
    live.start(driver)
    wait(lambda: driver.live.waiting)
    assert driver.step == 0
    slots.release()
    wait(lambda: driver.step > 0)
    assert not driver.live.waiting


def test_the_page_can_read_the_history_while_the_worker_appends():
    driver = small_run()
    history = driver.experiment.history
    live.start(driver)
    for _ in range(300):
        steps, loss, val = history.columns("step", "train_loss", "val_loss")
        assert len(steps) == len(loss) == len(val)
        history.validations()
    live.pause(driver)
    live.settle(driver)
