"""Text that arrives as bytes (uploaded or library files): decode it or say clearly why not.

One place for the rules every file reader shares: UTF-8 (or UTF-16/32 announced by a
byte-order mark; a UTF-8 byte-order mark is dropped), no control characters such as NUL, and
a problem that names the line and column of the first bad byte or character.
"""

from __future__ import annotations

import codecs
import re

#: Byte-order marks of the encodings a file may arrive in (UTF-32 before UTF-16: same prefix).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
#: Characters a text file may not hold: what YAML 1.1 calls non-printable (C0/C1 controls
#: except tab and line breaks, lone surrogates, U+FFFE and U+FFFF).
_CONTROL = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class TextDecodeError(ValueError):
    """Bytes that are not text in a supported encoding; the message says where and why."""


def _line_column(text: str | bytes, index: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, index) + 1
    column = index - (text.rfind(newline, 0, index) + 1) + 1
    return line, column


def decode_text(data: bytes) -> str:
    """Return the text of file bytes (UTF-8, or UTF-16/32 with a byte-order mark).

    Raises TextDecodeError naming the encoding and the line and column of the first bad byte.
    """
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = _line_column(data, error.start)
        shown = encoding.upper().removesuffix("-SIG")
        raise TextDecodeError(
            f"is not {shown} text (byte 0x{data[error.start]:02X} at line {line}, column "
            f"{column}); save it as UTF-8") from None
    return text.lstrip("\ufeff")


def control_character_problem(text: str) -> str | None:
    """Return 'line L, column C: ...' for the first control character (NUL etc.), else None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    line, column = _line_column(text, found.start())
    code = ord(found.group())
    name = "NUL, " if code == 0 else ""
    return (f"line {line}, column {column}: a control character ({name}U+{code:04X}) where "
            "only plain text may be; remove it")
