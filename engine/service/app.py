"""The HTTP service: the library's answers as JSON over HTTP, and the caseworkers' page.

One :class:`~rammeaftale.Engine` is built when the app is created and then
only read (it is immutable and thread-safe), so the app keeps no state between
requests and scales by running more processes behind any load balancer
(``rammeaftale serve --workers N``).  Evaluations run in worker threads, so a
slow one never stops the server answering others; every request is bounded
(:class:`ServiceLimits`: body size, idle time while reading a body, wall time).

Answers are exactly the library's JSON: ``Result.to_dict()``,
``Comparison.to_dict()``, the batch's JSON Lines.  Errors are
``{"error": {"kind", "message", "path"?, …}}`` with the status of
:data:`STATUS` (docs/api.md, "HTTP").
"""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Sequence

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .._version import __version__
from ..errors import EngineError, InvalidCase
from ..load.casefile import decode_case_bytes, parse_case_json
from ..model.catalogue import catalogue, catalogue_version
from ..run.api import Engine, embedded_rulesets
from ..run.plugins import discover

from .core import (STATUS, Service, ServiceError, ServiceLimits, error_body, error_response,  # noqa: F401
                   slow_client, too_large)

EVALUATE_KEYS = ("question", "case", "ruleset", "region", "dato", "trace", "fortolkninger")
COMPARE_KEYS = ("question", "case", "rulesets")
#: Does this engine's ``evaluate`` take alternative readings (issue 8)?  Checked, not assumed.
ACCEPTS_READINGS = "fortolkninger" in inspect.signature(Engine.evaluate).parameters

# --- request bodies -----------------------------------------------------------------

def _only(data: Mapping[str, Any], keys: Sequence[str]) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise InvalidCase(f"ukendt nøgle '{unknown[0]}' i forespørgslen (kendte: {', '.join(keys)})",
                          path=unknown[0])


def _question(data: Mapping[str, Any]) -> str:
    question = data.get("question")
    if not isinstance(question, str) or question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    return question


def _case(data: Mapping[str, Any]) -> Mapping[str, Any]:
    case = data.get("case", {})
    if not isinstance(case, dict):
        raise InvalidCase("'case' skal være et JSON-objekt med sagens felter", path="case")
    return case


def evaluate_call(engine: Engine, data: Mapping[str, Any]) -> Callable[[], dict[str, Any]]:
    """Check an evaluate body and return the evaluation to run (``Result.to_dict()``)."""
    _only(data, EVALUATE_KEYS)
    question, case = _question(data), _case(data)
    trace = data.get("trace", True)
    if not isinstance(trace, bool):
        raise InvalidCase("'trace' skal være true eller false", path="trace")
    dato = data.get("dato")
    if dato is not None and not isinstance(dato, str):
        raise InvalidCase("'dato' skal være en dato ÅÅÅÅ-MM-DD", path="dato")
    kwargs: dict[str, Any] = {"ruleset": data.get("ruleset"), "region": data.get("region"), "dato": dato,
                              "trace": trace}
    if data.get("fortolkninger") is not None:
        if not isinstance(data["fortolkninger"], dict):
            raise InvalidCase("'fortolkninger' skal være et JSON-objekt", path="fortolkninger")
        if not ACCEPTS_READINGS:
            raise InvalidCase("denne version af motoren kan ikke vælge alternative fortolkninger; "
                              "udelad 'fortolkninger'", path="fortolkninger")
        kwargs["fortolkninger"] = data["fortolkninger"]
    if not kwargs["ruleset"] and not kwargs["region"]:
        raise InvalidCase("angiv 'ruleset' eller 'region' (og evt. 'dato')", path="ruleset")
    return lambda: engine.evaluate(question, case, **kwargs).to_dict()


def compare_call(engine: Engine, data: Mapping[str, Any], limits: ServiceLimits) -> Callable[[], dict[str, Any]]:
    _only(data, COMPARE_KEYS)
    question, case = _question(data), _case(data)
    rulesets = data.get("rulesets")
    if rulesets is not None and (not isinstance(rulesets, list) or not all(isinstance(r, str) for r in rulesets)):
        raise InvalidCase("'rulesets' skal være en liste af regelsæt-id'er", path="rulesets")
    if rulesets is not None and len(rulesets) > limits.max_compare:
        raise InvalidCase(f"højst {limits.max_compare} regelsæt i én sammenligning", path="rulesets")
    return lambda: engine.compare(question, case, rulesets=rulesets or None).to_dict()


# --- handlers -----------------------------------------------------------------------

def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def healthz(request: Request) -> Response:
    engine = _service(request).engine
    return JSONResponse({"status": "ok", "engine_version": __version__, "catalogue_version": catalogue_version(),
                         "rulesets": len(engine.registry.rulesets)})


async def rulesets(request: Request) -> Response:
    engine = _service(request).engine
    items = sorted((r.summary() for r in engine.rulesets()), key=lambda s: (s["type"], s["region"], s["gyldig_fra"]))
    return JSONResponse({"rulesets": items})


def question_doc(name: str) -> dict[str, Any]:
    """One question as the API publishes it: its title and the JSON Schemas of input, output and answer."""
    spec = catalogue()[name]
    return {"question": name, "titel": spec.title, "input": spec.json_schema(),
            "output": spec.output_json_schema(), "result": spec.result_json_schema()}


async def questions(request: Request) -> Response:
    return JSONResponse({"catalogue_version": catalogue_version(),
                         "questions": [{"question": n, "titel": q.title, "href": f"/v1/questions/{n}"}
                                       for n, q in catalogue().items()]})


async def question(request: Request) -> Response:
    name = request.path_params["question"]
    if name not in catalogue():
        raise ServiceError("not_found", f"ukendt spørgsmål '{name}'; kendte: {', '.join(catalogue())}",
                           path="question")
    return JSONResponse(question_doc(name))


async def evaluate(request: Request) -> Response:
    service = _service(request)
    call = evaluate_call(service.engine, await service.read_json(request))
    return JSONResponse(await service.call(call))


async def compare(request: Request) -> Response:
    service = _service(request)
    call = compare_call(service.engine, await service.read_json(request), service.limits)
    return JSONResponse(await service.call(call, service.limits.request_seconds * 3))


async def openapi(request: Request) -> Response:
    from .openapi import openapi_document
    return JSONResponse(openapi_document(_service(request).engine))


# --- errors -------------------------------------------------------------------------

async def _engine_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, (EngineError, ServiceError))
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kinds = {404: ("not_found", "siden eller adressen findes ikke"),
             405: ("method_not_allowed", "metoden er ikke tilladt her")}
    kind, message = kinds.get(exc.status_code, ("invalid_json", str(exc.detail)))
    return JSONResponse({"error": {"kind": kind, "message": message}}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": {"kind": "internal_error",
                                   "message": f"intern fejl: {type(exc).__name__}"}}, status_code=500)


class _Guard:
    """The outermost layer: a client that goes away is not an error, and any response gets safe headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for key, value in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                                   (b"x-frame-options", b"DENY")):
                    if key not in names:
                        headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            return


def create_app(engine: Engine | None = None, *, paths: Sequence[Path | str] | None = None,
               limits: ServiceLimits | None = None, sources: Path | None = None) -> Starlette:
    """The ASGI app.  ``engine``: the one to serve (default: the rulesets in ``paths``, or the
    embedded ones, with the discovered plugins, as the command line uses them)."""
    from . import batch, pages
    if engine is None:
        found = discover()
        folders = list(paths) if paths else [embedded_rulesets(), *found.ruleset_sources]
        engine = Engine.from_path(*folders, plugins=found)
    from ..tools.sources import explicit_sources
    service = Service(engine, limits or ServiceLimits(), sources if sources is not None else explicit_sources())
    handler: Callable[[Request, Exception], Awaitable[Response]]
    routes = [
        Route("/healthz", healthz),
        Route("/v1/rulesets", rulesets),
        Route("/v1/questions", questions),
        Route("/v1/questions/{question}", question),
        Route("/v1/evaluate", evaluate, methods=["POST"]),
        Route("/v1/compare", compare, methods=["POST"]),
        Route("/v1/batch", batch.BatchEndpoint(service), methods=["POST"]),
        Route("/openapi.json", openapi),
        Route("/docs", pages.api_docs),
        Mount("/docs/static", app=StaticFiles(directory=pages.swagger_assets()), name="swagger"),
        Mount("/static", app=StaticFiles(directory=Path(__file__).with_name("static")), name="static"),
        *pages.routes(),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        EngineError: _engine_error, ServiceError: _engine_error, HTTPException: _http_error,
        Exception: _internal_error}
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=[Middleware(_Guard)])
    app.state.service = service
    return app


def app_from_environment() -> Starlette:
    """The app ``rammeaftale serve --workers N`` starts in each process (settings in the environment)."""
    settings = json.loads(os.environ.get("RAMMEAFTALE_SERVE", "{}"))
    sources = settings.get("sources")
    # $RAMMEAFTALE_SERVE_LIMITS: ServiceLimits fields as JSON, e.g. {"max_body": 500000}
    limits = ServiceLimits(**json.loads(os.environ.get("RAMMEAFTALE_SERVE_LIMITS", "{}")))
    return create_app(paths=settings.get("paths") or None, sources=Path(sources) if sources else None,
                      limits=limits)
