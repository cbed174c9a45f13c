"""Write a changed scenario into its existing file text, keeping what the marketer wrote.

`updated_file_text` changes only the text of the values that differ (a minimal patch of the
file's characters, located with PyYAML's node positions): comments, key order, flow or block
style, quoting and blank lines of every untouched line stay byte for byte. The patched text is
loaded back and compared with the scenario; when the file cannot be patched safely the result
is `dump_scenario(scenario)` with `comments_kept=False` and the reason, so a page can say so.

What is rewritten: the value text of a changed field (its trailing comment on the same line
stays); a changed name or description is written as `dump_scenario` writes it; a removed entry
(variant, churn form) goes with its own lines, its trailing comment and the comment lines
directly above it at the same indentation; a new entry gets new lines after the entry it
follows in schema (or variant) order. A flow mapping `{...}` whose keys change is rewritten on
one line from its kept entries (their text unchanged) and the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from sim.scenario import (
    Scenario,
    ScenarioError,
    build_scenario,
    dump_scenario,
    load_scenario_text,
    parse_yaml,
)

Edit = tuple[int, int, str]  # replace text[start:end] with the string


@dataclass(frozen=True)
class KeptText:
    """The text to save; comments_kept is False when the file was rewritten in the standard
    layout (dump_scenario) because it could not be patched safely, and reason says why."""

    text: str
    comments_kept: bool
    reason: str = ""


def updated_file_text(original_text: str, scenario: Scenario) -> KeptText:
    """Return `original_text` with only the values that differ from `scenario` changed.

    Loading the result gives exactly `scenario`; calling it again on the result with the same
    scenario returns the same text. Never raises for a valid scenario (falls back instead).
    """
    canonical = dump_scenario(scenario)
    try:
        text = _patched(original_text, scenario, canonical)
    except ScenarioError as error:
        reason = "the file on disk is not valid YAML: " + "; ".join(error.problems)
    except Exception as error:  # any failure to patch means the standard text, never no save
        detail = (str(error) or type(error).__name__).splitlines()[0]
        reason = f"the file could not be patched ({detail})"
    else:
        try:
            if load_scenario_text(text).canonical() == canonical:
                return KeptText(text, True)
        except ScenarioError:
            pass
        reason = "the patched file would not read back as the saved scenario"
    return KeptText(canonical, False, reason)


class _CannotPatch(Exception):
    """The file's shape is one this module does not patch (the caller falls back)."""


def _patched(original: str, scenario: Scenario, canonical: str) -> str:
    data = parse_yaml(original)  # size cap, no aliases/tags/duplicates, bounded nesting
    root = yaml.compose(original, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode) or root.flow_style or not root.value:
        raise _CannotPatch("the file is not a block mapping of sections")
    try:
        old: Any = build_scenario(data).to_file_dict()
    except ScenarioError:
        old = None  # a broken file: every key it lacks is written out
    patcher = _Patcher(original, root, canonical)
    target = _plain_numbers(scenario.to_file_dict())
    return _apply(original, patcher.mapping(root, target, old, top=True), 0, len(original))


def _plain_numbers(data: Any) -> Any:
    """Whole floats as ints (6.0 -> 6), as dump_scenario writes them."""
    if isinstance(data, dict):
        return {k: _plain_numbers(v) for k, v in data.items()}
    if isinstance(data, float) and data.is_integer() and abs(data) < 1e15:
        return int(data)
    return data


def _same(a: Any, b: Any) -> bool:
    """Equal as file data: numbers by value (0.10 == 0.1), mappings by keys, bools apart."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _apply(text: str, edits: list[Edit], lo: int, hi: int) -> str:
    """Return text[lo:hi] with the (non-overlapping) edits applied."""
    out, at = [], lo
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < at:
            raise _CannotPatch("overlapping changes")
        out += [text[at:start], new]
        at = end
    return "".join(out) + text[at:hi]


def _nested(value: Any) -> bool:
    """A section holding mappings (budget, variants): written as a block, one entry a line."""
    return isinstance(value, dict) and any(isinstance(v, dict) for v in value.values())


def _flow(value: Any, style: str | None = None) -> str:
    """One-line YAML text of a value (flow mappings, numbers as PyYAML writes them)."""
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        style = '"'  # escapes line breaks, so the value stays on one line
    text = yaml.safe_dump([value], default_flow_style=True, default_style=style,
                          width=2**31 - 1, allow_unicode=True, sort_keys=False)
    return text.strip()[1:-1]


class _Patcher:
    """Collects the edits that turn the file's values into the target's."""

    def __init__(self, text: str, root: Any, canonical: str):
        self.text = text
        self.nl = "\r\n" if "\r\n" in text else "\n"  # new lines end like the file's lines
        self.canonical_text = canonical
        # The file's indentation step, from its first block section (2 when it has none).
        self.step = next((v.value[0][0].start_mark.column - k.start_mark.column
                          for k, v in root.value
                          if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value),
                         2)

    @cached_property
    def canonical(self) -> dict[str, str]:
        """Top-level value texts as dump_scenario writes them (for name and description)."""
        root = yaml.compose(self.canonical_text, Loader=yaml.SafeLoader)
        return {k.value: self.canonical_text[v.start_mark.index:self.end_in(self.canonical_text,
                                                                             v)]
                for k, v in root.value}

    @staticmethod
    def end_in(text: str, node: Any) -> int:
        """Index just after a node's last character (block scalars end before blank lines)."""
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
            return _Patcher.end_in(text, node.value[-1][1])
        end = node.end_mark.index
        while end > node.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def end(self, node: Any) -> int:
        return self.end_in(self.text, node)

    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def line_after(self, index: int) -> int:
        """Index of the start of the line after the one holding `index`."""
        found = self.text.find("\n", index)
        return len(self.text) if found < 0 else found + 1

    def block_start(self, key: Any) -> int:
        """Start of an entry's lines: its key line and the comment lines directly above it."""
        start = self.line_start(key.start_mark.index)
        indent = " " * key.start_mark.column
        while start > 0:
            above = self.line_start(start - 1)
            line = self.text[above:start - 1]
            if not line.startswith(indent + "#"):
                break
            start = above
        return start

    def value(self, key: Any, node: Any, target: Any, old: Any, block: bool,
              top: bool) -> list[Edit]:
        """Edits for one entry's value (`block`: the entry is in a block mapping)."""
        if (old is not None and _same(old, target)) or _same(self.plain(node), target):
            return []
        if (isinstance(target, dict) and target and isinstance(node, yaml.MappingNode)
                and node.value):
            return self.mapping(node, target, old if isinstance(old, dict) else None)
        start, end = node.start_mark.index, self.end(node)
        rest = self.text[end:self.line_after(end)].rstrip("\r\n")
        nested = top and _nested(target)
        was_block = isinstance(node, yaml.MappingNode) and not node.flow_style
        if block and (nested or was_block):
            # Rewritten from the colon to the end of the value's last line; a trailing comment
            # stays on the key line unless it belonged to an entry of a replaced block.
            colon = self.text.index(":", key.end_mark.index) + 1
            end, rest = end + len(rest), "" if was_block else rest
            if nested:  # a mapping of mappings is written as a block, one entry per line
                indent = " " * (key.start_mark.column + self.step)
                lines = [f"{indent}{_flow(k)}: {_flow(v)}" for k, v in target.items()]
                return [(colon, end, rest + self.nl + self.nl.join(lines))]
            return [(colon, end, " " + _flow(target) + rest)]
        new = _flow(target)
        if top and isinstance(target, str) and not rest.strip():
            new = self.canonical[key.value]  # name, description as dump_scenario writes them
        if start == end and self.text[start - 1:start] == ":":
            new = " " + new
        return [(start, end, new)]

    def plain(self, node: Any) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def mapping(self, node: Any, target: dict, old: dict | None, top: bool = False) -> list[Edit]:
        """Edits for a mapping that stays a non-empty mapping: entries changed, removed, added."""
        entries = {self.plain(k): (k, v) for k, v in node.value}
        targets = list(target)
        order = [k for k in entries if k in target]
        for i, key in enumerate(targets):
            if key not in order:
                before = next((p for p in reversed(targets[:i]) if p in order), None)
                order.insert(order.index(before) + 1 if before is not None else 0, key)
        kept = {k: self.value(*entries[k], target[k], None if old is None else old.get(k),
                              not node.flow_style, top) for k in order if k in entries}
        added = [k for k in order if k not in entries]
        added = [k for k in added if old is None or k not in old or not _same(old[k],
                                                                               target[k])]
        removed = [k for k in entries if k not in target]
        if not added and not removed:
            return [e for edits in kept.values() for e in edits]
        order = [k for k in order if k in entries or k in added]
        style = next((k.style for k, _ in node.value), None)
        if node.flow_style:
            pieces = []
            for key in order:
                if key in entries:
                    k, v = entries[key]
                    pieces.append(_apply(self.text, kept[key], k.start_mark.index, self.end(v)))
                else:
                    pieces.append(f"{_flow(key, style)}: {_flow(target[key])}")
            return [(node.start_mark.index, self.end(node), "{" + ", ".join(pieces) + "}")]
        edits = [e for edits in kept.values() for e in edits]
        for key in removed:
            k, v = entries[key]
            edits.append((self.block_start(k), self.line_after(self.end(v)), ""))
        column = node.value[0][0].start_mark.column
        groups: dict[int, list[str]] = {}
        for i, key in enumerate(order):
            if key in entries:
                continue
            anchor = next((p for p in reversed(order[:i]) if p in entries), None)
            if anchor is not None:
                at = self.line_after(self.end(entries[anchor][1]))
            elif kept:
                at = self.block_start(entries[next(iter(kept))][0])
            else:
                at = self.line_after(self.end(node))
            groups.setdefault(at, []).append(self.entry_text(key, target[key], column, style,
                                                             top))
        for at, lines in groups.items():
            lead = self.nl if at == len(self.text) and not self.text.endswith("\n") else ""
            edits.append((at, at, lead + "".join(lines)))
        return edits

    def entry_text(self, key: str, value: Any, column: int, style: str | None,
                   top: bool) -> str:
        """The lines of a new entry in a block mapping (ending with a line break)."""
        indent = " " * column
        head = f"{indent}{_flow(key, style)}:"
        if top and _nested(value):
            inner = " " * (column + self.step)
            return head + self.nl + "".join(f"{inner}{_flow(k)}: {_flow(v)}{self.nl}"
                                            for k, v in value.items())
        if top and isinstance(value, str):
            return f"{head} {self.canonical[key]}{self.nl}"
        return f"{head} {_flow(value)}{self.nl}"
