"""What the service's handlers share: its limits, its own errors, and the :class:`Service` itself."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from ..errors import EngineError, InvalidCase
from ..load.casefile import decode_case_bytes, parse_case_json
from ..run.api import Engine

#: HTTP status per error kind: the library's kinds, then the service's own.
STATUS = {
    "invalid_case": 422, "not_regulated": 422, "no_ruleset": 404, "invalid_ruleset": 500,
    "invalid_json": 400, "not_found": 404, "method_not_allowed": 405, "slow_client": 408,
    "too_large": 413, "timeout": 503, "internal_error": 500,
}


@dataclass(frozen=True)
class ServiceLimits:
    """Bounds on one request, on top of the engine's own :class:`~rammeaftale.Limits` per evaluation.

    ``max_body``: bytes of a JSON request (a case is at most 1.000.000 bytes);
    ``max_batch_body``: bytes of a batch request, counted as it streams in;
    ``body_idle_seconds``: the longest wait for the next piece of a body (a
    slow or stalled client gets 408, or an error line in a batch);
    ``request_seconds``: wall time of one evaluate or compare request (503);
    ``batch_seconds``: wall time of one batch; ``max_compare``: rulesets in one comparison.
    """

    max_body: int = 2_000_000
    max_batch_body: int = 100_000_000
    body_idle_seconds: float = 30.0
    request_seconds: float = 10.0
    batch_seconds: float = 600.0
    max_compare: int = 50


class ServiceError(Exception):
    """An error of the HTTP layer itself (not the engine's): bad JSON, too large, too slow…"""

    def __init__(self, kind: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message} | ({"path": self.path} if self.path else {})


def error_body(error: EngineError | ServiceError) -> dict[str, Any]:
    return {"error": error.to_dict()}


def error_response(error: EngineError | ServiceError) -> JSONResponse:
    return JSONResponse(error_body(error), status_code=STATUS.get(error.kind, 500))


@dataclass
class Service:
    """What every handler shares: the engine, its limits, and where the rule sources are."""

    engine: Engine
    limits: ServiceLimits
    sources: Path | None = None
    threads: anyio.CapacityLimiter | None = None
    quotes: Any = None          # the Sources that quote rule citations (read once, shared)

    def __post_init__(self) -> None:
        from ..tools.report import Sources
        self.quotes = Sources(self.sources, self.engine.rulesets())

    def limiter(self) -> anyio.CapacityLimiter:
        """The worker threads evaluations run in (created in the event loop, on first use)."""
        if self.threads is None:
            self.threads = anyio.CapacityLimiter(max(4, 4 * (os.cpu_count() or 1)))
        return self.threads

    async def call(self, fn: Callable[[], Any], seconds: float | None = None) -> Any:
        """``fn()`` in a worker thread, within the request's time limit."""
        try:
            with anyio.fail_after(seconds or self.limits.request_seconds):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True, limiter=self.limiter())
        except TimeoutError:
            raise ServiceError("timeout", f"forespørgslen tog mere end {self.limits.request_seconds:g} sekunder; "
                                          "prøv igen, eller del sagerne op") from None

    async def read_body(self, request: Request, limit: int | None = None) -> bytes:
        """The whole body, refused beyond ``limit`` bytes without reading the rest."""
        limit = limit or self.limits.max_body
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks, size = [], 0
        stream = request.stream().__aiter__()
        while True:
            try:
                with anyio.fail_after(self.limits.body_idle_seconds):
                    chunk = await stream.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise slow_client(self.limits.body_idle_seconds) from None
            except ClientDisconnect:
                raise ServiceError("invalid_json", "klienten afbrød forespørgslen") from None
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(self, request: Request) -> dict[str, Any]:
        raw = await self.read_body(request)
        try:
            data = parse_case_json(decode_case_bytes(raw, "forespørgslen"), "forespørgslen", path="")
        except InvalidCase as exc:
            raise ServiceError("invalid_json", exc.message) from None
        if not isinstance(data, dict):
            raise ServiceError("invalid_json", "forespørgslen skal være et JSON-objekt")
        return data


def too_large(limit: int) -> ServiceError:
    return ServiceError("too_large", f"forespørgslen er større end grænsen på {limit:,} bytes".replace(",", "."))


def slow_client(seconds: float) -> ServiceError:
    return ServiceError("slow_client", f"forespørgslen kom ikke frem: ingen data i {seconds:g} sekunder")
