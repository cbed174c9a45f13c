"""Refactors change no number: today's engine and analyses against outputs stored before the
restructuring of issue 12 (tests/golden.py says how the file was made)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.golden import GOLDEN_FILE, golden_outputs


@pytest.fixture(scope="module")
def outputs() -> dict[str, np.ndarray]:
    return golden_outputs()


def test_every_stored_output_is_still_produced(outputs: dict[str, np.ndarray]) -> None:
    stored = np.load(GOLDEN_FILE)
    assert sorted(stored.files) == sorted(outputs)


def test_numbers_unchanged_to_1e_12(outputs: dict[str, np.ndarray]) -> None:
    stored = np.load(GOLDEN_FILE)
    different = []
    for key in stored.files:
        expected, actual = stored[key], outputs[key]
        scale = float(np.nanmax(np.abs(expected))) if np.isfinite(expected).any() else 0.0
        same = np.isclose(actual, expected, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)
        if actual.shape != expected.shape or not same.all():
            different.append(key)
    assert not different, f"{len(different)} outputs changed, e.g. {different[:5]}"
