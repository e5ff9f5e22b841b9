"""``POST /v1/batch?question=Q``: JSON Lines in, JSON Lines out, streamed both ways.

The rows and the answer lines are exactly those of ``rammeaftale batch``
(:mod:`rammeaftale.tools.batch`): each input row ``{"id", "ruleset" | "region"
+ "dato", "case"}`` gets one output line in input order, with its answer or
its own error; nothing stops the batch.  The body is read as it arrives and
answers are sent as they are ready, so memory stays flat and a client may
read answers while it is still sending rows.

What ends a batch early is reported as a last line ``{"id": null, "error":
{"kind", "message"}}``: ``too_large`` (more than
:attr:`~.app.ServiceLimits.max_batch_body` bytes), ``slow_client`` (no data for
``body_idle_seconds``), ``timeout`` (``batch_seconds``).  A client that
disconnects ends the batch at the next row; the server goes on answering others.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterator

import anyio
import anyio.from_thread
import anyio.to_thread
from starlette.types import Receive, Scope, Send

from ..errors import EngineError
from ..model.catalogue import catalogue
from ..tools.batch import Formatter, read_items, run

if TYPE_CHECKING:  # pragma: no cover
    from .core import Service

MEDIA_TYPE = b"application/x-ndjson; charset=utf-8"
#: Answer lines taken from the batch per hop into a worker thread (fewer when the client is slow to send).
LINES_PER_HOP = 100


class _ClientGone(Exception):
    pass


class _Stop(Exception):
    """The body broke a limit: ends the batch with one error line."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


class BodyReader:
    """The request body as a blocking binary stream (``readline``) for the batch reader in a worker thread.

    Pieces are fetched from the event loop as the reader needs them; at most
    one line (bounded by the batch reader's own line limit) is buffered.
    """

    def __init__(self, receive: Receive, limit: int, idle: float) -> None:
        self.receive, self.limit, self.idle = receive, limit, idle
        self.buffer = bytearray()
        self.size = 0
        self.eof = False
        self.done = anyio.Event()

    async def _more(self) -> None:
        try:
            with anyio.fail_after(self.idle):
                message = await self.receive()
        except TimeoutError:
            raise _Stop("slow_client", f"batchen stoppede: ingen data i {self.idle:g} sekunder") from None
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        body = message.get("body", b"")
        self.size += len(body)
        if self.size > self.limit:
            raise _Stop("too_large", f"batchen stoppede: forespørgslen er større end grænsen på "
                                     f"{self.limit:,} bytes".replace(",", "."))
        self.buffer += body
        if not message.get("more_body", False):
            self.eof = True
            self.done.set()

    def has_line(self) -> bool:
        """Can :meth:`readline` answer without waiting for the client?"""
        return self.eof or b"\n" in self.buffer

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if limit >= 0 and len(self.buffer) >= limit:
                return self._take(limit)
            if self.eof:
                return self._take(len(self.buffer))
            anyio.from_thread.run(self._more)

    def _take(self, count: int) -> bytes:
        out = bytes(self.buffer[:count])
        del self.buffer[:count]
        return out


def _take(lines: Iterator[dict[str, Any]], reader: BodyReader, formatter: Formatter) -> tuple[list[str], Any]:
    """Up to :data:`LINES_PER_HOP` formatted lines; the second value is None (more to come), True (done)
    or the exception that ended the batch."""
    out: list[str] = []
    try:
        for _ in range(LINES_PER_HOP):
            line = next(lines, None)
            if line is None:
                return out, True
            out.append(formatter.format(line))
            if not reader.has_line():
                break          # send what is ready rather than wait for the client's next row
    except (_Stop, _ClientGone) as exc:
        return out, exc
    return out, None


class BatchEndpoint:
    """The ASGI endpoint (not a Starlette ``Response``: it reads the body itself while it answers)."""

    def __init__(self, service: "Service") -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from .core import ServiceError, error_body, STATUS, too_large
        limits = self.service.limits
        question = _query(scope).get("question", "")
        declared = _header(scope, b"content-length")
        error: EngineError | ServiceError | None = None
        if question not in catalogue():
            from ..errors import InvalidCase
            error = InvalidCase(f"angiv spørgsmålet som ?question=…; kendte: {', '.join(catalogue())}",
                                path="question")
        elif declared.isdigit() and int(declared) > limits.max_batch_body:
            error = too_large(limits.max_batch_body)
        if error is not None:
            await _send_json(send, STATUS[error.kind], error_body(error))
            return
        reader = BodyReader(receive, limits.max_batch_body, limits.body_idle_seconds)
        formatter = Formatter(question, csv_output=False)
        lines = run(question, read_items(reader, False, question), engine=self.service.engine)  # type: ignore[arg-type]
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", MEDIA_TYPE), (b"cache-control", b"no-store")]})
        gone = anyio.Event()

        async def watch() -> None:
            """Once the body is read, the next message can only be the client leaving."""
            await reader.done.wait()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    tg.cancel_scope.cancel()
                    return

        deadline = time.monotonic() + limits.batch_seconds
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            while True:
                out, end = await anyio.to_thread.run_sync(_take, lines, reader, formatter,
                                                          abandon_on_cancel=True, limiter=self.service.limiter())
                if isinstance(end, _ClientGone):
                    gone.set()
                    break
                if isinstance(end, _Stop):
                    out.append(_error_line(end.kind, end.message))
                elif end is None and time.monotonic() > deadline:
                    out.append(_error_line("timeout", f"batchen stoppede efter {limits.batch_seconds:g} sekunder"))
                    end = True
                if out:
                    await send({"type": "http.response.body", "body": "".join(out).encode("utf-8"),
                                "more_body": True})
                if end is not None:
                    break
            tg.cancel_scope.cancel()
        if not gone.is_set():
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _error_line(kind: str, message: str) -> str:
    import json
    return json.dumps({"id": None, "error": {"kind": kind, "message": message}}, ensure_ascii=False) + "\n"


async def _send_json(send: Send, status: int, data: Any) -> None:
    import json
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""
