"""Every rule of a ruleset as a flat, citable list, read from its YAML files.

``diff`` (what changed between two periods), ``ny-periode`` (which rules must
be re-verified) and ``report`` (the printable page) all need the same view of
a ruleset: one entry per rule the secretariat can point at — a parameter, a
question, a step, a table row, a variant — with a stable id, its substance
and its citation.  The ids are paths (``opsigelse/varsel/botilbud``), so the
same rule in two periods has the same id.

We read the YAML documents rather than the compiled model because the
documents keep exactly what the secretariat wrote (formula text, literal
cells) and where (``fil:linje``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..model.compiler import RULESET_FILE
from ..model.ruleset import Ruleset
from ..load.yamlload import Document, load_file

#: Keys that describe a rule rather than decide it; a change in them alone is
#: not a change of the rule's value.
DESCRIPTIVE = frozenset({"id", "kilde", "titel", "tekst", "fortolkning", "beskrivelse"})
STEP_KINDS = ("formel", "tabel", "kraev", "ikke_reguleret", "advarsel", "varianter")


@dataclass(frozen=True)
class Rule:
    """One citable rule: a stable id, what it decides, and where it comes from."""

    id: str
    kind: str
    value: Any
    kilde: str | None
    where: str
    title: str | None = None
    text: str | None = None


def rules(ruleset: Ruleset, lookup: Callable[[str], Ruleset] | None = None) -> dict[str, Rule]:
    """All rules of ``ruleset`` by id, in document order.

    ``lookup`` finds the library a reused question (``genbrug``) lives in; without
    it reused questions appear only as their ``genbrug`` entry.
    """
    header = load_file(ruleset.folder / RULESET_FILE, f"{ruleset.id}/{RULESET_FILE}")
    out: dict[str, Rule] = {}
    for rule in _header_rules(header):
        out[rule.id] = rule
    for name, doc in question_documents(ruleset, lookup).items():
        for rule in _question_rules(name, doc):
            out[rule.id] = rule
    return out


def question_documents(ruleset: Ruleset, lookup: Callable[[str], Ruleset] | None = None) -> dict[str, Document]:
    """The YAML document of every question the ruleset answers, by question name."""
    docs: dict[str, Document] = {}
    for name, question in sorted(ruleset.questions.items()):
        owner = ruleset if question.owner == ruleset.id else (lookup(question.owner) if lookup else None)
        if owner is None:
            continue
        for path in sorted(owner.folder.glob("*.yaml")):
            if path.name == RULESET_FILE:
                continue
            doc = load_file(path, f"{owner.id}/{path.name}")
            if isinstance(doc.data, dict) and doc.data.get("spoergsmaal") == name:
                docs[name] = doc
                break
    return docs


def _header_rules(doc: Document) -> Iterator[Rule]:
    data = doc.data
    for name, spec in data.get("parametre", {}).items():
        yield _param(f"parametre/{name}", spec, doc, ("parametre", name))
    for i, item in enumerate(data.get("genbrug", [])):
        yield Rule(f"{item['spoergsmaal']}/genbrug", "genbrug", {"bibliotek": item["bibliotek"]},
                   item.get("kilde"), doc.where(("genbrug", i)))
    for name, spec in data.get("ikke_reguleret", {}).items():
        yield Rule(name, "ikke_reguleret", {"ikke_reguleret": spec["begrundelse"]}, spec.get("kilde"),
                   doc.where(("ikke_reguleret", name)))


def _param(ident: str, spec: dict[str, Any], doc: Document, path: tuple[Any, ...]) -> Rule:
    value = {"vaerdi": spec["vaerdi"]} | ({"status": spec["status"]} if "status" in spec else {})
    return Rule(ident, "parameter", value, spec.get("kilde"), doc.where(path),
                spec.get("beskrivelse"), spec.get("tekst"))


def _question_rules(name: str, doc: Document) -> Iterator[Rule]:
    data = doc.data
    value = {k: data[k] for k in ("status", "gyldig_fra", "gyldig_til", "resultat") if k in data}
    yield Rule(name, "spoergsmaal", value, data.get("kilde"), doc.where(()), data.get("titel"), data.get("tekst"))
    for pname, spec in data.get("parametre", {}).items():
        yield _param(f"{name}/parametre/{pname}", spec, doc, ("parametre", pname))
    yield from _steps(name, data.get("trin", []), doc, ("trin",))


def _steps(prefix: str, steps: list[dict[str, Any]], doc: Document, path: tuple[Any, ...]) -> Iterator[Rule]:
    for i, step in enumerate(steps):
        here, ident = path + (i,), f"{prefix}/{step['id']}"
        kind = step_kind(step)
        value = {k: v for k, v in step.items() if k not in DESCRIPTIVE and k not in ("tabel", "varianter")}
        if kind == "tabel":
            value["tabel"] = {k: v for k, v in step["tabel"].items() if k != "regler"}
        elif kind == "varianter":
            value["varianter"] = {k: v for k, v in step["varianter"].items() if k != "liste"}
        yield Rule(ident, kind, value, step.get("kilde"), doc.where(here), step.get("titel"), step.get("tekst"))
        if kind == "tabel":
            for r, row in enumerate(step["tabel"]["regler"]):
                yield _leaf(f"{ident}/{row['id']}", "regel", row, doc, here + ("tabel", "regler", r))
        elif kind == "varianter":
            for v, variant in enumerate(step["varianter"]["liste"]):
                where = here + ("varianter", "liste", v)
                vid = f"{ident}/{variant['id']}"
                yield _leaf(vid, "variant", {k: x for k, x in variant.items() if k != "trin"}, doc, where)
                yield from _steps(vid, variant.get("trin", []), doc, where + ("trin",))


def _leaf(ident: str, kind: str, data: dict[str, Any], doc: Document, path: tuple[Any, ...]) -> Rule:
    value = {k: v for k, v in data.items() if k not in DESCRIPTIVE}
    return Rule(ident, kind, value, data.get("kilde"), doc.where(path), data.get("titel"), data.get("tekst"))


def step_kind(step: dict[str, Any]) -> str:
    """Which building block a step is (``formel``, ``tabel``, …)."""
    return next((k for k in STEP_KINDS if k in step), "ukendt")
