"""Variants of the shipped scenarios renamed to the app's one split notation (issue 13).

Every split is written in whole percents with slashes (40/30/30), so the shipped variants were
renamed to match: "4:3:3 balanced" is now "40/30/30 balanced". Links, saved settings and CLI
commands made before still name the old variants; this table (the one place the old names are
kept) says which variant each of them is now.
"""

from __future__ import annotations

from collections.abc import Collection

#: Old name -> new name of every renamed variant of the shipped scenarios.
RENAMED_VARIANTS: dict[str, str] = {
    # scenarios/baseline.yaml
    "8:2:0 acquisition first": "80/20/0 acquisition first",
    "4:3:3 balanced": "40/30/30 balanced",
    "3:6:1 nurture leads": "30/60/10 nurture leads",
    "2:3:5 retention heavy": "20/30/50 retention heavy",
    # scenarios/retention_first.yaml
    "6:3:1 rule": "60/30/10 rule",
    "Sales-oriented 7:3:0": "Sales-oriented 70/30/0",
    "Customer-centric 2:3:5": "Customer-centric 20/30/50",
}


def renamed_variant(name: str, variants: Collection[str]) -> str | None:
    """Return the new name of variant `name` when it was renamed and `variants` (a scenario's
    variant names) holds the new name but not the old one; else None. A file in which someone
    still calls a plan "4:3:3 balanced" keeps that plan."""
    new = RENAMED_VARIANTS.get(name)
    if new is None or name in variants or new not in variants:
        return None
    return new
