"""Would a URL-bound widget take a link's value? (Streamlit drops a bad one without a word.)

Streamlit seeds a widget bound with ``bind="query-params"`` from the link and silently
removes a value it cannot use (``guarantee_days=banana``), and also removes a value equal to
the widget's default. To name the bad ones on the page, this module asks the widget's own
parser the same question Streamlit asks. It reads Streamlit's widget registry (not public
API), so every failure to look there answers "unknown" and nothing is reported.
"""

from __future__ import annotations

import logging
from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.query_params import _coerce_value_for_query_url, parse_url_param

_LOGGER = logging.getLogger(__name__)


def _metadata(key: str) -> Any | None:
    """Return the registered metadata of the widget with this key in this run, or None."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    state = getattr(ctx.session_state, "_state", None)
    mapper = getattr(state, "_key_id_mapper", None)
    widgets = getattr(state, "_new_widget_state", None)
    if mapper is None or widgets is None:
        return None
    widget_id = mapper.get_id_from_key(key, None)
    return getattr(widgets, "widget_metadata", {}).get(widget_id) if widget_id else None


def _same_text(a: str | list[str], b: str | list[str]) -> bool:
    """Compare two URL values, reading numbers as numbers ("0.50" is "0.5")."""
    left, right = ([a] if isinstance(a, str) else list(a)), ([b] if isinstance(b, str) else list(b))
    if len(left) != len(right):
        return False
    for x, y in zip(left, right, strict=True):
        if x.strip() == y.strip():
            continue
        try:
            if float(x) != float(y):
                return False
        except ValueError:
            return False
    return True


def widget_accepts(key: str, values: list[str]) -> bool | None:
    """Return whether the widget bound to `key` can use these link values (None: unknown).

    Streamlit falls back to the default for a value it cannot read, so a value that reads as
    the default is accepted only when it is the default written out.
    """
    metadata = _metadata(key)
    if metadata is None:
        return None
    url_value: str | list[str] = values[0] if len(values) == 1 else values
    options = getattr(metadata, "formatted_options", None)
    try:
        parsed = parse_url_param(url_value, metadata.value_type)
        value = metadata.deserializer(parsed)
        default = metadata.deserializer(None)
        default_text = _coerce_value_for_query_url(metadata.serializer(default),
                                                   metadata.value_type)
    except (ValueError, TypeError, IndexError):
        return False
    except Exception:  # Streamlit internals changed: say nothing rather than guess.
        _LOGGER.debug("cannot check link value of %s", key, exc_info=True)
        return None
    if options is not None:
        wanted = parsed if isinstance(parsed, list) else [parsed]
        if metadata.value_type in ("string_value", "string_array_value") and any(
                item not in options for item in wanted):
            return False
    if value == default:
        return _same_text(url_value, default_text)
    return True


def shown_value(key: str, value: Any) -> str:
    """Return a bound widget's value as its link writes it ('1 year' rather than 365)."""
    metadata = _metadata(key)
    try:
        text = _coerce_value_for_query_url(metadata.serializer(value), metadata.value_type)
    except Exception:  # no widget, or Streamlit internals changed: the plain value
        return str(value)
    return text if isinstance(text, str) else ", ".join(text)
