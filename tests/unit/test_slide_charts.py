"""Presenter slides' charts (`ui.charts.for_slide`, issue 15), drawn as SVG by vl-convert at a
1280x720 slide's size: every text at least the slide's size (mark labels 2 px smaller), whole
input names on the tornado, legends on the right with visible symbols, and the colour bar no
taller than the plot."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import vl_convert

from sim.splits import OBJECTIVES, Bounds
from ui import charts
from ui.splits import GRID, map_cells

WIDTH, HEIGHT, FONT = 1200, 390, 18
LONG_NAMES = ["Retention spend scale ($ per customer)",
              "Return rate at reference (share of orders)"]


def _svg(spec: dict) -> str:
    drawn = dict(spec, width=WIDTH)  # "container" has no width outside a page
    return vl_convert.vegalite_to_svg(json.dumps(drawn))


def _texts(svg: str) -> list[tuple[float, str]]:
    return [(float(size), text) for size, text in
            re.findall(r'<text[^>]*font-size="([\d.]+)px"[^>]*>([^<]*)</text>', svg)]


def _tornado() -> dict:
    rows = pd.DataFrame({"label": ["Engagement rate (per impression)", *LONG_NAMES],
                         "low": [-2e5, 5e4, 8e4], "high": [6e5, 3e5, 1.4e5],
                         "low_text": ["0.58%", "$20.42", "6.4%"],
                         "high_text": ["1.7%", "$4.90", "3.3%"]})
    return charts.for_slide(charts.tornado_chart(rows, 1e5, "Profit ($)"), HEIGHT, FONT)


def _split_map() -> dict:
    values = np.random.default_rng(3).normal(1e5, 2e4, size=(len(GRID), 40))
    markers = pd.DataFrame([{"cold": 60, "warm": 30, "kind": "6:3:1", "label": "60/30/10"},
                            {"cold": 45, "warm": 15, "kind": "Best cell", "label": "best"}])
    return charts.for_slide(charts.split_map_chart(
        map_cells(values, OBJECTIVES["mean_profit"], Bounds(), 3), "Median profit ($)",
        markers=markers), HEIGHT, FONT)


@pytest.mark.parametrize("build", [_tornado, _split_map], ids=["tornado", "split map"])
def test_slide_text_is_large_and_whole(build) -> None:
    texts = _texts(_svg(build()))
    assert texts
    assert min(size for size, _ in texts) >= FONT - 2
    assert not [text for _, text in texts if text.endswith("…")]


def test_tornado_shows_the_whole_input_names() -> None:
    shown = {text for _, text in _texts(_svg(_tornado()))}
    assert set(LONG_NAMES) <= shown


def test_split_map_legends_sit_right_with_visible_symbols() -> None:
    spec = _split_map()
    legends = [layer["encoding"][channel]["legend"] for layer in spec["layer"]
               for channel in ("color", "shape") if channel in layer.get("encoding", {})
               and isinstance(layer["encoding"][channel].get("legend"), dict)]
    assert legends and all(legend["orient"] == "right" for legend in legends)
    gradient = next(legend["gradientLength"] for legend in legends if "gradientLength" in legend)
    assert gradient <= HEIGHT - 200  # the x axis and the legends' titles and symbols fit too
    svg = _svg(spec)
    symbols = re.findall(r'role-legend-symbol"[^>]*>(.*?)</g>', svg)
    fills = re.findall(r'fill="([^"]+)"', " ".join(symbols))
    assert len(fills) == 2 and not {"white", "transparent", "none"} & set(fills), fills
    shown = {text for _, text in _texts(svg)}
    assert {"6:3:1", "Best cell"} <= shown
