"""Many cases, one question: JSON Lines (or flat CSV) in, one answer per row out.

Systems that re-run a whole year of placements need a file interface that is
safe to leave running: every row gets its own answer or its own error line
(even a line that is not JSON), nothing stops the batch, the output keeps the
input's order, and memory stays flat however long the file is — rows are
read lazily and at most ``workers × WINDOW`` chunks are in flight.  Rows are
evaluated without a trace; the batch wants answers, not explanations.

What a reader of the output can rely on (docs/api.md, "Batch"):

* one output line per input row, with the row's ``id`` as written (any JSON
  value); a JSON row is read by :func:`~engine.load.casefile.parse_case_json`
  (duplicate keys, NaN/Infinity are that row's error) and may be at most
  :data:`~engine.load.casefile.MAX_CASE_BYTES` long — a longer line is skipped
  without being held in memory and answered with an error;
* CSV rows are read one physical record at a time: a field too big for
  Python's csv module, a wrong number of fields, bad quoting or an
  unbalanced quote is an error on *that* row (an unbalanced quote never
  swallows the rows after it: the line is reported and reading resumes on
  the next line); semicolon files (Danish Excel) are detected from the header,
  and in them numeric cells may use Danish decimal commas;
* CSV output cells that a spreadsheet would run as a formula (starting with
  ``=``, ``+``, ``-``, ``@``, tab or CR) get a leading ``'``; plain numbers
  such as ``-1250.50`` are left as they are.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import re
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from ..model.catalogue import catalogue, normalise_name
from ..errors import EngineError, InvalidCase
from ..model.values import to_csv
from ..load.casefile import MAX_CASE_BYTES, parse_case_json, too_big, writable
from ..run.result import dump

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

CHUNK = 200          # rows per task sent to a worker
WINDOW = 4           # chunks in flight per worker
END_SECONDS = 2      # how long ending a pool may take before its workers are killed
ROUTING = ("id", "ruleset", "region", "dato")
TRUE, FALSE = {"true", "ja", "1"}, {"false", "nej", "0"}
NUMERIC = ("beloeb", "decimal", "heltal")
#: A quoted CSV field may span lines, but one record may span at most this many.
MAX_RECORD_LINES = 50
#: A refused CSV row's id is read only from this many leading characters.
MAX_ID_CHARS = 100_000

#: (physical line number, form, raw): form "json" (the line's text), "csv" or
#: "csv;" (a row as {column: cell}; "csv;" = a semicolon file, Danish numbers),
#: or "error" (a message: the row could not even be read).
Item = tuple[int, str, Any]


# --- one row ----------------------------------------------------------------------

def evaluate_item(engine: "Engine", question: str, item: Item) -> dict[str, Any]:
    """The output line for one input row; never raises."""
    number, form, raw = item
    row_id = None
    try:
        record = _record(question, form, raw, number)
        row_id = record.get("id")
        result = engine.evaluate(question, record.get("case", {}), ruleset=record.get("ruleset"),
                                 region=record.get("region"), dato=record.get("dato"), trace=False)
        data = result.to_dict()
        return {"id": row_id, "ruleset": data["ruleset"], "status": data["status"], "output": data["output"],
                "warnings": data["warnings"]}
    except EngineError as exc:
        if row_id is None:
            row_id = _raw_id(form, raw)
        return {"id": row_id, "error": exc.to_dict() | {"line": number}}
    except Exception as exc:  # noqa: BLE001 - a bug on one row must not stop the batch
        return error_line(number, f"intern fejl: {type(exc).__name__}: {exc}", row_id)


def error_line(number: int, message: str, row_id: Any = None, kind: str = "engine_error") -> dict[str, Any]:
    """An output line for a row that failed outside the engine's own errors."""
    return {"id": row_id, "error": {"kind": kind, "message": message, "line": number}}


def _raw_id(form: str, raw: Any) -> Any:
    """The row's id exactly as written, read from the raw row even when the rest of it is refused.

    ``None`` when the id cannot be read without guessing: the row is not a
    JSON object, ``id`` is written twice or holds something no output can
    write (``NaN``, a lone surrogate), or a CSV row is broken before its id.
    """
    if form == "error":
        return raw[1]
    if form in ("csv", "csv;"):
        return raw.get("id") or None
    return _json_id(raw)


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


def _json_id(text: str) -> Any:
    """The ``id`` of a JSON Lines row, read leniently (see :func:`_raw_id`); never raises."""
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


def _record(question: str, form: str, raw: Any, number: int) -> dict[str, Any]:
    if form == "error":
        raise InvalidCase(raw[0], path="")
    if form in ("csv", "csv;"):
        return _csv_record(question, raw, danish=form == "csv;")
    record = parse_case_json(raw, f"linje {number}", path="")
    if not isinstance(record, dict):
        raise InvalidCase(f"linje {number} skal være et JSON-objekt", path="")
    unknown = sorted(set(record) - set(ROUTING) - {"case"})
    if unknown:
        raise InvalidCase(f"ukendt nøgle '{unknown[0]}' (kendte: {', '.join(ROUTING)}, case)", path=unknown[0])
    if not record.get("ruleset") and not record.get("region"):
        raise InvalidCase("rækken skal have 'ruleset' eller 'region' (og 'dato')", path="ruleset")
    return record


def _csv_record(question: str, row: dict[str, str], danish: bool = False) -> dict[str, Any]:
    """A flat CSV row: routing columns plus one column per case field; empty = absent."""
    fields = catalogue()[question].inputs
    record: dict[str, Any] = {k: row[k] for k in ROUTING if row.get(k)}
    case: dict[str, Any] = {}
    for name, text in row.items():
        if name in ROUTING or text in (None, ""):
            continue
        field = fields.get(name)
        kind = field.type if field is not None else None
        if kind == "bool":
            case[name] = _csv_bool(text, name)
        elif kind in NUMERIC and danish:
            case[name] = danish_number(text, name)
        elif kind in NUMERIC and "," in text:
            case[name] = quoted_decimal_comma(text, name)
        else:
            case[name] = text
    record["case"] = case
    return record


_DK_GROUPED = re.compile(r"-?[0-9]{1,3}(\.[0-9]{3})+")
_DK_DECIMAL = re.compile(r"-?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+),[0-9]+")


def danish_number(text: str, name: str) -> str:
    """A number from a Danish (semicolon) CSV cell: ``1.234,50`` → ``1234.50``, ``0,10`` → ``0.10``.

    Only unambiguous forms are converted: a decimal comma, with or without
    dots grouping thousands.  ``1.234`` alone could be 1234 (Danish grouping)
    or 1,234 (a decimal point) and is refused; anything else (``1234``,
    ``12.5``) is passed on unchanged for the engine to judge.
    """
    cell = text.strip()
    if _DK_DECIMAL.fullmatch(cell):
        return cell.replace(".", "").replace(",", ".")
    if _DK_GROUPED.fullmatch(cell):
        raise InvalidCase(f"'{name}': '{cell}' kan både læses som {cell.replace('.', '')} og som "
                          f"{cell.replace('.', ',')}; skriv {cell.replace('.', '')} eller "
                          f"{cell},00", path=name)
    return cell


_EN_GROUPED = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+")


def quoted_decimal_comma(text: str, name: str) -> str:
    """A number cell with a comma in a comma-separated file (so it was quoted): ``"0,10"`` → ``0.10``.

    ``"1,234"`` could be a decimal comma or an English thousands separator and
    is refused; ``"1.234,50"`` and ``"0,10"`` are unambiguous.
    """
    cell = text.strip()
    if _EN_GROUPED.fullmatch(cell):
        raise InvalidCase(f"'{name}': '{cell}' kan både læses som {cell.replace(',', '.')} og som "
                          f"{cell.replace(',', '')}; skriv tallet med punktum som decimaltegn og uden "
                          "tusindtalsskilletegn", path=name)
    return danish_number(cell, name)


def _csv_bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in TRUE or low in FALSE:
        return low in TRUE
    raise InvalidCase(f"'{name}' skal være true eller false (fik '{text[:40]}')", path=name)


# --- many rows, in order, in parallel ---------------------------------------------------

class _Worker:
    """One engine evaluating (and maybe formatting) rows of one question.

    Owned by one :func:`run` call in this process, or by one pool process
    (built there by :func:`_init_process`), so concurrent batches never share one.
    """

    def __init__(self, engine: "Engine", question: str, csv_output: bool | None) -> None:
        self.engine, self.question = engine, question
        self.formatter = None if csv_output is None else Formatter(question, csv_output)

    @classmethod
    def build(cls, paths: Sequence[str] | None, plugins: bool, question: str,
              csv_output: bool | None) -> "_Worker":
        from ..run.api import Engine, embedded_rulesets
        from ..run.plugins import discover
        found = discover() if plugins else None      # the same plugins the command line uses
        engine = Engine.from_path(*(paths or [embedded_rulesets()]), plugins=found)
        return cls(engine, question, csv_output)

    def work(self, chunk: list[Item]) -> list[Any]:
        lines = [evaluate_item(self.engine, self.question, item) for item in chunk]
        formatter = self.formatter
        return lines if formatter is None else [("error" in line, formatter.format(line)) for line in lines]


#: The worker of this pool process (a process-local, set once by the pool's initializer).
_PROCESS_WORKER: list[_Worker] = []


def _init_process(paths: Sequence[str] | None, plugins: bool, question: str, csv_output: bool | None) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what it means and ends the pool.
    # A worker stopped by it mid-read could die holding the task queue's lock, and
    # ``Pool.terminate()`` then waits for that lock forever.  SIGTERM (what terminate sends)
    # ends a worker at once, whatever handler the parent had when it forked.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _PROCESS_WORKER[:] = [_Worker.build(paths, plugins, question, csv_output)]


def _work(chunk: list[Item]) -> list[Any]:
    return _PROCESS_WORKER[0].work(chunk)


def run(question: str, items: Iterable[Item], *, paths: Sequence[str] | None = None, workers: int = 1,
        engine: "Engine | None" = None, chunk: int = CHUNK, plugins: bool = False) -> Iterator[dict[str, Any]]:
    """Output lines (dicts) for ``items`` in input order, reading lazily.

    ``workers == 1`` evaluates in this process (with ``engine`` if given);
    otherwise a pool of ``workers`` processes, each with its own engine built
    from ``paths`` (with the discovered plugins when ``plugins``), gets chunks
    of rows and at most ``workers × WINDOW`` chunks are pending at any time.
    Each row is one evaluation under the engine's :class:`~rammeaftale.Limits`.
    """
    return _stream(question, items, paths, workers, engine, chunk, None, plugins)


def run_formatted(question: str, items: Iterable[Item], *, csv_output: bool, paths: Sequence[str] | None = None,
                  workers: int = 1, chunk: int = CHUNK, plugins: bool = False) -> Iterator[tuple[bool, str]]:
    """Like :func:`run`, but yields ``(failed, text)`` already formatted by the workers.

    Formatting in the workers keeps the parent process (which reads and
    writes) from becoming the bottleneck on a two-core machine.
    """
    return _stream(question, items, paths, workers, None, chunk, csv_output, plugins)


def _stream(question: str, items: Iterable[Item], paths: Sequence[str] | None, workers: int,
            engine: "Engine | None", chunk: int, csv_output: bool | None, plugins: bool) -> Iterator[Any]:
    if question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    if workers > 1:
        return _pooled(question, items, paths, workers, chunk, csv_output, plugins)
    return _inline(question, items, paths, engine, csv_output, plugins)


def _inline(question: str, items: Iterable[Item], paths: Sequence[str] | None, engine: "Engine | None",
            csv_output: bool | None, plugins: bool) -> Iterator[Any]:
    worker = (_Worker(engine, question, csv_output) if engine is not None
              else _Worker.build(paths, plugins, question, csv_output))
    for item in items:
        yield from worker.work([item])


def _pooled(question: str, items: Iterable[Item], paths: Sequence[str] | None, workers: int,
            chunk: int, csv_output: bool | None, plugins: bool) -> Iterator[Any]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    main = threading.current_thread() is threading.main_thread()    # only there may signals be changed
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None   # forked workers start ignoring it
    try:
        pool = context.Pool(workers, initializer=_init_process,
                            initargs=(list(paths) if paths else None, plugins, question, csv_output))
    finally:
        if main:
            signal.signal(signal.SIGINT, before)
    pending: deque[tuple[Any, list[Item]]] = deque()
    formatter = None if csv_output is None else Formatter(question, csv_output)
    try:
        for block in _chunks(items, chunk):
            pending.append((pool.apply_async(_work, (block,)), block))
            while len(pending) >= workers * WINDOW:
                yield from _collect(*pending.popleft(), formatter)
        while pending:
            yield from _collect(*pending.popleft(), formatter)
    finally:
        _end(pool)


def _end(pool: Any) -> None:
    """Terminate ``pool`` and wait for it — within :data:`END_SECONDS`, whatever happened to its workers.

    ``Pool.terminate()`` first takes the task queue's lock; a worker that was
    killed while holding it (SIGTERM sent to the whole process group by
    ``timeout``, systemd or a shell) would make that wait forever.  So it runs
    in a helper thread, and if it has not finished in time the workers are
    killed and the parent goes on (the stuck helper is a daemon thread).
    """
    ender = threading.Thread(target=lambda: (pool.terminate(), pool.join()), name="batch-pool-end", daemon=True)
    ender.start()
    ender.join(END_SECONDS)
    if ender.is_alive():
        for worker in list(getattr(pool, "_pool", [])):
            try:
                worker.kill()
                worker.join(1)
            except (OSError, ValueError, AssertionError):
                pass


def _collect(pending: Any, block: list[Item], formatter: "Formatter | None") -> list[Any]:
    """A chunk's lines; if the worker failed, one error line per row of the chunk (the run goes on)."""
    try:
        # Wait in slices: a signal for this process (SIGTERM from timeout/systemd) may be delivered to
        # one of the pool's threads, and Python acts on it only when the main thread runs again.
        while not pending.ready():
            pending.wait(0.25)
        return pending.get()
    except Exception as exc:  # noqa: BLE001 - a lost chunk must still answer every row
        lines = [error_line(item[0], f"intern fejl i arbejdsprocessen: {type(exc).__name__}: {exc}")
                 for item in block]
        return lines if formatter is None else [(True, formatter.format(line)) for line in lines]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    block: list[Item] = []
    for item in items:
        block.append(item)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block


# --- files ------------------------------------------------------------------------

def is_csv(path: str) -> bool:
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
            yield number, "error", (exc.message, _json_id(raw.decode("utf-8", "surrogateescape")))
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
    """The ``id`` cell of a CSV line that is refused as a whole (see :func:`_raw_id`); never raises.

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


class Formatter:
    """Turns output lines into JSON Lines or CSV text (outputs as columns).

    JSON Lines keep the row's ``id`` exactly as it was written (``1.5`` stays
    a number).  CSV cells are neutralised against formula injection: a cell
    starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``,
    unless it is a plain number (``-1250.50`` stays a number).
    """

    def __init__(self, question: str, csv_output: bool) -> None:
        self.csv = csv_output
        self.outputs = list(catalogue()[question].outputs)

    def header(self) -> str:
        if not self.csv:
            return ""
        return self._row(["id", "ruleset", "status", *self.outputs, "warnings", "error_kind", "error_message"])

    def format(self, line: dict[str, Any]) -> str:
        try:
            return self._format(line)
        except Exception as exc:  # noqa: BLE001 - a line that cannot be written still gets a line
            error = error_line((line.get("error") or {}).get("line", 0),
                               f"intern fejl: svaret kunne ikke skrives: {type(exc).__name__}: {exc}")
            error["id"] = _text_id(line.get("id"))
            return self._format(error)

    def _format(self, line: dict[str, Any]) -> str:
        if not self.csv:
            rest = json.dumps(dump({k: v for k, v in line.items() if k != "id"}), ensure_ascii=False)
            return '{"id": ' + _json_value(line.get("id")) + (", " + rest[1:] if rest != "{}" else "}") + "\n"
        error = line.get("error") or {}
        output = line.get("output") or {}
        cells = [to_csv(output.get(name)) for name in self.outputs]
        return self._row([to_csv(line.get("id")), line.get("ruleset", ""), line.get("status", ""), *cells,
                          " | ".join(w["tekst"] for w in line.get("warnings", [])), error.get("kind", ""),
                          error.get("message", "")])

    @staticmethod
    def _row(cells: list[Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([safe_cell(str(c)) for c in cells])
        return buffer.getvalue()


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` for a spreadsheet cell: a leading ``'`` if a spreadsheet could run it as a formula."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _json_value(value: Any) -> str:
    """JSON text for a row id as it was read: Decimal numbers stay numbers, exactly."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_json_value(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_value(v) for v in value) + "]"
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


def _text_id(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, bool)) else str(value)


# --- progress ---------------------------------------------------------------------

@dataclass
class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    stream: IO[str]
    size: int
    enabled: bool
    last: float = 0.0

    def update(self, position: int, rows: int, failed: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.2):
            return
        self.last = now
        share = min(position / self.size, 1.0) if self.size else 0.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r[{bar:<30}] {share:4.0%}  {rows} rækker, {failed} fejl")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
