"""The OpenAPI 3.1 document of the HTTP API, generated from the question catalogue.

Each question gets its case schema (``Sag_<q>``), its evaluate request
(``Evaluer_<q>``) and its answer (``Svar_<q>``) — the same JSON Schemas as
``catalogue()[q].json_schema()`` and ``.result_json_schema()`` — so a client
generator sees one typed request and response per question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..model.catalogue import catalogue, catalogue_version

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

JSON = "application/json"


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "$schema"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, example_kind: str) -> dict[str, Any]:
    return {"description": description,
            "content": {JSON: {"schema": _ref("Fejl"), "example": {"error": {"kind": example_kind, "message": "…"}}}}}


def openapi_document(engine: "Engine | None" = None) -> dict[str, Any]:
    questions = catalogue()
    schemas: dict[str, Any] = {
        "Fejl": {
            "type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["kind", "message"],
                "properties": {"kind": {"enum": ["invalid_case", "no_ruleset", "not_regulated", "invalid_ruleset",
                                                 "invalid_json", "not_found", "method_not_allowed", "slow_client",
                                                 "too_large", "timeout", "internal_error"]},
                               "message": {"type": "string"}, "path": {"type": "string"},
                               "begrundelse": {"type": "string"}, "kilde": {"type": ["string", "null"]},
                               "rulesets": {"type": "array", "items": {"type": "string"}}},
                "additionalProperties": True}}},
        "Regelsaet": {
            "type": "object", "required": ["id", "region", "gyldig_fra", "gyldig_til", "status", "spoergsmaal"],
            "properties": {"id": {"type": "string"}, "region": {"type": "string"}, "navn": {"type": "string"},
                           "type": {"enum": ["aftale", "bibliotek"]}, "gyldig_fra": {"type": "string", "format": "date"},
                           "gyldig_til": {"type": "string", "format": "date"},
                           "status": {"enum": ["vedtaget", "udkast", "forslag"]}, "digest": {"type": "string"},
                           "spoergsmaal": {"type": "array", "items": {"type": "string"}},
                           "ikke_reguleret": {"type": "array", "items": {"type": "string"}}}},
        "Sammenligning": {
            "type": "object", "required": ["question", "results", "differences"],
            "properties": {"question": {"type": "string"},
                           "results": {"type": "array", "items": {"type": "object", "required": ["ruleset"]}},
                           "differences": {"type": "array", "items": {
                               "type": "object", "required": ["field", "values"],
                               "properties": {"field": {"type": "string"}, "values": {"type": "object"}}}}}},
        "Sammenlign": {
            "type": "object", "required": ["question", "case"], "additionalProperties": False,
            "properties": {"question": {"enum": list(questions)}, "case": {"type": "object"},
                           "rulesets": {"type": "array", "items": {"type": "string"},
                                        "description": "standard: alle aftaler"}}},
    }
    for name, spec in questions.items():
        schemas[f"Sag_{name}"] = _plain(spec.json_schema())
        schemas[f"Svar_{name}"] = _plain(spec.result_json_schema())
        schemas[f"Evaluer_{name}"] = {
            "type": "object", "title": f"{name}: {spec.title}", "required": ["question", "case"],
            "additionalProperties": False,
            "properties": {
                "question": {"const": name}, "case": _ref(f"Sag_{name}"),
                "ruleset": {"type": "string", "description": "regelsættets id; ellers region og dato"},
                "region": {"type": "string"},
                "dato": {"type": "string", "format": "date",
                         "description": "beslutningsdatoen (standard: sagens egen dato)"},
                "trace": {"type": "boolean", "default": True, "description": "false: svaret uden forklaring"},
                "fortolkninger": {"type": "object",
                                  "description": "alternative læsninger (kun når motoren understøtter dem)"},
            }}
    schemas["Evaluer"] = {"oneOf": [_ref(f"Evaluer_{n}") for n in questions],
                          "discriminator": {"propertyName": "question",
                                            "mapping": {n: f"#/components/schemas/Evaluer_{n}" for n in questions}}}
    schemas["Svar"] = {"oneOf": [_ref(f"Svar_{n}") for n in questions]}
    bad_request = _error("Forespørgslen er ikke gyldig JSON", "invalid_json")
    too_large = _error("Forespørgslen er for stor", "too_large")
    unprocessable = _error("Fejl i sagen (invalid_case) eller spørgsmålet er ikke reguleret (not_regulated)",
                           "invalid_case")
    example = {"question": "opsigelse", "ruleset": "syddanmark-2021",
               "case": {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-01-14"}}
    paths: dict[str, Any] = {
        "/healthz": {"get": {"summary": "Er tjenesten oppe?", "operationId": "healthz",
                             "responses": {"200": {"description": "ok", "content": {JSON: {"schema": {"type": "object"}}}}}}},
        "/v1/rulesets": {"get": {
            "summary": "Regelsæt: id, region, periode, status og de spørgsmål, de besvarer",
            "operationId": "rulesets", "responses": {"200": {"description": "regelsættene", "content": {JSON: {
                "schema": {"type": "object", "required": ["rulesets"],
                           "properties": {"rulesets": {"type": "array", "items": _ref("Regelsaet")}}}}}}}}},
        "/v1/questions": {"get": {
            "summary": "Spørgsmålskataloget", "operationId": "questions",
            "responses": {"200": {"description": "spørgsmålene", "content": {JSON: {"schema": {"type": "object"}}}}}}},
        "/v1/questions/{question}": {"get": {
            "summary": "Et spørgsmål: JSON Schema for input, output og hele svaret", "operationId": "question",
            "parameters": [{"name": "question", "in": "path", "required": True,
                            "schema": {"enum": list(questions)}}],
            "responses": {"200": {"description": "spørgsmålet", "content": {JSON: {"schema": {
                "type": "object", "required": ["question", "titel", "input", "output", "result"]}}}},
                "404": _error("Ukendt spørgsmål", "not_found")}}},
        "/v1/evaluate": {"post": {
            "summary": "Besvar et spørgsmål for en sag (præcis bibliotekets Result.to_dict())",
            "operationId": "evaluate",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Evaluer"), "example": example}}},
            "responses": {"200": {"description": "svaret", "content": {JSON: {"schema": _ref("Svar")}}},
                          "400": bad_request, "404": _error("Intet regelsæt dækker", "no_ruleset"),
                          "413": too_large, "422": unprocessable,
                          "503": _error("Forespørgslen tog for lang tid", "timeout")}}},
        "/v1/compare": {"post": {
            "summary": "Samme sag under flere regelsæt", "operationId": "compare",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Sammenlign")}}},
            "responses": {"200": {"description": "sammenligningen", "content": {JSON: {"schema": _ref("Sammenligning")}}},
                          "400": bad_request, "413": too_large, "422": unprocessable}}},
        "/v1/batch": {"post": {
            "summary": "Mange sager, ét spørgsmål: JSON Lines ind, JSON Lines ud (strømmet)",
            "description": "Hver linje: {\"id\", \"ruleset\" | \"region\" + \"dato\", \"case\"}. Hver svarlinje: "
                           "{\"id\", \"ruleset\", \"status\", \"output\", \"warnings\"} eller {\"id\", \"error\"}, "
                           "i inputtets rækkefølge — som 'rammeaftale batch'.",
            "operationId": "batch",
            "parameters": [{"name": "question", "in": "query", "required": True, "schema": {"enum": list(questions)}}],
            "requestBody": {"required": True, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "én linje pr. række",
                                  "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                          "413": too_large, "422": _error("Ukendt spørgsmål", "invalid_case")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "rammeaftale-engine", "version": __version__,
                 "description": f"Rammeaftalernes regler som data (spørgsmålskatalog version {catalogue_version()}). "
                                "Fejl: {\"error\": {\"kind\", \"message\", \"path\"?}}; se docs/api.md.",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "paths": paths,
        "components": {"schemas": schemas},
    }
