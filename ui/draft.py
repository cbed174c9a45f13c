"""The scenario editor's draft, without widgets: values, variants, validation, words.

The editor (`ui.editor`) draws one input per field; everything it does with what was typed
lives here and is tested directly (tests/unit/test_draft.py):

- a file value's editor *form* (a number, a 90% range, a distribution) and its parameters,
  and numbers as people type them (`parse_number`: '2,000,000', '$45', '5%');
- the `Draft`: the file data being edited, where it came from, what was typed in each input
  (`keep_input`, so the draft outlives its widgets when another page is shown) and its variant
  rows (added, renamed, removed); `read_variants` turns the rows into the file's variants;
  `unsaved` says whether it differs from the saved file;
- `validate_draft`: the whole draft validated with `sim.scenario.build_scenario`, every problem
  as ``dotted.path: what is wrong``, and `place_problems` to show each beside its field;
- the scenario in words (`describe_value`, `scenario_table`, `editor_sentence`).

No streamlit here.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.distributions import uncertain_fields
from sim.scenario import (
    Scenario,
    ScenarioError,
    build_scenario,
    changed_fields,
    dotted_to_nested,
    field_catalog,
    parse_yaml,
)
from ui.format import format_param
from ui.library import read_entry, scenario_path, slugify
from ui.memo import scenario_text

#: Widget generations, unique in the process: a new draft never meets an old draft's widgets.
_GENERATIONS = itertools.count(1)

#: The forms a value may take, as offered in the editor (beta only for rates).
FORM_LABELS: dict[str, str] = {
    "number": "A number",
    "range": "90% range (low–high)",
    "uniform": "Uniform (min–max)",
    "triangular": "Triangular (min, mode, max)",
    "normal": "Normal (mean, sd)",
    "beta": "Beta (a, b)",
}
FORM_PARAMS: dict[str, tuple[str, ...]] = {
    "number": ("value",),
    "range": ("low", "high"),
    "uniform": ("min", "max"),
    "triangular": ("min", "mode", "max"),
    "normal": ("mean", "sd"),
    "beta": ("a", "b"),
}
PARAM_LABELS: dict[str, str] = {
    "value": "Value", "low": "Low (5th percentile)", "high": "High (95th percentile)",
    "min": "Min", "mode": "Most likely", "max": "Max", "mean": "Mean", "sd": "Std. deviation",
    "a": "a (successes)", "b": "b (failures)",
}
#: Editor tabs: title and the file sections they hold, in file order.
SECTION_TITLES: dict[str, str] = {
    "simulation": "Simulation", "finance": "Finance", "market": "Market",
    "budget": "Budget", "cold": "Cold traffic: people who do not know us yet",
    "warm": "Warm leads: people who know us but have not bought",
    "hot": "Existing buyers: keep them and make them buy again", "orders": "Orders",
    "guarantee": "Money-back guarantee",
}
CHURN_MODELS = {"monthly": "Constant monthly churn",
                "sbg": "Churn that falls with tenure (shifted-beta-geometric)"}
SBG_DEFAULTS = {"alpha": 0.7, "beta": 1.2}
MONTHLY_DEFAULT = 0.10


# --------------------------------------------------------------------------------------------
# Values: file form <-> editor form.


def value_form(value: Any) -> str:
    """Return the editor form of a file value: number, range, uniform, triangular, normal..."""
    if isinstance(value, Mapping):
        if "dist" in value:
            return str(value["dist"]) if value["dist"] in FORM_PARAMS else "number"
        return "range"
    return "number"


def value_params(value: Any) -> dict[str, Any]:
    """Return a file value's parameters keyed as in FORM_PARAMS (a number -> {"value": x})."""
    if isinstance(value, Mapping):
        return {key: item for key, item in value.items() if key != "dist"}
    return {"value": value}


def value_centre(value: Any) -> float:
    """Return a typical number of a file value (its middle), used to prefill another form."""
    params = value_params(value)
    try:
        form = value_form(value)
        if form == "range":
            low, high = float(params["low"]), float(params["high"])
            return math.sqrt(low * high) if low > 0 and high > 0 else (low + high) / 2
        if form == "uniform":
            return (float(params["min"]) + float(params["max"])) / 2
        if form == "triangular":
            return float(params["mode"])
        if form == "normal":
            return float(params["mean"])
        if form == "beta":
            return float(params["a"]) / (float(params["a"]) + float(params["b"]))
        return float(params["value"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 0.0


def _round(x: float) -> float:
    """Round to 4 significant digits (prefilled numbers should look typed, not computed)."""
    return float(f"{x:.4g}")


def form_defaults(form: str, centre: float, kind: str) -> dict[str, float]:
    """Return starting parameters of a form around a typical value (kept inside a rate's 0-1)."""
    low, high = centre * 0.75, centre * 1.25
    if kind == "rate" and high >= 1.0:
        high = (1.0 + centre) / 2
    if form == "number":
        return {"value": _round(centre)}
    if form == "range":
        return {"low": _round(low), "high": _round(high)}
    if form == "uniform":
        return {"min": _round(low), "max": _round(high)}
    if form == "triangular":
        return {"min": _round(low), "mode": _round(centre), "max": _round(high)}
    if form == "normal":
        return {"mean": _round(centre), "sd": _round(abs(centre) * 0.1 or 1.0)}
    share = min(max(centre, 0.01), 0.99)
    return {"a": _round(20 * share), "b": _round(20 * (1 - share))}


def number_text(value: Any) -> str:
    """Return a number as it is shown in an input box (plain digits, no exponent)."""
    if value is None:
        return ""
    return format_param(value)


def parse_number(text: str) -> int | float:
    """Read a number typed by a person: '2,000,000', '$45', '5%' (= 0.05), '1e-4'.

    Returns an int for whole numbers typed without a decimal point; raises ValueError with a
    readable message otherwise.
    """
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    cleaned = cleaned.removeprefix("$")
    percent = cleaned.endswith("%")
    cleaned = cleaned.removesuffix("%")
    if not cleaned:
        raise ValueError("enter a number")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", cleaned):
        raise ValueError(f"{text.strip()!r} is not a number (type digits such as 1500 or 0.05)")
    number = float(cleaned)
    if percent:
        return number / 100
    if re.fullmatch(r"[-+]?\d+", cleaned) and abs(number) < 1e15:
        return int(cleaned)
    return number


def form_value(form: str, params: Mapping[str, Any]) -> Any:
    """Return the file value of a form and its parameters."""
    if form == "number":
        return params["value"]
    if form == "range":
        return {"low": params["low"], "high": params["high"]}
    return {"dist": form, **{name: params[name] for name in FORM_PARAMS[form]}}


def _readable(x: Any) -> str:
    """A number for reading: thousands separated (2,000,000), small ones as typed (0.005)."""
    if isinstance(x, int | float) and not isinstance(x, bool) and abs(x) >= 10_000:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"
    return format_param(x)


def describe_value(value: Any, unit: str = "") -> str:
    """Return a file value in words: '$6 to $14 (90% range)', '0 to 0.04 (uniform)',
    '30 days', '$50,000 per month' (units starting with $ go before the number)."""
    money = unit.startswith("$")
    prefix = "$" if money else ""
    rest = unit[1:].strip() if money else unit
    suffix = f" {rest}" if rest else ""
    form = value_form(value)
    params = {key: prefix + _readable(item) for key, item in value_params(value).items()}
    if form == "number":
        return f"{params['value']}{suffix}"
    if form == "range":
        return f"{params['low']} to {params['high']}{suffix} (90% range)"
    if form == "uniform":
        return f"{params['min']} to {params['max']}{suffix} (uniform)"
    if form == "triangular":
        return (f"{params['min']} to {params['max']}{suffix}, most likely {params['mode']} "
                "(triangular)")
    if form == "normal":
        return f"{params['mean']}{suffix} ± {params['sd']} (normal)"
    return f"beta(a = {_readable(value['a'])}, b = {_readable(value['b'])})"


# --------------------------------------------------------------------------------------------
# Paths in plain file data.


def get_path(data: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path of file data (None when absent)."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of file data, creating sections on the way."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _leaf_paths() -> frozenset[str]:
    return frozenset(info.path for info in field_catalog())


def overrides_to_text(overrides: Mapping[str, Any]) -> str:
    """Return a variant's overrides as editor text: one `dotted.path: value` line per field."""
    leaves = _leaf_paths()
    lines: list[str] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping) and path not in leaves:
                walk(value, path + ".")
            else:
                lines.append(f"{path}: {format_param(value)}")

    walk(overrides, "")
    return "\n".join(lines)


def text_to_overrides(text: str, where: str) -> dict[str, Any]:
    """Read a variant's editor text into nested overrides; ScenarioError names `where`."""
    def relabel(problems: list[str]) -> list[str]:
        return [f"{where}: {p.split(': ', 1)[-1]}" for p in problems]

    try:
        data = parse_yaml(text, what="variant")
    except ScenarioError as error:
        raise ScenarioError(relabel(error.problems)) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ScenarioError([f"{where}: write one change per line as dotted.path: value "
                             "(for example guarantee.days: 365)"])
    try:
        return dotted_to_nested({str(key): value for key, value in data.items()})
    except ScenarioError as error:
        raise ScenarioError(relabel(error.problems)) from None


def place_problems(problems: list[str], slots: list[str]) -> dict[str, list[str]]:
    """Return problems grouped by the slot they belong beside (the longest matching path).

    A problem "budget.split.cold: ..." goes to slot "budget.split.cold" if it exists, else
    "budget.split", else "budget"; problems matching no slot go to "" (shown at the top).
    """
    by_length = sorted(slots, key=len, reverse=True)
    placed: dict[str, list[str]] = {}
    for problem in problems:
        target = ""
        for slot in by_length:
            if slot and (problem.startswith(slot + ": ") or problem.startswith(slot + ".")):
                target = slot
                break
        placed.setdefault(target, []).append(problem)
    return placed



# --------------------------------------------------------------------------------------------
# The draft.


@dataclass
class Draft:
    """What the editor is working on (kept in the session between runs).

    loaded: file data the current widgets were created from (their defaults); data: the latest
    file data read from the widgets; inputs: what was typed in each field input, by its name
    without the generation prefix (``guarantee.days:number:value``), so a widget that Streamlit
    forgot while another page was shown is drawn again with it; variants: the variant rows
    {id, name, text} as typed; stem/modified_ns/sha256: the library file and the version that
    was opened (None for a new or uploaded scenario); pushed: canonical text of the app's
    scenario this draft's fields were last made to match.
    """

    loaded: dict[str, Any]
    origin: str
    stem: str | None = None
    modified_ns: int = 0
    sha256: str = ""
    pushed: str | None = None
    generation: int = field(default_factory=lambda: next(_GENERATIONS))
    data: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0
    confirm: tuple[str, int, str] | None = None
    conflict: str | None = None
    notice: str | None = None

    def __post_init__(self) -> None:
        self.data = copy.deepcopy(self.loaded)
        self.variants = []
        for name, overrides in (self.loaded.get("variants") or {}).items():
            self.add_variant(str(name), overrides_to_text(overrides))

    def add_variant(self, name: str, text: str = "") -> None:
        """Append a variant row (a fresh widget id, so nothing is inherited)."""
        self.variants.append({"id": self.next_id, "name": name, "text": text})
        self.next_id += 1

    def prefix(self) -> str:
        """Return the prefix of this generation's widget keys."""
        return f"ed{self.generation}:"

    def add_new_variant(self) -> None:
        """Append an empty variant named "New variant" (numbered when that name is taken)."""
        names = {row["name"] for row in self.variants}
        name, number = "New variant", 2
        while name in names:
            name, number = f"New variant {number}", number + 1
        self.add_variant(name, "")

    def remove_variant(self, row_id: int) -> None:
        """Remove the variant row with this id (the file changes only when saved)."""
        self.variants = [row for row in self.variants if row["id"] != row_id]

    def keep_input(self, name: str, value: Any) -> None:
        """Record what was typed in the input `name` (its key without the generation prefix):
        a variant row's ``v<id>:name`` or ``v<id>:text``, the scenario's ``name`` or
        ``description``, or a field input (``<path>:form``, ``<path>:<form>:<param>``...).

        A number typed in a field of its current form also goes into `data` at once, so the
        draft is up to date even when the next run shows another page."""
        row_input = re.fullmatch(r"v(\d+):(name|text)", name)
        if row_input:
            for row in self.variants:
                if row["id"] == int(row_input[1]):
                    row[row_input[2]] = value.strip() if row_input[2] == "name" else value
            return
        if name in ("name", "description"):
            self.data[name] = str(value).strip()
            return
        self.inputs[name] = value
        parts = name.split(":")
        if len(parts) == 3 and isinstance(value, str):
            path, form, param = parts
            current = get_path(self.data, path)
            try:
                number = parse_number(value)
            except ValueError:
                return
            if current is not None and value_form(current) == form:
                set_path(self.data, path, form_value(form, {**value_params(current),
                                                            param: number}))

    def file_data(self) -> dict[str, Any]:
        """Return the file data of the draft: the fields, name and description as typed and
        the variants read from the rows (a row that cannot be read is left out)."""
        data = copy.deepcopy(self.data)
        data["variants"] = read_variants(self.variants)[0]
        return data

    def unsaved(self, saved: Scenario | None) -> bool:
        """True when the draft is not exactly `saved` (the library file it was opened from;
        None for a new or uploaded scenario, which is unsaved until it is saved)."""
        if saved is None:
            return True
        try:
            return build_scenario(self.file_data()).canonical() != saved.canonical()
        except ScenarioError:
            return True

    def reload_widgets(self) -> None:
        """Recreate every widget from the latest data (after its fields changed elsewhere)."""
        self.loaded = copy.deepcopy(self.data)
        self.inputs = {}
        self.generation = next(_GENERATIONS)

    def follow_fields(self, scenario: Scenario) -> None:
        """Take the fields of `scenario` (changed on another page or in the sidebar), keeping
        this draft's name, description and variants; the widgets are rebuilt."""
        data = scenario.to_file_dict()
        for key in ("name", "description", "variants"):
            data[key] = self.data.get(key, data[key])
        self.data = data
        self.pushed = scenario.canonical()
        self.reload_widgets()


def draft_from_scenario(scenario: Scenario, origin: str, stem: str | None = None) -> Draft:
    """Return a draft of a scenario; with `stem`, tied to that library file as it is now."""
    draft = Draft(loaded=scenario.to_file_dict(), origin=origin, stem=stem)
    if stem is not None:
        entry = read_entry(stem)
        draft.modified_ns, draft.sha256 = entry.modified_ns, entry.sha256
    return draft


def variant_where(row_id: int, name: str) -> str:
    """Return the dotted place of a variant row's problems: its name, or its row number."""
    return f"variants.{name}" if name else f"variants.(row {row_id + 1})"


def read_variants(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Return the file's variants from rows of {id, name, text} (as typed), and the problems.

    A row needs a name, names must differ, and each line of the text is `dotted.path: value`;
    a variant whose text cannot be read is kept empty so the others are still checked.
    """
    variants: dict[str, Any] = {}
    problems: list[str] = []
    for row in rows:
        name = row["name"]
        where = variant_where(row["id"], name)
        if not name:
            problems.append(f"{where}: give the variant a name")
            continue
        if name in variants:
            problems.append(f"{where}: two variants are called {name!r}; names must differ")
            continue
        try:
            variants[name] = text_to_overrides(row["text"], where)
        except ScenarioError as error:
            problems.extend(error.problems)
            variants[name] = {}
    return variants, problems


def _same_place(path: str, others: set[str]) -> bool:
    """True when `path` is one of `others`, inside one, or contains one."""
    return any(path == other or path.startswith(other + ".") or other.startswith(path + ".")
               for other in others)


@dataclass
class EditorResult:
    """What the widgets hold this run: file data, the scenario (None if invalid), problems."""

    data: dict[str, Any]
    scenario: Scenario | None
    problems: list[str]


def validate_draft(data: dict[str, Any], typed_problems: list[str]) -> EditorResult:
    """Validate the draft's file data as a whole; `typed_problems` are the editor's own
    (text that is not a number, unnamed variants). The scenario is None when any problem is
    left; a field whose text is not a number keeps only its own, clearer message."""
    bad_paths = {problem.split(": ", 1)[0] for problem in typed_problems}
    problems = list(typed_problems)
    scenario = None
    try:
        scenario = build_scenario(data)
    except ScenarioError as error:
        problems.extend(p for p in error.problems
                        if not _same_place(p.split(": ", 1)[0], bad_paths))
    if typed_problems:
        scenario = None
    return EditorResult(data, scenario, problems)



def free_stem(stem: str) -> str:
    """Return `stem`, or `stem-2`, `stem-3`... whichever names no library file yet."""
    candidate, number = stem, 2
    while scenario_path(candidate).exists():
        suffix = f"-{number}"
        candidate = f"{stem[:80 - len(suffix)]}{suffix}"
        number += 1
    return candidate



# --------------------------------------------------------------------------------------------
# Read-only view and the page's sentence.


def scenario_table(scenario: Scenario) -> pd.DataFrame:
    """Return every field of a scenario as rows: section, field, value in words, dotted path."""
    data = scenario.to_file_dict()
    rows = []
    for info in field_catalog():
        value = get_path(data, info.path)
        if value is None:
            continue
        section = info.path.split(".", 1)[0]
        rows.append({"Section": SECTION_TITLES.get(section, section).split(":")[0],
                     "Field": info.label,
                     "Value": describe_value(value, "" if info.unit in ("", "share") else
                                             info.unit),
                     "Path": info.path})
    return pd.DataFrame(rows)


def editor_sentence(draft: Draft, result: EditorResult) -> str:
    """Return the page's one-sentence answer: is the scenario usable, and is it saved?"""
    if result.scenario is None:
        count = len(result.problems)
        where = "each is shown beside its field" if count > 1 else "it is shown beside its field"
        return (f"This scenario has {count} problem{'s' if count > 1 else ''} to fix before it "
                f"can be saved or simulated; {where}.")
    scenario = result.scenario
    shape = (f"{scenario.simulation.horizon_months} months, "
             f"{len(uncertain_fields(scenario))} uncertain inputs, "
             f"{len(scenario.variants)} variant{'s' if len(scenario.variants) != 1 else ''}")
    if draft.stem is None:
        return (f"“{scenario.name}” is valid ({shape}) and not saved yet: save it to add "
                f"{slugify(scenario.name)}.yaml to the library.")
    entry = read_entry(draft.stem)
    if entry.scenario is not None and entry.scenario.canonical() == scenario_text(scenario):
        return f"“{scenario.name}” is valid and saved in {draft.stem}.yaml ({shape})."
    changed = (changed_fields(entry.scenario, scenario) if entry.scenario is not None else {})
    if len(changed) == 1:
        words = "1 changed field from {stem}.yaml is"
    elif changed:
        words = f"{len(changed)} changed fields from {{stem}}.yaml are"
    else:
        words = "changes to the name, description or variants of {stem}.yaml are"
    return (f"“{scenario.name}” is valid ({shape}); {words.format(stem=draft.stem)} "
            "not saved yet.")
