"""Reading a batch's input: JSON Lines or CSV rows as :data:`Item` s, lazily, one error per bad row.

Lines are read physically and bounded (:data:`~rammeaftale.load.casefile.MAX_CASE_BYTES`),
so an over-long line or a quote left open costs that row, never the rows
after it nor the process's memory.  Nothing is evaluated here: an item is
the raw row, turned into a case by :mod:`._rows` (in a worker process when
the batch runs in several).
"""

from __future__ import annotations

import csv
import io
import json
from collections import deque
from decimal import Decimal
from typing import IO, Any, Iterable, Iterator

from ...errors import InvalidCase
from ...load.casefile import MAX_CASE_BYTES, too_big, writable
from ...model.catalogue import catalogue, normalise_name

#: A quoted CSV field may span lines, but one record may span at most this many.
MAX_RECORD_LINES = 50
#: A refused CSV row's id is read only from this many leading characters.
MAX_ID_CHARS = 100_000

#: (physical line number, form, raw): form "json" (the line's text), "csv" or
#: "csv;" (a row as {column: cell}; "csv;" = a semicolon file, Danish numbers),
#: or "error" (a message: the row could not even be read).
Item = tuple[int, str, Any]


def is_csv(path: str) -> bool:
    """Whether ``path`` is read or written as CSV: the format follows the file name, so no option can contradict it."""
    return path.lower().endswith(".csv")


def read_items(stream: IO[bytes], csv_input: bool, question: str) -> Iterator[Item]:
    """Rows of the input file (a binary stream) as :data:`Item` s, lazily; blank lines are skipped.

    A CSV file's header is read here, before the first row: a header that
    cannot be used (duplicate or unreadable column names) is the whole file's
    ``invalid_case``.  Every later problem is one row's error item.
    """
    lines = _Lines(stream)
    if not csv_input:
        return _json_items(lines)
    flat_inputs(question)
    return _csv_items(lines, *_csv_header(lines))


class _Lines:
    """Physical lines as bytes, numbered from 1, with push-back; an over-long line is ``None``.

    A line over :data:`MAX_CASE_BYTES` is skipped in small pieces, never held whole.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.number = 0
        self.back: deque[tuple[int, bytes | None]] = deque()

    def next(self) -> tuple[int, bytes | None] | None:
        if self.back:
            return self.back.popleft()
        line = self.stream.readline(MAX_CASE_BYTES + 1)
        if not line:
            return None
        self.number += 1
        if self.number == 1 and line.startswith(b"\xef\xbb\xbf"):   # a byte-order mark (Excel, Notepad)
            line = line[3:]
        if len(line) > MAX_CASE_BYTES and not line.endswith(b"\n"):
            while True:
                more = self.stream.readline(65536)
                if not more or more.endswith(b"\n"):
                    break
            return self.number, None
        return self.number, line

    def push_back(self, items: Iterable[tuple[int, bytes | None]]) -> None:
        self.back.extendleft(reversed(list(items)))


def _decode(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCase(f"linje {number} er ikke UTF-8 (byte {exc.start + 1}); er filen gemt som "
                          "Windows-1252/ANSI? Gem den som UTF-8", path="") from None


def _json_items(lines: _Lines) -> Iterator[Item]:
    while (entry := lines.next()) is not None:
        number, raw = entry
        if raw is None:
            yield number, "error", (too_big(f"linje {number}").message, None)
            continue
        try:
            text = _decode(raw, number)
        except InvalidCase as exc:
            # The id may still be readable: the bytes that are not UTF-8 may lie elsewhere in the row.
            yield number, "error", (exc.message, json_id(raw.decode("utf-8", "surrogateescape")))
            continue
        if text.strip():
            yield number, "json", text


def _csv_header(lines: _Lines) -> tuple[list[str], str]:
    """The header's column names (normalised) and the delimiter (';' or ',')."""
    while (entry := lines.next()) is not None:
        number, raw = entry
        if raw is None:
            raise too_big("CSV-filens overskrift", path="input")
        text = _decode(raw, number)
        if not text.strip():
            continue
        delimiter = ";" if text.count(";") > text.count(",") else ","
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            raise InvalidCase(f"CSV-filens overskrift (linje {number}) kan ikke læses: {exc}", path="input") from None
        names = [normalise_name(n) for n in rows[0]] if len(rows) == 1 else []
        if not names:
            raise InvalidCase(f"CSV-filens overskrift (linje {number}) kan ikke læses", path="input")
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise InvalidCase(f"kolonnen '{name}' står to gange i CSV-filens overskrift", path="input")
            seen.add(name)
        return names, delimiter
    raise InvalidCase("CSV-filen er tom (ingen overskrift)", path="input")


def _csv_items(lines: _Lines, header: list[str], delimiter: str) -> Iterator[Item]:
    """One item per CSV record; a record may span lines only inside a quoted field."""
    form = "csv;" if delimiter == ";" else "csv"
    while (entry := lines.next()) is not None:
        number, raw = entry
        text = None
        try:
            if raw is None:
                raise too_big(f"linje {number}")
            text = _decode(raw, number)
            if not text.strip():
                continue
            row = _csv_record_at(lines, number, text, header, delimiter)
        except InvalidCase as exc:
            yield number, "error", (exc.message, _csv_id(text, header, delimiter))
            continue
        yield number, form, row


def _csv_record_at(lines: _Lines, number: int, text: str, header: list[str], delimiter: str) -> dict[str, str]:
    """The record starting with physical line ``number``; raises InvalidCase for a bad one.

    If the line leaves a quote open, following lines are joined until it
    closes — but only if the joined record then parses to exactly one row with
    the header's number of fields, within :data:`MAX_RECORD_LINES` lines and
    :data:`MAX_CASE_BYTES` bytes, and no line inside it is a complete row by
    itself (that is a quote left open, not a field written over two lines).  Otherwise this line alone is the error and
    the lines taken are put back, so an unbalanced quote costs one row, not
    every row after it.
    """
    record, taken = text, []
    while record.count('"') % 2:
        entry = lines.next()
        if entry is not None:
            taken.append(entry)
        if (entry is None or entry[1] is None or len(taken) >= MAX_RECORD_LINES
                or len(record) + len(entry[1]) > MAX_CASE_BYTES):
            lines.push_back(taken)
            raise _unbalanced(number)
        try:
            record += entry[1].decode("utf-8")
        except UnicodeDecodeError:
            lines.push_back(taken)
            raise _unbalanced(number) from None
    if any(_whole_row(raw, len(header), delimiter) for _, raw in taken[:-1]):
        lines.push_back(taken)        # the "field" would swallow lines that are rows of their own
        raise _unbalanced(number)
    try:
        rows = list(csv.reader(io.StringIO(record), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        lines.push_back(taken)
        if "field larger than field limit" in str(exc):
            limit = f"{csv.field_size_limit():,}".replace(",", ".")
            raise InvalidCase(f"linje {number}: et felt er større end CSV-læserens grænse på {limit} tegn",
                              path="") from None
        raise InvalidCase(f"linje {number} kan ikke læses som CSV: {exc}", path="") from None
    if len(rows) != 1 or len(rows[0]) != len(header):
        lines.push_back(taken)
        if taken:
            raise _unbalanced(number)
        got = len(rows[0]) if len(rows) == 1 else 0
        raise InvalidCase(f"linje {number} har {got} felter, men overskriften har {len(header)}; "
                          f"skilletegnet er '{delimiter}'", path="")
    cells = dict(zip(header, rows[0]))
    stray = [c for name, c in cells.items() if not name and c.strip()]
    if stray:
        raise InvalidCase(f"linje {number} har en værdi ('{stray[0][:40]}') i en kolonne uden navn", path="")
    return {name: cell for name, cell in cells.items() if name}


def _csv_id(text: str | None, header: list[str], delimiter: str) -> str | None:
    """The ``id`` cell of a CSV line that is refused as a whole (see :func:`._rows._raw_id`); never raises.

    Only the fields up to the id column are read, so a row with too many or
    too few fields, or an oversized field after the id, still has its id; a
    quote left open before or in the id column leaves it unread.
    """
    if text is None or "id" not in header:
        return None
    index, fields, at, quoted, start = header.index("id"), 0, 0, False, True
    end = None
    while at < len(text):
        char = text[at]
        if quoted:
            if char == '"' and text[at + 1:at + 2] == '"':
                at += 1                        # a doubled quote inside quotes is one quote character
            elif char == '"':
                quoted = False
        elif char == '"' and start:
            quoted = True
        elif char == delimiter:
            fields += 1
            if fields > index:
                end = at
                break
            start = True
            at += 1
            continue
        elif char in "\r\n":
            break
        start = False
        at += 1
    if quoted:
        return None
    prefix = text[:end if end is not None else at]
    if len(prefix) > MAX_ID_CHARS:
        return None
    try:
        rows = list(csv.reader(io.StringIO(prefix), delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    cells = rows[0] if len(rows) == 1 else []
    return (cells[index] or None) if len(cells) == index + 1 else None


def _whole_row(raw: bytes | None, width: int, delimiter: str) -> bool:
    """Is this physical line a complete CSV row of ``width`` fields by itself?"""
    try:
        text = raw.decode("utf-8") if raw is not None else ""
        if not text.strip() or text.count('"') % 2:
            return False
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    except (UnicodeDecodeError, csv.Error):
        return False
    return len(rows) == 1 and len(rows[0]) == width


def _unbalanced(number: int) -> InvalidCase:
    return InvalidCase(f"linje {number} har et anførselstegn (\") uden et tilhørende afsluttende; rækken er "
                       "sprunget over, og læsningen fortsætter på næste linje", path="")


def flat_inputs(question: str) -> None:
    """CSV input needs a question whose inputs fit in columns."""
    nested = [n for n, f in catalogue()[question].inputs.items() if f.type in ("kort", "liste")]
    if nested:
        raise InvalidCase(f"'{question}' har indlejrede input ({', '.join(nested)}) og kan ikke læses fra CSV; "
                          "brug JSON Lines", path="input")


# --- the id of a refused JSON row ---------------------------------------------------

class _Unreadable:
    """A value the lenient id reader puts where strict JSON would refuse (``NaN``, ``Infinity``)."""


class _Pairs(dict):  # type: ignore[type-arg]
    """An object read leniently; ``twice`` holds the keys written more than once."""
    twice: set[str]


def _lenient_pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    out = _Pairs()
    out.twice = set()
    for key, value in pairs:
        if key in out:
            out.twice.add(key)
        out[key] = value
    return out


def json_id(text: str) -> Any:
    """The ``id`` of a JSON Lines row, read leniently (see :func:`._rows._raw_id`); never raises."""
    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=_lenient_pairs,
                          parse_constant=lambda _name: _Unreadable())
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, _Pairs) or "id" not in data or "id" in data.twice:
        return None
    row_id = data["id"]
    pending = [row_id]
    while pending:                     # the id itself must be writable as it was written
        value = pending.pop()
        if isinstance(value, _Unreadable) or (isinstance(value, _Pairs) and value.twice):
            return None
        if isinstance(value, str):
            if not writable(value):
                return None
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return _plain(row_id)


def _plain(value: Any) -> Any:
    """``value`` with every lenient :class:`_Pairs` as a plain dict."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
