"""Plans renamed since older share links were made: the one table of old and new names.

Issue 13 writes every split in one notation, whole percents with slashes (40/30/30). The
shipped scenarios' variants were renamed to match ("4:3:3 balanced" is now "40/30/30
balanced"), and the base plan's label changed with the notation ("Base plan (6:3:1)" is now
"Base plan (60/30/10)"). Links and saved settings made before still carry the old names; this
module says which plan each old name is now, so such a link opens the same plan (ui.state
rewrites the link's values and says so on the page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

#: Old name -> new name of every renamed variant of the shipped scenarios.
RENAMED_PLANS: dict[str, str] = {
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
#: The base plan's label as the ratio notation wrote it: 'Base plan (6:3:1)',
#: 'Base plan (45:35:20)', 'Base plan (66.7:33.3:0)'.
OLD_BASE_LABEL = re.compile(r"Base plan \(\d+(?:\.\d+)?:\d+(?:\.\d+)?:\d+(?:\.\d+)?\)")
#: How the Compare page names a plan of any library file: 'baseline — 40/30/30 balanced'.
FILE_SEPARATOR = " — "


def renamed_value(value: str, variants: Callable[[str | None], Collection[str] | None],
                  base_label: str) -> str | None:
    """Return what a link value naming a renamed plan reads now, or None when it names none.

    Forms: a variant's name ('4:3:3 balanced', as Sensitivity and Budget split write it),
    Compare's 'file — variant' ('baseline — 4:3:3 balanced'), and the base plan's label in the
    ratio notation ('Base plan (6:3:1)' -> `base_label`). `variants(None)` gives the variant
    names of the scenario shown, `variants(stem)` those of a library file (None when it cannot
    be read). A name is renamed only when that scenario has the new name and not the old one,
    so a plan someone still calls "4:3:3 balanced" in their own file keeps opening.
    """
    if OLD_BASE_LABEL.fullmatch(value):
        return base_label if value != base_label else None
    file, separator, name = value.partition(FILE_SEPARATOR)
    stem, prefix = (file, file + separator) if separator else (None, "")
    name = name if separator else value
    new = RENAMED_PLANS.get(name)
    names = variants(stem) if new is not None else None
    if new is None or names is None or name in names or new not in names:
        return None
    return prefix + new
