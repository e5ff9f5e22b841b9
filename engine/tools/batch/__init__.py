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
  such as ``-1250.50`` are left as they are;
* no row is lost to a worker process that dies (killed by the OOM killer, say):
  its unanswered rows run again in a new one, and if they kill that one too
  the batch stops with :class:`BatchStopped` instead of leaving a gap.

The parts, each in a module of its own: reading rows (:mod:`._read`),
answering one row (:mod:`._rows`), running many in order and in parallel
(:mod:`._run`) and writing the output (:mod:`._write`).
"""

from ._read import Item, flat_inputs, is_csv, read_items
from ._rows import danish_number, error_line, evaluate_item, quoted_decimal_comma
from ._run import CHUNK, END_SECONDS, WINDOW, BatchStopped, run, run_formatted
from ._write import Formatter, Progress, safe_cell

__all__ = ["CHUNK", "END_SECONDS", "WINDOW", "BatchStopped", "Formatter", "Item", "Progress", "danish_number",
           "error_line", "evaluate_item", "flat_inputs", "is_csv", "quoted_decimal_comma", "read_items", "run",
           "run_formatted", "safe_cell"]
