"""Reading and writing scenario YAML safely.

- `parse_yaml` reads YAML with a size cap and no aliases, anchors, tags, duplicate keys or deep
  nesting; `parse_scalar` reads one value typed by a person or carried in a link;
- `load_scenario_text` / `load_scenario_file` read and validate a scenario;
- `dump_scenario` writes keys in schema order with a header comment, so that
  save -> load -> save is byte-identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.kinds import ScenarioError, _plain_number
from sim.scenario.overrides import build_scenario
from sim.scenario.schema import Scenario
from sim.text_input import TextDecodeError, control_character_problem, decode_text

MAX_FILE_BYTES = 256 * 1024
MAX_NESTING = 20
#: Digits a number in a file may have (floats stop near 1e308).
MAX_NUMBER_DIGITS = 300
HEADER = (
    "# Funnel Lab scenario (schema 1). A value is a number, {low, high} (a 90% interval)\n"
    "# or {dist: uniform|triangular|normal|beta, ...}. See README.md for every field.\n"
)


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, anchors, tags, duplicate keys and deep nesting."""

    _PLAIN_TAGS = frozenset({
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    })

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # Refuse deep [[[...]]] / {{{...}}} while scanning: the scanner looks up to 1,024
        # characters ahead for a possible key before the composer's depth check runs, which
        # costs about half a second on a deeply nested line.
        if self.flow_level >= MAX_NESTING:
            raise _YamlProblem(f"line {self.line + 1}: nesting deeper than {MAX_NESTING} "
                               "levels is not allowed")
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlProblem(f"line {event.start_mark.line + 1}: aliases (*name) are not "
                               "allowed; write the value out")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _YamlProblem(f"line {event.start_mark.line + 1}: anchors (&name) are not "
                               "allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in self._PLAIN_TAGS:
            raise _YamlProblem(f"line {event.start_mark.line + 1}: tag {tag} is not allowed; "
                               "write plain numbers, text and mappings")
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise _YamlProblem(f"line {event.start_mark.line + 1}: nesting deeper than "
                               f"{MAX_NESTING} levels is not allowed")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> Any:
        # A 400-digit integer cannot become a float (and Python refuses to read 4,300+ digits).
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_NUMBER_DIGITS:
            raise _YamlProblem(f"line {node.start_mark.line + 1}: a number with {digits:,} "
                               f"digits; numbers may have at most {MAX_NUMBER_DIGITS} digits")
        value = super().construct_yaml_int(node)
        if value.bit_length() > 1023:  # beyond the largest float (about 1.8e308)
            raise _YamlProblem(f"line {node.start_mark.line + 1}: a number too large to "
                               "compute with (over 1.8e308)")
        return value

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise _YamlProblem(f"line {key_node.start_mark.line + 1}: keys must be text")
            if key in seen:
                raise _YamlProblem(f"line {key_node.start_mark.line + 1}: duplicate key "
                                   f"{key!r}; each key may appear once")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _YamlProblem(Exception):
    pass


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)


def parse_yaml(text: str | bytes, what: str = "file") -> Any:
    """Parse YAML text safely and return plain data; raise ScenarioError on any problem."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ScenarioError([f"(file): the {what} is {len(text) // 1024} KB; the limit is "
                                 f"{MAX_FILE_BYTES // 1024} KB"])
        try:
            text = decode_text(text)
        except TextDecodeError as error:
            raise ScenarioError([f"(file): the {what} {error}"]) from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScenarioError([f"(file): the {what} is larger than the "
                             f"{MAX_FILE_BYTES // 1024} KB limit"])
    control = control_character_problem(text)
    if control is not None:
        raise ScenarioError([f"(file): {control}"])
    loader = _SafeLoader(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.construct_document(loader.get_node()))
            if len(documents) > 1:
                raise _YamlProblem("the file holds more than one YAML document (---)")
        return documents[0] if documents else None
    except _YamlProblem as problem:
        raise ScenarioError([f"(file): {problem}"]) from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(problem, "problem", None) or str(problem).splitlines()[0]
        raise ScenarioError([f"(file): not valid YAML at {where}{reason}"]) from None
    except RecursionError:
        raise ScenarioError([f"(file): nesting deeper than {MAX_NESTING} levels"]) from None
    finally:
        loader.dispose()



def load_scenario_text(text: str | bytes) -> Scenario:
    """Read a scenario from YAML text; raise ScenarioError listing every problem."""
    return build_scenario(parse_yaml(text))


def load_scenario_file(path: str | Path) -> Scenario:
    """Read a scenario file (size-capped); raise ScenarioError listing every problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([f"(file): {path.name} is {size // 1024} KB; the limit is "
                                 f"{MAX_FILE_BYTES // 1024} KB"])
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError([f"(file): cannot read {path.name}: {error.strerror}"]) from None
    return load_scenario_text(raw)


class _Dumper(yaml.SafeDumper):
    fold_long_text = True


class _PlainDumper(_Dumper):
    fold_long_text = False


#: Text longer than this is written as a folded block (`>-`), wrapped for reading.
FOLD_TEXT_AT = 80


def _represent_str(dumper: _Dumper, data: str) -> Any:
    fold = dumper.fold_long_text and len(data) > FOLD_TEXT_AT and "\n" not in data
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=">" if fold else None)


_Dumper.add_representer(str, _represent_str)


class _FlowDict(dict):
    """A mapping written on one line (uncertain values, the split)."""


_Dumper.add_representer(
    _FlowDict,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                  flow_style=True))


def _file_layout(data: Any, depth: int = 0) -> Any:
    """Whole numbers without .0; sections as indented blocks, leaf mappings on one line."""
    if isinstance(data, dict):
        cleaned = {k: _file_layout(v, depth + 1) for k, v in data.items()}
        leaf = all(not isinstance(v, dict) for v in cleaned.values())
        return _FlowDict(cleaned) if leaf and depth >= 2 and cleaned else cleaned
    if isinstance(data, float):
        return _plain_number(data)
    return data


def dump_scenario(scenario: Scenario) -> str:
    """Return the scenario as YAML text: schema order, header comment, stable bytes."""
    data = _file_layout(scenario.to_file_dict())
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=96)
    # PyYAML's folded style cannot carry every text (leading spaces, tabs); such text is
    # written on one quoted line instead, so that loading always gives the same text back.
    if yaml.load(body, Loader=yaml.SafeLoader) != data:
        body = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096)
    return HEADER + body



def parse_scalar(text: str) -> Any:
    """Read one value typed by a person or carried in a link (a number, word or {low, high})."""
    return parse_yaml(text, what="value")
