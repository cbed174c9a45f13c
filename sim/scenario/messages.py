"""Validation messages: pydantic errors turned into ``dotted.path: what is wrong`` lines."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from sim.scenario.catalog import _keys_at


def _loc_to_path(loc: tuple[Any, ...]) -> list[str]:
    parts = []
    for part in loc:
        if part == "schema_version":
            part = "schema"
        parts.append(str(part))
    return parts


#: Problems listed at most per scenario; a file with thousands of bad keys is not read further.
MAX_PROBLEMS = 50


def _messages(error: ValidationError, prefix: str = "") -> list[str]:
    problems = []
    items = error.errors()
    for item in items[:MAX_PROBLEMS]:
        loc = tuple(item["loc"])
        parts = _loc_to_path(loc)
        ctx = item.get("ctx") or {}
        kind = item["type"]
        if kind == "funnel":
            if ctx.get("sub"):
                parts.append(ctx["sub"])
            message = ctx["message"]
        elif kind == "extra_forbidden":
            allowed = _keys_at(loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            did = f" did you mean {hint[0]!r}?" if hint else ""
            message = f"unknown key;{did} allowed here: {', '.join(allowed)}"
        elif kind in ("model_type", "dict_type"):
            message = "expected a mapping of keys (key: value lines indented below it)"
        elif kind == "literal_error" and parts and parts[-1] == "schema":
            message = f"unsupported schema version {item['input']!r}; this Funnel Lab reads 1"
        elif kind == "literal_error":
            message = f"got {item['input']!r}; {item['msg'].removeprefix('Input should be ')}"
        elif kind in ("string_type", "string_too_short", "string_too_long"):
            message = f"expected text; {item['msg'].lower()}"
        else:
            message = item["msg"]
        path = prefix + ".".join(parts)
        problems.append(f"{path or '(top level)'}: {message}")
    if len(items) > MAX_PROBLEMS:
        problems.append(f"{prefix or '(file)'}: {len(items) - MAX_PROBLEMS} more problems not "
                        "listed; fix the ones above first")
    return problems
