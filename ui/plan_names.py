"""Plans renamed since older share links were made: how a link's old plan name reads now.

Issue 13 writes every split in one notation, whole percents with slashes (40/30/30). The
shipped scenarios' variants were renamed to match (the table is `sim.scenario.RENAMED_VARIANTS`)
and the base plan's label changed with the notation ("Base plan (6:3:1)" is now "Base plan
(60/30/10)"). Links made before still carry the old names; ui.state rewrites such a link's
values with `renamed_value` so it opens the same plan, and says so on the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from sim.scenario import renamed_variant

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
    be read); a variant is renamed only when that scenario has its new name and not the old.
    """
    if OLD_BASE_LABEL.fullmatch(value):
        return base_label if value != base_label else None
    file, separator, name = value.partition(FILE_SEPARATOR)
    stem, prefix = (file, file + separator) if separator else (None, "")
    name = name if separator else value
    names = variants(stem)
    new = None if names is None else renamed_variant(name, names)
    return None if new is None else prefix + new
