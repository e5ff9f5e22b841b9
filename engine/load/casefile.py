"""Case data as people and systems send it: JSON text read strictly, once, here.

Every door a case comes through — the CLI's ``--case``, a batch row, an HTTP
body — reads it with :func:`parse_case_json`, so one case never means two
things depending on the door:

* a key written twice in one object is an error, not "the last one wins"
  (``{"Vejle": 10, "Vejle": 90}`` would silently change a kommune's share);
* ``NaN``, ``Infinity`` and ``-Infinity`` are refused (not JSON, and no amount);
* decimals stay exact (``Decimal``), never ``float``;
* bytes are UTF-8, with or without the byte-order mark Windows editors write;
  a file saved as Windows-1252 ("ANSI") gets a Danish message saying so;
* a case is at most :data:`MAX_CASE_BYTES` bytes; :func:`read_case_bytes`
  refuses a bigger file from its size (or after reading one byte too many from
  a pipe), never by reading it whole.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import IO, Any

from ..errors import InvalidCase

__all__ = ["MAX_CASE_BYTES", "decode_case_bytes", "parse_case_json", "read_case_bytes", "too_big"]

_BOM = "\ufeff"

#: The largest case (a ``--case`` file or one batch row) the engine reads, in bytes.
#: A real case — even a closure with every kommune and ten years of turnover — is a
#: few tens of kilobytes; a megabyte is a mistake or an attack.
MAX_CASE_BYTES = 1_000_000


def too_big(source: str, path: str = "case") -> InvalidCase:
    """The error for a case over :data:`MAX_CASE_BYTES`."""
    limit = f"{MAX_CASE_BYTES:,}".replace(",", ".")
    return InvalidCase(f"{source} er for stor: en sag må højst fylde {limit} byte", path=path)


def read_case_bytes(stream: IO[bytes], source: str) -> bytes:
    """All of ``stream`` (a binary file or pipe), refused beyond :data:`MAX_CASE_BYTES` without reading it whole."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):   # a pipe or an in-memory stream: no size to ask
        size = 0
    if size > MAX_CASE_BYTES:
        raise too_big(source)
    raw = stream.read(MAX_CASE_BYTES + 1)
    if len(raw) > MAX_CASE_BYTES:
        raise too_big(source)
    return raw


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"'{name}' er ikke et tal, sagen kan regne med")


def writable(text: str) -> bool:
    """False for a text no output can write: one with a lone surrogate (``"\\ud800"`` is valid JSON, not text)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_lone_surrogate(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not writable(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def decode_case_bytes(raw: bytes, source: str) -> str:
    """``raw`` as text: UTF-8 (a leading byte-order mark is dropped)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCase(f"sagen {source} er ikke gemt som UTF-8 (byte {exc.start + 1}); er den gemt som "
                          "Windows-1252/ANSI? Gem den som UTF-8", path="case") from None
    return text[1:] if text.startswith(_BOM) else text


def parse_case_json(text: str, source: str, path: str = "case") -> Any:
    """Parse one case (or batch row) strictly; every failure is ``invalid_case`` naming ``source``."""
    if text.startswith(_BOM):
        text = text[1:]
    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=_pairs, parse_constant=_constant)
        if "\\u" in text and _has_lone_surrogate(data):
            # Valid JSON syntax ("\ud800") but no text: no output could write it, so refuse it here.
            raise ValueError("teksten indeholder et enligt surrogat-tegn (\\ud800-\\udfff), som ikke er et tegn")
        return data
    except _DuplicateKey as exc:
        raise InvalidCase(f"{source}: nøglen '{exc.key}' står to gange i samme objekt; "
                          "skriv hver nøgle én gang", path=path) from None
    except json.JSONDecodeError as exc:
        raise InvalidCase(f"{source} er ikke gyldig JSON: {exc.msg} (linje {exc.lineno}, kolonne {exc.colno})",
                          path=path) from None
    except RecursionError:
        raise InvalidCase(f"{source} kan ikke læses som JSON: for dyb indlejring", path=path) from None
    except ValueError as exc:  # a number over 4300 digits, NaN/Infinity
        text = str(exc)
        if "Exceeds the limit" in text and "digits" in text:    # Python's English int-conversion limit
            text = "et tal har over 4300 cifre, langt flere end noget beløb eller antal i en sag"
        raise InvalidCase(f"{source} kan ikke læses som JSON: {text}", path=path) from None
