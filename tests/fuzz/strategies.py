"""Hostile inputs for the parser fuzz tests: random bytes and mutations of the shipped files.

A mutation is what happens to real files on the way to us: cut short, a NUL or stray bytes
inserted, a byte-order mark added, re-saved as Latin-1 or UTF-16, a number typed with hundreds
of digits, brackets or indentation nested far too deep. Examples apply one to three of them.
"""

from __future__ import annotations

import codecs
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)
HUGE_NUMBERS = (b"9" * 400, b"1" + b"0" * 5000, b"1.0e400", b"-1.0e400", b".nan", b"-.inf",
                b"0x" + b"f" * 300, b"1" * 310 + b".5", b"1e-400", b"99999999999999999999")
_NUMBER = re.compile(rb"\d+(\.\d+)?")


def _truncate(data: bytes, at: int) -> bytes:
    return data[:at % (len(data) + 1)]


def _insert(data: bytes, at: int, chunk: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + chunk + data[at:]


def _reencode(data: bytes, encoding: str) -> bytes:
    return data.decode("utf-8", "replace").encode(encoding, "replace")


def _huge_number(data: bytes, which: int, number: bytes) -> bytes:
    found = list(_NUMBER.finditer(data))
    if not found:
        return data + b"\n" + number
    match = found[which % len(found)]
    return data[:match.start()] + number + data[match.end():]


def _deep_nesting(data: bytes, at: int, depth: int, block: bool) -> bytes:
    if block:
        chunk = b"".join(b"  " * level + b"k%d:\n" % level for level in range(depth))
    else:
        chunk = b"[" * depth + b"1" + b"]" * depth
    return _insert(data, at, b"\n" + chunk + b"\n")


def _flip(data: bytes, at: int, byte: int) -> bytes:
    if not data:
        return bytes([byte])
    at %= len(data)
    return data[:at] + bytes([byte]) + data[at + 1:]


_positions = st.integers(min_value=0, max_value=10**6)
MUTATIONS = st.one_of(
    st.builds(lambda at: lambda d: _truncate(d, at), _positions),
    st.builds(lambda at: lambda d: _insert(d, at, b"\x00"), _positions),
    st.builds(lambda at, chunk: lambda d: _insert(d, at, chunk), _positions,
              st.binary(min_size=1, max_size=16)),
    st.builds(lambda bom: lambda d: bom + d, st.sampled_from(BOMS)),
    st.builds(lambda enc: lambda d: _reencode(d, enc),
              st.sampled_from(("latin-1", "utf-16", "utf-16-le", "utf-32", "cp1252"))),
    st.builds(lambda which, number: lambda d: _huge_number(d, which, number), _positions,
              st.sampled_from(HUGE_NUMBERS)),
    st.builds(lambda at, depth, block: lambda d: _deep_nesting(d, at, depth, block),
              _positions, st.integers(min_value=15, max_value=3000), st.booleans()),
    st.builds(lambda at, byte: lambda d: _flip(d, at, byte), _positions,
              st.integers(min_value=0, max_value=255)),
)


def mutated(originals: list[bytes]) -> st.SearchStrategy[bytes]:
    """One of `originals` with one to three mutations applied."""

    def apply(data: bytes, mutations: list) -> bytes:
        for mutate in mutations:
            data = mutate(data)
        return data

    return st.builds(apply, st.sampled_from(originals),
                     st.lists(MUTATIONS, min_size=1, max_size=3))


def hostile_bytes(originals: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, random text in several encodings, or a mutated shipped file."""
    text = st.text(max_size=400)
    return st.one_of(
        st.binary(max_size=2000),
        st.builds(lambda t, enc: t.encode(enc, "replace"), text,
                  st.sampled_from(("utf-8", "latin-1", "utf-16", "utf-32"))),
        mutated(originals),
    )

#: Examples per parser: the fast suite and the slow suite (`@pytest.mark.slow`).
FAST_EXAMPLES, SLOW_EXAMPLES = 200, 10_000


def fuzz(examples: int) -> settings:
    """Settings for a fuzz test: no deadline (2 shared cores), large inputs are the point."""
    return settings(deadline=None, max_examples=examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


FAST = fuzz(FAST_EXAMPLES)
SLOW = fuzz(SLOW_EXAMPLES)
