"""Many cases, one question: JSON Lines (or flat CSV) in, one answer per row out.

Systems that re-run a whole year of placements need a file interface that is
safe to leave running: every row gets its own answer or its own error line
(even a line that is not JSON), nothing stops the batch, the output keeps the
input's order, and memory stays flat however long the file is — rows are
read lazily and at most ``workers × WINDOW`` chunks are in flight.  Rows are
evaluated without a trace; the batch wants answers, not explanations.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from ..model.catalogue import catalogue
from ..errors import EngineError, InvalidCase
from ..run.result import dump

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

CHUNK = 200          # rows per task sent to a worker
WINDOW = 4           # chunks in flight per worker
ROUTING = ("id", "ruleset", "region", "dato")
TRUE, FALSE = {"true", "ja", "1"}, {"false", "nej", "0"}

Item = tuple[int, str, Any]     # (line number, "json" | "csv", raw text or CSV row)


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
    except EngineError as exc:
        return {"id": row_id, "error": exc.to_dict() | {"line": number}}
    except Exception as exc:  # noqa: BLE001 - a bug on one row must not stop the batch
        return {"id": row_id, "error": {"kind": "engine_error", "message": f"{type(exc).__name__}: {exc}",
                                        "line": number}}
    data = result.to_dict()
    return {"id": row_id, "ruleset": data["ruleset"], "status": data["status"], "output": data["output"],
            "warnings": data["warnings"]}


def _record(question: str, form: str, raw: Any, number: int) -> dict[str, Any]:
    if form == "csv":
        return _csv_record(question, raw)
    try:
        record = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidCase(f"linje {number} er ikke gyldig JSON: {exc.msg}", path="") from None
    if not isinstance(record, dict):
        raise InvalidCase(f"linje {number} skal være et JSON-objekt", path="")
    unknown = sorted(set(record) - set(ROUTING) - {"case"})
    if unknown:
        raise InvalidCase(f"ukendt nøgle '{unknown[0]}' (kendte: {', '.join(ROUTING)}, case)", path=unknown[0])
    if not record.get("ruleset") and not record.get("region"):
        raise InvalidCase("rækken skal have 'ruleset' eller 'region' (og 'dato')", path="ruleset")
    return record


def _csv_record(question: str, row: dict[str, str]) -> dict[str, Any]:
    """A flat CSV row: routing columns plus one column per case field; empty = absent."""
    fields = catalogue()[question].inputs
    record: dict[str, Any] = {k: row[k] for k in ROUTING if row.get(k)}
    case: dict[str, Any] = {}
    for name, text in row.items():
        if name in ROUTING or name is None or text in (None, ""):
            continue
        field = fields.get(name)
        case[name] = _csv_bool(text, name) if field is not None and field.type == "bool" else text
    record["case"] = case
    return record


def _csv_bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in TRUE or low in FALSE:
        return low in TRUE
    raise InvalidCase(f"'{name}' skal være true eller false (fik '{text[:40]}')", path=name)


# --- many rows, in order, in parallel ---------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(paths: Sequence[str] | None, question: str, csv_output: bool | None = None) -> None:
    from ..run.api import Engine
    _WORKER["engine"] = Engine.from_path(*paths) if paths else Engine.default()
    _WORKER["question"] = question
    _WORKER["formatter"] = None if csv_output is None else Formatter(question, csv_output)


def _work(chunk: list[Item]) -> list[Any]:
    lines = [evaluate_item(_WORKER["engine"], _WORKER["question"], item) for item in chunk]
    formatter = _WORKER["formatter"]
    return lines if formatter is None else [("error" in line, formatter.format(line)) for line in lines]


def run(question: str, items: Iterable[Item], *, paths: Sequence[str] | None = None, workers: int = 1,
        engine: "Engine | None" = None, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Output lines (dicts) for ``items`` in input order, reading lazily.

    ``workers == 1`` evaluates in this process (with ``engine`` if given);
    otherwise a pool of ``workers`` processes, each with its own engine built
    from ``paths``, gets chunks of rows and at most ``workers × WINDOW`` chunks
    are pending at any time.
    """
    return _stream(question, items, paths, workers, engine, chunk, None)


def run_formatted(question: str, items: Iterable[Item], *, csv_output: bool, paths: Sequence[str] | None = None,
                  workers: int = 1, chunk: int = CHUNK) -> Iterator[tuple[bool, str]]:
    """Like :func:`run`, but yields ``(failed, text)`` already formatted by the workers.

    Formatting in the workers keeps the parent process (which reads and
    writes) from becoming the bottleneck on a two-core machine.
    """
    return _stream(question, items, paths, workers, None, chunk, csv_output)


def _stream(question: str, items: Iterable[Item], paths: Sequence[str] | None, workers: int,
            engine: "Engine | None", chunk: int, csv_output: bool | None) -> Iterator[Any]:
    if question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    if workers > 1:
        return _pooled(question, items, paths, workers, chunk, csv_output)
    return _inline(question, items, paths, engine, csv_output)


def _inline(question: str, items: Iterable[Item], paths: Sequence[str] | None, engine: "Engine | None",
            csv_output: bool | None) -> Iterator[Any]:
    if engine is None:
        _init_worker(paths, question, csv_output)
    else:
        _WORKER.update(engine=engine, question=question,
                       formatter=None if csv_output is None else Formatter(question, csv_output))
    for item in items:
        yield from _work([item])


def _pooled(question: str, items: Iterable[Item], paths: Sequence[str] | None, workers: int,
            chunk: int, csv_output: bool | None) -> Iterator[Any]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = context.Pool(workers, initializer=_init_worker,
                        initargs=(list(paths) if paths else None, question, csv_output))
    pending: deque[Any] = deque()
    try:
        for block in _chunks(items, chunk):
            pending.append(pool.apply_async(_work, (block,)))
            while len(pending) >= workers * WINDOW:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()


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


def read_items(stream: IO[str], csv_input: bool, question: str) -> Iterator[Item]:
    """Rows of the input file as :data:`Item` s; blank JSON lines are skipped."""
    if csv_input:
        flat_inputs(question)
        for number, row in enumerate(csv.DictReader(stream), start=2):
            yield number, "csv", row
        return
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, "json", line


def flat_inputs(question: str) -> None:
    """CSV input needs a question whose inputs fit in columns."""
    nested = [n for n, f in catalogue()[question].inputs.items() if f.type in ("kort", "liste")]
    if nested:
        raise InvalidCase(f"'{question}' har indlejrede input ({', '.join(nested)}) og kan ikke læses fra CSV; "
                          "brug JSON Lines", path="input")


class Formatter:
    """Turns output lines into JSON Lines or CSV text (outputs as columns)."""

    def __init__(self, question: str, csv_output: bool) -> None:
        self.csv = csv_output
        self.outputs = list(catalogue()[question].outputs)

    def header(self) -> str:
        if not self.csv:
            return ""
        return self._row(["id", "ruleset", "status", *self.outputs, "warnings", "error_kind", "error_message"])

    def format(self, line: dict[str, Any]) -> str:
        if not self.csv:
            return json.dumps(line, ensure_ascii=False) + "\n"
        error = line.get("error") or {}
        output = line.get("output") or {}
        cells = [_cell(output.get(name)) for name in self.outputs]
        return self._row([_cell(line.get("id")), line.get("ruleset", ""), line.get("status", ""), *cells,
                          " | ".join(line.get("warnings", [])), error.get("kind", ""), error.get("message", "")])

    @staticmethod
    def _row(cells: list[Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(cells)
        return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(dump(value), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
