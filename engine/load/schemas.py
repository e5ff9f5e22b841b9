"""JSON Schema checks of ruleset files, with errors located at file:line.

The schemas in ``engine/schema/`` are the format's reference: every key a
ruleset file may contain is listed there, and anything else is an error
("unknown or misplaced keys are never silently ignored").  jsonschema's
messages are English and point at paths; we translate the common ones and
point at the line of the offending key.

Every document is validated on every load, whether it was just parsed or
came back from :mod:`engine.load.cache`: the cache may save parsing, never
checking (an earlier store of "files that passed" let an edited cache entry
skip the schema).  jsonschema is imported on the first validation.
"""

from __future__ import annotations

import datetime as _dt
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import cache as _cache
from ..errors import InvalidRuleset
from .yamlload import Document

if TYPE_CHECKING:  # pragma: no cover
    import jsonschema

SCHEMA_DIR = Path(__file__).with_name("schema")
#: The schemas' pattern for a date (``format: date`` is only an annotation in JSON Schema).
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@cache
def step_kinds() -> tuple[str, ...]:
    """The step kinds as the question schema lists them (its ``trin`` items' ``oneOf``).

    The model's table of kinds (``rammeaftale.model.kinds.STEP_KINDS``) is the
    authority; this layer sits below the model, so it reads the same list from
    the schema file, and a test checks that the two agree.
    """
    items = schema_json("question.schema.json")["$defs"]["trin"]["items"]
    return tuple(key for choice in items["oneOf"] for key in choice["required"])


@cache
def _validator(name: str) -> "jsonschema.protocols.Validator":
    import jsonschema
    from referencing import Registry, Resource

    resources = []
    for path in _schema_files():
        resource = Resource.from_contents(json.loads(path.read_text("utf-8")))
        resources.append((resource.id(), resource))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMA_DIR / name).read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def check(doc: Document, schema: str) -> list[InvalidRuleset]:
    """All schema violations in ``doc``, each with file:line, in file order.

    A document from the parse cache whose signed entry records that this
    exact data passed this schema, as the schema files are now, is not
    checked again: the record is a memo of the check, bound to the data by
    the entry's HMAC and to the schemas by their digest (see
    :mod:`rammeaftale.load.cache`).  That saves importing jsonschema, most of
    a warm load.  Any other document is checked, and a pass is recorded.
    """
    stamp = _schemas_digest()
    if doc.passed.get(schema) == stamp:
        return []
    validator = _validator(schema)
    errors = [_translate(doc, e) for e in validator.iter_errors(_plain(doc.data))]
    if not errors and doc.cache_key:
        doc.passed[schema] = stamp
        _cache.store_document(doc.cache_key, doc.data, doc.lines, doc.passed)
    return sorted(errors, key=lambda e: _line_of(e.location))


@cache
def _schemas_digest() -> str:
    return _cache.reader_digest(_schema_files())


@cache
def _schema_files() -> tuple[Path, ...]:
    return tuple(sorted(SCHEMA_DIR.glob("*.json")))


def schema_json(name: str) -> dict[str, Any]:
    """The raw schema, for export and documentation."""
    return json.loads((SCHEMA_DIR / name).read_text("utf-8"))


def _line_of(location: str | None) -> int:
    try:
        return int((location or "").rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _plain(value: Any) -> Any:
    """Dates as ISO strings so the schema's ``format: date`` strings match."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _translate(doc: Document, error: "jsonschema.ValidationError") -> InvalidRuleset:
    import jsonschema

    path = tuple(error.absolute_path)
    where = ".".join(map(str, path)) or "(øverste niveau)"
    kind = error.validator
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        bad = extra[0] if extra else "?"
        allowed = ", ".join(error.schema.get("properties", {})) or "ingen"
        return InvalidRuleset(f"ukendt eller forkert placeret nøgle '{bad}' under {where} "
                              f"(tilladt her: {allowed})", location=doc.where(path + (bad,)))
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return InvalidRuleset(f"nøglen '{missing}' mangler under {where}", location=doc.where(path))
    if kind == "oneOf" and isinstance(error.instance, dict) and "id" in error.instance \
            and any(k in error.instance for k in step_kinds() + ("kilde",)):
        found = [k for k in step_kinds() if k in error.instance]
        return InvalidRuleset(f"trinnet '{error.instance.get('id')}' skal have præcis én af "
                              f"{', '.join(step_kinds())} (har: {', '.join(found) or 'ingen'})",
                              location=doc.where(path))
    if kind in ("oneOf", "anyOf") and error.context:
        # The branch whose type fits says what is wrong (a map of kilder with a bad file name is not
        # "expected a list", even though the old list form is another branch).
        fitting = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        inner = jsonschema.exceptions.best_match(fitting or error.context)
        return _translate(doc, inner) if inner is not None else _generic(doc, path, where, error)
    if kind == "enum":
        options = ", ".join(map(str, error.validator_value))
        return InvalidRuleset(f"'{_short(error.instance)}' under {where} skal være en af: {options}",
                              location=doc.where(path))
    if kind == "type":
        return InvalidRuleset(f"{where} har forkert type: forventede {_type_da(error.validator_value)}, "
                              f"fik '{_short(error.instance)}'", location=doc.where(path))
    if kind == "pattern" and error.validator_value == DATE_PATTERN:
        from .yamlparse import date_problem
        return InvalidRuleset(f"{where}: {date_problem(str(error.instance))}", location=doc.where(path))
    if kind == "pattern":
        # The schema's description says in Danish what is allowed; the raw regex helps nobody in the secretariat.
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        what = f": {described}" if described else ""
        return InvalidRuleset(f"'{_short(error.instance)}' under {where} har ikke den tilladte form{what}",
                              location=doc.where(path))
    if kind in ("minLength", "minItems", "minProperties"):
        return InvalidRuleset(f"{where} er tom eller for kort", location=doc.where(path))
    return _generic(doc, path, where, error)


def _generic(doc: Document, path: tuple[Any, ...], where: str, error: "jsonschema.ValidationError") -> InvalidRuleset:
    return InvalidRuleset(f"{where}: {error.message}", location=doc.where(path))


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _type_da(value: Any) -> str:
    names = {"string": "tekst", "number": "tal", "integer": "heltal", "boolean": "true/false",
             "array": "liste", "object": "afsnit (nøgle: værdi)", "null": "tom"}
    values = value if isinstance(value, list) else [value]
    return " eller ".join(names.get(v, v) for v in values)


def iter_schema_names() -> Iterator[str]:
    yield from (p.name for p in _schema_files())
