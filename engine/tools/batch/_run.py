"""Running a batch: output lines in input order, from this process or from worker processes that may die.

A worker process can die at any moment — the kernel's OOM killer, an
operator's ``kill -9``, a crash in a plugin's native code — and the rows it
held must not quietly vanish from the output.  So the pool is our own, on
multiprocessing's public API only: each worker has a pipe of its own, and
the parent knows which chunks each worker holds.  When one dies, the chunks
it had not answered go to a new worker; a chunk during which workers die
:data:`MAX_DEATHS` times is taken to be what kills them and stops the batch
with :class:`BatchStopped`, which says how far it got.  Every row is
answered once, in order, or the batch ends with an error.

Sharing nothing between workers (no common queue, no lock) also keeps
ending the pool simple: a worker killed at any instant, even by a SIGTERM
to the whole process group, cannot leave something the others or the
parent wait for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, Generator, Iterable, Iterator, Sequence

from ...errors import InvalidCase
from ...model.catalogue import catalogue
from ._read import Item
from ._rows import evaluate_item
from ._write import Formatter

if TYPE_CHECKING:  # pragma: no cover
    from ...run.api import Engine

CHUNK = 200          # rows per task sent to a worker
WINDOW = 4           # chunks in flight per worker
END_SECONDS = 2      # how long ending a worker may take before it is killed
#: Workers that may die while answering one chunk before the batch stops: the second death
#: says the chunk itself kills them (a row that exhausts memory), so a third try would too.
MAX_DEATHS = 2
#: The parent waits for answers in slices this long: a signal for it may be delivered to another
#: thread of the caller's program, and Python acts on it only when the main thread runs again.
WAIT_SECONDS = 0.25
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
#: Holds signals while a worker is forked (POSIX; where it is missing, so is fork).
_SIGMASK = getattr(signal, "pthread_sigmask", None)

log = logging.getLogger("rammeaftale.batch")


class BatchStopped(Exception):
    """The batch stopped before every row was answered: worker processes kept dying on the same rows.

    The first ``rows`` output lines had been delivered, in input order; no
    line after them was.  The message (Danish) names the input lines the
    workers died on and why they died, as far as the system says.
    """

    def __init__(self, message: str, rows: int) -> None:
        super().__init__(message)
        self.rows = rows


class _Worker:
    """One engine evaluating (and maybe formatting) rows of one question.

    Owned by one :func:`run` call in this process, or by one worker process
    (built there by :func:`_serve`), so concurrent batches never share one.
    """

    def __init__(self, engine: "Engine", question: str, csv_output: bool | None) -> None:
        self.engine, self.question = engine, question
        self.formatter = None if csv_output is None else Formatter(question, csv_output)

    @classmethod
    def build(cls, paths: Sequence[str] | None, plugins: bool, question: str,
              csv_output: bool | None) -> "_Worker":
        from ...run.api import Engine, embedded_rulesets
        from ...run.plugins import discover
        found = discover() if plugins else None      # the same plugins the command line uses
        engine = Engine.from_path(*(paths or [str(embedded_rulesets())]), plugins=found)
        return cls(engine, question, csv_output)

    def work(self, chunk: list[Item]) -> list[Any]:
        lines = [evaluate_item(self.engine, self.question, item) for item in chunk]
        formatter = self.formatter
        return lines if formatter is None else [("error" in line, formatter.format(line)) for line in lines]


def run(question: str, items: Iterable[Item], *, paths: Sequence[str] | None = None, workers: int = 1,
        engine: "Engine | None" = None, chunk: int = CHUNK,
        plugins: bool = False) -> Generator[dict[str, Any], None, None]:
    """Output lines (dicts) for ``items`` in input order, reading lazily.

    ``workers == 1`` evaluates in this process (with ``engine`` if given);
    otherwise ``workers`` processes, each with its own engine built from
    ``paths`` (with the discovered plugins when ``plugins``), get chunks of
    rows and at most ``workers × WINDOW`` chunks are read ahead.  Each row is
    one evaluation under the engine's :class:`~rammeaftale.Limits`.  A worker
    that dies is replaced and its unanswered rows run again (a warning on the
    ``rammeaftale.batch`` logger); :class:`BatchStopped` if they kill it again.
    """
    return _stream(question, items, paths, workers, engine, chunk, None, plugins)


def run_formatted(question: str, items: Iterable[Item], *, csv_output: bool, paths: Sequence[str] | None = None,
                  workers: int = 1, chunk: int = CHUNK,
                  plugins: bool = False) -> Generator[tuple[bool, str], None, None]:
    """Like :func:`run`, but yields ``(failed, text)`` already formatted by the workers.

    Formatting in the workers keeps the parent process (which reads and
    writes) from becoming the bottleneck on a two-core machine.
    """
    return _stream(question, items, paths, workers, None, chunk, csv_output, plugins)


def _stream(question: str, items: Iterable[Item], paths: Sequence[str] | None, workers: int,
            engine: "Engine | None", chunk: int, csv_output: bool | None,
            plugins: bool) -> Generator[Any, None, None]:
    if question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    if workers > 1:
        return _pooled(_Pool(workers, (list(paths) if paths else None, plugins, question, csv_output)),
                       _chunks(items, chunk))
    return _inline(question, items, paths, engine, csv_output, plugins)


def _inline(question: str, items: Iterable[Item], paths: Sequence[str] | None, engine: "Engine | None",
            csv_output: bool | None, plugins: bool) -> Generator[Any, None, None]:
    worker = (_Worker(engine, question, csv_output) if engine is not None
              else _Worker.build(paths, plugins, question, csv_output))
    for item in items:
        yield from worker.work([item])


def _pooled(pool: "_Pool", chunks: Iterator[list[Item]]) -> Generator[Any, None, None]:
    # A generator, so the workers start at the first row asked for and are ended however the caller stops.
    try:
        yield from pool.answers(chunks)
    finally:
        pool.end()


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    block: list[Item] = []
    for item in items:
        block.append(item)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block


# --- the pool ------------------------------------------------------------------------

@dataclass
class _Chunk:
    """Rows sent to a worker together; ``lines`` once answered."""

    items: list[Item]
    lines: list[Any] | None = None
    deaths: int = 0          # workers that died while this was the chunk they were answering

    def where(self) -> str:
        return f"linje {self.items[0][0]}–{self.items[-1][0]}"


class _Lane:
    """One live worker process, the parent's end of its pipe, and the chunks it holds, oldest first.

    A worker answers its chunks in the order they were sent, so the oldest
    held chunk is the one it is answering and those behind it are not begun.
    """

    def __init__(self, process: BaseProcess, conn: Connection, held: deque[_Chunk]) -> None:
        self.process, self.conn, self.held = process, conn, held
        for chunk in held:
            self._send(chunk)

    def give(self, chunk: _Chunk) -> None:
        self.held.append(chunk)
        self._send(chunk)

    def _send(self, chunk: _Chunk) -> None:
        try:
            self.conn.send(chunk.items)
        except OSError:
            pass    # the worker has died: its pipe reports the end, and the chunk, still held, is sent again


class _Pool:
    """Worker processes answering chunks; the parent's side (the workers run :func:`_serve`)."""

    def __init__(self, workers: int, args: tuple[Any, ...]) -> None:
        self.context = (multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods()
                        else multiprocessing.get_context("spawn"))
        self.workers, self.args = workers, args
        self.started: list[BaseProcess] = []     # every process not yet ended, for end()
        self.lanes: list[_Lane] = []
        self.delivered = 0                       # output lines handed to the caller

    def answers(self, chunks: Iterator[list[Item]]) -> Iterator[Any]:
        """Output lines in input order, with at most ``workers × WINDOW`` chunks read and not yet delivered."""
        self.lanes = [self._start(deque()) for _ in range(self.workers)]
        window: deque[_Chunk] = deque()
        more = True
        while more or window:
            while more and len(window) < self.workers * WINDOW:
                block = next(chunks, None)
                if block is None:
                    more = False
                else:
                    window.append(_Chunk(block))
                    min(self.lanes, key=lambda lane: len(lane.held)).give(window[-1])
            while window and window[0].lines is not None:
                lines = window.popleft().lines or []
                self.delivered += len(lines)
                yield from lines
            if window:
                self._wait()

    def _wait(self) -> None:
        """Take the answers that have arrived; replace a worker whose pipe reports that it has died."""
        ready = wait([lane.conn for lane in self.lanes], WAIT_SECONDS)
        for lane in list(self.lanes):
            if lane.conn in ready:
                self._take(lane)

    def _take(self, lane: _Lane) -> None:
        while True:
            try:
                if not lane.conn.poll():
                    return
                answer = lane.conn.recv()
            except (EOFError, OSError):      # answers sent before the end were read first
                self._replace(lane)
                return
            if isinstance(answer, _Failed):
                raise answer.exception()
            lane.held.popleft().lines = answer

    def _replace(self, lane: _Lane) -> None:
        """A worker has died: a new one gets its unanswered chunks, unless they have now killed two."""
        lane.conn.close()
        cause = _cause(_finish(lane.process, time.monotonic() + END_SECONDS))
        self.started.remove(lane.process)
        if lane.held:
            current = lane.held[0]
            current.deaths += 1
            if current.deaths >= MAX_DEATHS:
                raise BatchStopped(f"en arbejdsproces døde {current.deaths} gange under rækkerne på "
                                   f"{current.where()} ({cause}); {self.delivered} rækker var besvaret",
                                   self.delivered)
            log.warning("batch: en arbejdsproces døde under rækkerne på %s (%s); de %d ubesvarede rækker "
                        "køres igen i en ny proces", current.where(), cause, sum(len(c.items) for c in lane.held))
        else:
            log.warning("batch: en arbejdsproces døde (%s) uden ubesvarede rækker; en ny er startet", cause)
        self.lanes[self.lanes.index(lane)] = self._start(lane.held)

    def _start(self, held: deque[_Chunk]) -> _Lane:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child_end, *self.args), name="rammeaftale-batch",
                                       daemon=True)
        with _signals_held():
            process.start()
            self.started.append(process)    # before a held signal can interrupt: end() must find it
        child_end.close()
        return _Lane(process, parent_end, held)

    def end(self) -> None:
        """Stop every worker within :data:`END_SECONDS`: SIGTERM (a worker ends at once), then SIGKILL."""
        for lane in self.lanes:
            lane.conn.close()
        for process in self.started:
            process.terminate()
        until = time.monotonic() + END_SECONDS
        for process in self.started:
            _finish(process, until)


def _finish(process: BaseProcess, until: float) -> int | None:
    """Wait for ``process`` to end until ``until`` (monotonic), then kill it; its exit code."""
    process.join(max(0.0, until - time.monotonic()))
    if process.exitcode is None:
        process.kill()
        process.join(1)
    return process.exitcode


def _cause(code: int | None) -> str:
    """Why a worker ended, in Danish; SIGKILL is what the kernel's OOM killer sends, so it is named."""
    if code is None:
        return "den kunne ikke stoppes"
    if code >= 0:
        return f"afsluttet med kode {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "ukendt"
    hint = ", f.eks. af systemets OOM-killer ved mangel på hukommelse" if -code == signal.SIGKILL else ""
    return f"dræbt af signal {-code} ({name}){hint}"


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while a worker is forked; the worker lets them in once its handlers are set.

    Why: a forked worker starts with the parent's handlers (the command
    line's raises an exception to clean up), so a signal at that instant
    would print a traceback from the worker or keep it alive.  Held, it
    reaches the parent just after the fork.
    """
    if _SIGMASK is None:
        yield
        return
    before = _SIGMASK(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        _SIGMASK(signal.SIG_SETMASK, before)


# --- the worker process ------------------------------------------------------------------

@dataclass
class _Failed:
    """A worker's exception while building its engine, to be raised in the parent as one process would.

    Carried as class, arguments and attributes and rebuilt without
    ``__init__``: some engine errors (``RulesetErrors``) are not built from
    their message, so pickling them as they are fails.
    """

    kind: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]

    def exception(self) -> BaseException:
        exc = self.kind.__new__(self.kind, *self.args)
        exc.args = self.args
        exc.__dict__.update(self.state)
        return exc


def _serve(conn: Connection, paths: Sequence[str] | None, plugins: bool, question: str,
           csv_output: bool | None) -> None:
    """A worker process: build an engine, then answer chunks in the order they arrive until ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C reaches the whole process group; the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)    # what end() sends: stop at once
    if _SIGMASK is not None:
        _SIGMASK(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    # Whatever the parent had buffered for its own output when it forked must not be written again when
    # this process exits (which flushes sys.stdout); a worker's output goes through the pipe only.
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
    inbox: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
    threading.Thread(target=_receive, args=(conn, inbox), name="rammeaftale-batch-inbox", daemon=True).start()
    try:
        worker = _Worker.build(paths, plugins, question, csv_output)
    except Exception as exc:  # noqa: BLE001 - raised in the parent, as a batch in one process would raise it
        conn.send(_Failed(type(exc), exc.args, vars(exc)))
        return
    try:
        while (chunk := inbox.get()) is not None:
            conn.send(worker.work(chunk))
    except OSError:
        pass     # the parent has gone


def _receive(conn: Connection, inbox: "queue.SimpleQueue[list[Item] | None]") -> None:
    """Take chunks off the pipe as they arrive, so the parent never waits to send while a worker is busy.

    Why: both sides send on one pipe.  If the worker read only between
    chunks, a parent blocked sending a large chunk and a worker blocked
    sending its answer would wait for each other for ever.
    """
    try:
        while True:
            inbox.put(conn.recv())
    except (EOFError, OSError):
        inbox.put(None)
