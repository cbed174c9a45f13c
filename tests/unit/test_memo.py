"""ui.memo keeps a result per argument content: equal content reuses it, any change in a
value, an order, a dtype or a label computes afresh."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import Scenario
from sim.splits import Bounds
from ui.memo import by_content, fingerprint, scenario_key


def test_equal_content_gives_equal_fingerprints_and_any_change_does_not() -> None:
    values = np.arange(12.0).reshape(3, 4)
    assert fingerprint(values) == fingerprint(values.copy())
    assert fingerprint(values) != fingerprint(values.astype(np.float32))
    assert fingerprint(values) != fingerprint(values.reshape(4, 3))
    changed = values.copy()
    changed[2, 3] += 1e-12
    assert fingerprint(values) != fingerprint(changed)
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.rename(columns={"b": "c"}))
    assert fingerprint(frame) != fingerprint(frame.iloc[::-1])
    assert fingerprint({"a": 1, "b": 2}) != fingerprint({"b": 2, "a": 1})
    assert fingerprint(1) != fingerprint(1.0) != fingerprint("1")
    assert fingerprint(Bounds()) == fingerprint(Bounds())
    assert fingerprint(Bounds()) != fingerprint(Bounds(hot=(0.0, 50.0)))


def test_by_content_computes_once_per_content() -> None:
    calls: list[float] = []

    @by_content(2)
    def total(values: np.ndarray, scale: float = 1.0) -> float:
        calls.append(scale)
        return float(values.sum() * scale)

    data = np.array([1.0, 2.0, 3.0])
    assert total(data) == 6.0 and total(data.copy()) == 6.0 and len(calls) == 1
    assert total(data, scale=2.0) == 12.0 and len(calls) == 2
    assert total(data + 1) == 9.0 and len(calls) == 3
    assert total(data) == 6.0 and len(calls) == 4  # the oldest of two was dropped


def test_scenario_key_follows_every_field() -> None:
    base = Scenario()
    assert scenario_key(base) == scenario_key(Scenario())
    other = base.model_copy(update={"name": base.name + " 2"})
    assert scenario_key(other) != scenario_key(base)
