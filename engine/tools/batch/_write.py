"""Writing a batch's output: answer lines as JSON Lines or spreadsheet-safe CSV, and a progress bar.

Formatting is done where the rows are evaluated (in the worker processes
when there are several), so the process that reads and writes the files
does not become the bottleneck on a two-core machine.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from ...model.catalogue import catalogue
from ...model.values import to_csv
from ...run.result import dump
from ._rows import error_line


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
