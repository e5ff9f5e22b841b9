"""The caseworkers' page at ``/``: a form per question, the answer in plain Danish, printable.

Works without JavaScript: choosing a question is a plain ``GET /?spoergsmaal=…``,
the case form is generated from the question's input in the catalogue (Danish
labels and help from it), and answering or comparing is a ``POST /`` that
renders the same page with the answer under the form.  Amounts and dates are
shown by the one value formatter (:mod:`rammeaftale.model.values`); each step
of the explanation carries its citation and the quoted source line(s).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..errors import EngineError, InvalidCase
from ..model.catalogue import Field, catalogue
from ..model.types import TYPES, item_spec
from ..model.values import field_kind, to_text
from ..run.explain import explain_error
from ..tools.batch import danish_number
from ..tools.report import Sources, render_ruleset
from ..tools.rulemap import rules

if TYPE_CHECKING:  # pragma: no cover
    from .core import Service

TEMPLATES = Environment(loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
#: HTML pages load nothing from elsewhere and run no inline script.
CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
KNOWN_RESULT_KEYS = {"question", "ruleset", "status", "output", "trace", "warnings", "ruleset_digest",
                     "engine_version", "catalogue_version"}
STATUS_TEXT = {"vedtaget": "Vedtaget", "udkast": "Udkast – regelsættet er ikke endeligt vedtaget",
               "forslag": "Forslag – reglerne er ikke vedtaget"}
ART_TEXT = {"status": "Status", "regel_status": "Regel ikke vedtaget", "fortolkning": "Fortolkning",
            "advarsel": "Advarsel", "bibliotek": "Fælles regler", "periode": "Periode"}
#: Labels the transliteration below would not get right.
LABELS = {"paragraf": "Paragraf (fx SEL § 108)", "pl_faktor": "P/L-faktor", "loen": "Løn",
          "tjenestemandspension": "Tjenestemandspension", "pensionsgivende_loen": "Pensionsgivende løn",
          "0-6-aarige": "0-6-årige", "aar_efter_start": "År efter start", "aar": "År",
          "belaegningsprocent": "Belægningsprocent", "rentesats": "Rentesats (brøk, fx 0,05)"}
_LETTERS = ((re.compile(r"aa"), "å"), (re.compile(r"oe"), "ø"), (re.compile(r"ae"), "æ"))


def label(name: str) -> str:
    """A catalogue name as Danish words: ``overfoert_resultat`` → "Overført resultat"."""
    if name in LABELS:
        return LABELS[name]
    text = name.replace("_", " ")
    for pattern, letter in _LETTERS:
        text = pattern.sub(letter, text)
    return text[:1].upper() + text[1:]


# --- the form ---------------------------------------------------------------------

def _depth(spec: Mapping[str, Any]) -> int:
    depth = 0
    while spec.get("type") == "kort":
        depth += 1
        spec = item_spec(spec)
    return depth


def _help(field: Field) -> str:
    spec = field.spec
    kind = spec["type"]
    parts = [str(spec["beskrivelse"])] if spec.get("beskrivelse") else []
    if kind == "beloeb":
        parts.append("beløb i kr., fx 1.320.000,00")
    elif kind == "decimal":
        parts.append("tal, decimaler med komma, fx 0,05")
    elif kind == "frist":
        parts.append("fx '3 måneder' eller 'løbende måned + 2 måneder'")
    elif kind == "liste":
        parts.append("én pr. linje")
    elif kind == "kort":
        depth = _depth(spec)
        example = {1: "Vejle; 1200", 2: "Vejle; 2019; 1.234.000,00"}.get(depth, "navn; … ; værdi")
        parts.append(f"én pr. linje: {example} (eller JSON)")
    if "standard" in spec and spec["standard"] not in (None, [], {}):
        default = label(str(spec["standard"])) if kind == "valg" else to_text(spec["standard"], kind)
        parts.append(f"standard: {default}")
    return " · ".join(parts)


def form_fields(question: str, values: Mapping[str, str]) -> list[dict[str, Any]]:
    """What the template needs to draw each input of ``question``."""
    out = []
    for name, field in catalogue()[question].inputs.items():
        spec, kind = field.spec, field.type
        options: list[tuple[str, str]] = []
        if kind == "bool":
            options = [("ja", "ja"), ("nej", "nej")]
        elif kind == "valg":
            options = [(str(v), label(str(v))) for v in spec["vaerdier"]]
        out.append({"name": name, "label": label(name), "help": _help(field), "widget": TYPES[kind].widget,
                    "required": field.required, "options": options, "value": values.get(name, ""),
                    "min": spec.get("min"), "max": spec.get("max"), "inputmode": TYPES[kind].inputmode})
    return out


def case_from_form(question: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The case a filled-in form describes; an empty field is absent (the catalogue's default applies)."""
    case: dict[str, Any] = {}
    for name, field in catalogue()[question].inputs.items():
        text = form.get(name, "").strip()
        if text:
            case[name] = _value(field.spec, text, name)
    return case


def _value(spec: Mapping[str, Any], text: str, path: str) -> Any:
    kind = spec["type"]
    if kind in ("beloeb", "decimal"):
        return danish_number(text, path)
    if kind == "heltal":
        return int(text) if re.fullmatch(r"-?[0-9]{1,12}", text) else text
    if kind == "bool":
        if text not in ("ja", "nej"):
            raise InvalidCase(f"'{path}' skal være ja eller nej", path=path)
        return text == "ja"
    if kind == "liste":
        item = item_spec(spec)
        return [_value(item, line.strip(), f"{path}[{i}]")
                for i, line in enumerate(text.splitlines()) if line.strip()]
    if kind == "kort":
        if text.startswith("{"):
            from ..load.casefile import parse_case_json
            return parse_case_json(text, f"feltet {path}", path=path)
        return _map_lines(spec, text, path)
    return text


def _map_lines(spec: Mapping[str, Any], text: str, path: str) -> dict[str, Any]:
    depth = _depth(spec)
    leaf = spec
    for _ in range(depth):
        leaf = item_spec(leaf)
    out: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(";")]
        if len(cells) != depth + 1 or not all(cells):
            raise InvalidCase(f"'{label(path)}', linje {number}: skriv {depth + 1} værdier adskilt af ';' "
                              f"(fik '{line.strip()[:60]}')", path=path)
        target = out
        for key in cells[:-2]:
            target = target.setdefault(key, {})
        target[cells[-2]] = _value(leaf, cells[-1], f"{path}.{'.'.join(cells[:-1])}")
    return out


# --- the answer ---------------------------------------------------------------------

def answer_view(service: "Service", result: dict[str, Any]) -> dict[str, Any]:
    """``Result.to_dict()`` as the page shows it: Danish values, steps with quoted sources."""
    spec = catalogue()[result["question"]]
    outputs = [{"label": label(n), "name": n,
                "text": to_text(v, field_kind(spec.outputs[n].spec) if n in spec.outputs else None)}
               for n, v in result["output"].items()]
    engine = service.engine
    texts = {}
    try:
        texts = {k: r.text for k, r in rules(engine.registry.get(result["ruleset"]), engine.registry.get).items()
                 if r.text}
    except EngineError:
        pass
    sources = service.quotes
    steps = []
    for step in result["trace"]:
        kilde = step.get("kilde")
        quote = [text for _, text in sources.quote(kilde)] if kilde else []
        rule_text = texts.get(f"{result['question']}/{step['rule']}") or texts.get(step["rule"])
        steps.append({"rule": step["rule"], "title": step.get("title"), "kilde": kilde,
                      "used": [(k, to_text(v)) for k, v in step.get("values", {}).items()],
                      "result": to_text(step.get("result")), "notes": step.get("notes", []),
                      "quote": "\n".join(quote) or (rule_text or ""), "quoted_from_source": bool(quote)})
    warnings = [{"tekst": w["tekst"], "kilde": w.get("kilde"), "art": ART_TEXT.get(w["art"], w["art"]),
                 "kind": w["art"]} for w in result["warnings"]]
    readings = {k: v for k, v in result.items() if k not in KNOWN_RESULT_KEYS}
    return {"result": result, "title": spec.title, "outputs": outputs, "steps": steps,
            "warnings": [w for w in warnings if w["kind"] != "fortolkning"],
            "status_text": STATUS_TEXT.get(result["status"], result["status"]),
            "readings": [w for w in warnings if w["kind"] == "fortolkning"],
            "extra": [(label(k), json.dumps(v, ensure_ascii=False, indent=1)) for k, v in readings.items()]}


def comparison_view(question: str, data: dict[str, Any]) -> dict[str, Any]:
    spec = catalogue()[question]
    differing = {d["field"] for d in data["differences"]}
    names = list(spec.outputs)
    rows = []
    for name in names:
        kind = field_kind(spec.outputs[name].spec)
        cells = []
        for entry in data["results"]:
            if "error" in entry:
                cells.append("ikke reguleret" if entry["error"]["kind"] == "not_regulated"
                             else f"fejl ({entry['error']['kind']})")
            else:
                cells.append(to_text(entry["output"].get(name), kind))
        if any(c not in ("–", "ikke reguleret") and not c.startswith("fejl") for c in cells):
            rows.append({"label": label(name), "cells": cells, "differs": name in differing})
    heads = [{"ruleset": e["ruleset"], "status": e.get("status"),
              "error": e["error"]["message"] if "error" in e and e["error"]["kind"] != "not_regulated" else None}
             for e in data["results"]]
    return {"heads": heads, "rows": rows}


# --- handlers -----------------------------------------------------------------------

def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"content-security-policy": CSP})


async def index(request: Request) -> Response:
    from .core import ServiceError
    service: Service = request.app.state.service
    form: dict[str, str] = dict(request.query_params)
    action = None
    if request.method == "POST":
        raw = await service.read_body(request, 200_000)
        form = {k: v for k, v in parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)}
        action = form.get("handling")
    question = form.get("spoergsmaal") or ""
    if question not in catalogue():
        question = ""
    engine = service.engine
    agreements = sorted(engine.registry.agreements(), key=lambda r: (r.region, r.valid_from))
    context: dict[str, Any] = {
        "questions": [(n, q.title) for n, q in catalogue().items()], "question": question,
        "question_title": catalogue()[question].title if question else "",
        "regions": sorted({r.region for r in agreements}),
        "rulesets": [{"id": r.id, "label": f"{r.id} ({r.valid_from:%d.%m.%Y}–{r.valid_to:%d.%m.%Y}, {r.status})",
                      "answers": question in r.questions} for r in agreements],
        "form": form, "fields": form_fields(question, form) if question else [],
        "answer": None, "comparison": None, "error": None, "error_path": None,
    }
    status = 200
    if question and action in ("svar", "sammenlign"):
        try:
            case = case_from_form(question, form)
            if action == "sammenlign":
                data = await service.call(lambda: engine.compare(question, case).to_dict(),
                                          service.limits.request_seconds * 3)
                context["comparison"] = comparison_view(question, data)
            else:
                ruleset = form.get("regelsaet") or None
                region = None if ruleset else (form.get("region") or None)
                dato = None if ruleset else (form.get("dato") or None)
                if not ruleset and not region:
                    raise InvalidCase("vælg en region (og evt. en beslutningsdato) eller et regelsæt", path="region")
                result = await service.call(lambda: engine.evaluate(question, case, ruleset=ruleset, region=region,
                                                                    dato=dato).to_dict())
                context["answer"] = answer_view(service, result)
        except EngineError as exc:
            context["error"] = {"head": explain_error(exc).split(":", 1)[0], "message": str(exc),
                                "kind": exc.kind, "details": {k: v for k, v in exc.details.items()
                                                              if k in ("begrundelse", "kilde")}}
            context["error_path"] = (exc.path or "").split(".")[0].split("[")[0]
            status = 200 if exc.kind == "not_regulated" else 422
        except ServiceError as exc:
            context["error"] = {"head": "Fejl", "message": exc.message, "kind": exc.kind, "details": {}}
            status = 503
    return _html(TEMPLATES.get_template("index.html").render(**context), status)


async def report_page(request: Request) -> Response:
    service: Service = request.app.state.service
    engine = service.engine
    ruleset = engine.registry.get(request.path_params["ruleset"])      # no_ruleset → 404 JSON
    text = await service.call(lambda: render_ruleset(engine, ruleset, service.quotes))
    return _html(text)


async def api_docs(request: Request) -> Response:
    return _html(TEMPLATES.get_template("docs.html").render())


def swagger_assets() -> str:
    import swagger_ui_bundle  # type: ignore[import-untyped]
    return str(swagger_ui_bundle.swagger_ui_path)


def routes() -> list[Route]:
    return [Route("/", index, methods=["GET", "POST"]), Route("/rapport/{ruleset}", report_page)]


__all__ = ["answer_view", "case_from_form", "form_fields", "label", "routes"]
