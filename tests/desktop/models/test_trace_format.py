"""How the trace view writes durations, costs and its time axis."""

from __future__ import annotations

import pytest

from desktop.models.trace import format_cost, format_ms
from desktop.widgets.waterfall import tick_label, tick_step


@pytest.mark.parametrize(("ms", "text"), [(0, "0 ms"), (0.25, "0.25 ms"), (850, "850 ms"), (1250, "1.25 s"),
                                          (125_000, "2 min 05 s")])
def test_durations(ms: float, text: str) -> None:
    assert format_ms(ms) == text


@pytest.mark.parametrize(("cost", "text"), [(0, "$0.0000"), (0.000098, "$0.000098"), (0.0042, "$0.0042"),
                                            (12.5, "$12.50"), (1234.5, "$1,234.50")])
def test_costs(cost: float, text: str) -> None:
    assert format_cost(cost) == text


@pytest.mark.parametrize(("scale", "step"), [(1.0, 100.0), (0.5, 200.0), (0.1, 1000.0), (0.009, 10_000.0),
                                             (10.0, 10.0), (50.0, 2.0)])
def test_axis_ticks_are_1_2_5_steps_at_least_90_px_apart(scale: float, step: float) -> None:
    assert tick_step(scale) == step
    assert step * scale >= 90


def test_axis_labels_follow_the_step() -> None:
    assert [tick_label(t, 250) for t in (0, 250, 1500)] == ["0 ms", "250 ms", "1,500 ms"]
    assert [tick_label(t, 2000) for t in (0, 4000)] == ["0 s", "4 s"]
    assert tick_label(1500, 500) == "1,500 ms"
    assert tick_label(2500, 5000.0 / 2) == "2.5 s"
