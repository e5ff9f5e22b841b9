"""The question catalogue for people: what each question needs and gives, and a case to fill in.

``rammeaftale spoergsmaal [Q]`` and ``rammeaftale skabelon Q`` are built on
this, so the secretariat never has to open ``catalogue.yaml``.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import InvalidCase
from ..model.catalogue import Field, Question, catalogue
from ..model.labels import label
from ..model.values import to_text

TYPE_NAMES = {"dato": "dato (ÅÅÅÅ-MM-DD)", "beloeb": "beløb i kr. (punktum som decimaltegn)",
              "decimal": "decimaltal (punktum som decimaltegn)", "heltal": "helt tal", "tekst": "tekst",
              "bool": "ja/nej (true/false)", "paragraf": "paragraf (fx \"SEL § 108\")",
              "frist": "varsel (fx \"3 måneder\" eller \"løbende måned + 2 måneder\")", "valg": "valg"}


def question(name: str) -> Question:
    questions = catalogue()
    if name not in questions:
        raise InvalidCase(f"ukendt spørgsmål '{name}'; kendte: {', '.join(questions)}", path="question")
    return questions[name]


def type_text(spec: Mapping[str, Any]) -> str:
    """The type of a field in Danish words."""
    kind = spec.get("type")
    if kind == "valg":
        return "en af: " + ", ".join(map(str, spec.get("vaerdier", [])))
    if kind == "liste":
        return f"liste af {type_text(_item(spec))}"
    if kind == "kort":
        key = "år (\"2019\")" if spec.get("noegle") == "aar" else "navn"
        return f"kort: {key} → {type_text(_item(spec))}"
    text = TYPE_NAMES.get(str(kind), str(kind))
    bounds = [f"mindst {spec['min']}" if "min" in spec else "", f"højst {spec['max']}" if "max" in spec else ""]
    bounds = [b for b in bounds if b]
    return text + (f", {' og '.join(bounds)}" if bounds else "")


def _item(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    item = spec.get("af", "tekst")
    return item if isinstance(item, Mapping) else {"type": item}


def _field(field: Field, output: bool = False) -> dict[str, Any]:
    spec = field.spec
    out: dict[str, Any] = {"navn": field.name, "etiket": label(field.name), "type": spec["type"],
                           "type_tekst": type_text(spec), "paakraevet": field.required}
    if "standard" in spec:
        out["standard"] = spec["standard"]
    if "vaerdier" in spec:
        out["vaerdier"] = list(spec["vaerdier"])
    if spec.get("beskrivelse"):
        out["beskrivelse"] = spec["beskrivelse"]
    return out


def describe(q: Question) -> dict[str, Any]:
    """One question as data (``spoergsmaal --json``), with its input and output JSON Schemas."""
    return {"spoergsmaal": q.name, "titel": q.title,
            "input": [_field(f) for f in q.inputs.values()],
            "output": [_field(f, True) for f in q.outputs.values()],
            "input_schema": q.json_schema(), "output_schema": q.output_json_schema()}


def describe_text(q: Question) -> str:
    lines = [f"{q.name} – {q.title}", "", "Input (sagen):"]
    for f in q.inputs.values():
        lines += _field_lines(f, show_required=True)
    lines += ["", "Output (svaret):"]
    for f in q.outputs.values():
        lines += _field_lines(f, show_required=False)
    lines += ["", f"En sag at udfylde: rammeaftale skabelon {q.name} > sag.json"]
    return "\n".join(lines)


def _field_lines(f: Field, show_required: bool) -> list[str]:
    flags = []
    if show_required:
        flags.append("påkrævet" if f.required else
                     f"valgfri, standard {to_text(f.spec['standard'])}" if f.has_default else "valgfri")
    elif not f.required:
        flags.append("kun i nogle svar")
    head = f"  {f.name:<26} {label(f.name)}" + (f" ({', '.join(flags)})" if flags else "")
    out = [head, f"  {'':<26} {type_text(f.spec)}"]
    if f.spec.get("beskrivelse"):
        out.append(f"  {'':<26} {f.spec['beskrivelse']}")
    return out


def overview_text() -> str:
    lines = ["Spørgsmål i kataloget (detaljer: rammeaftale spoergsmaal NAVN):", ""]
    for q in catalogue().values():
        required = [n for n, f in q.inputs.items() if f.required]
        lines.append(f"  {q.name:<22} {q.title}")
        lines.append(f"  {'':<22} påkrævet input: {', '.join(required) or '–'}")
    return "\n".join(lines)


# --- a case to fill in ------------------------------------------------------------------------------

def template(q: Question, everything: bool = False) -> dict[str, Any]:
    """A case for ``q``: every required input (and with ``everything`` every optional one) with a placeholder.

    A placeholder is text starting ``UDFYLD`` saying what to write, so a case
    sent before it is filled in fails with the field's name; a choice with a
    default gets the default.
    """
    case: dict[str, Any] = {}
    for name, f in q.inputs.items():
        if f.required or everything:
            case[name] = f.spec["standard"] if f.has_default else placeholder(f.spec)
    return case


def placeholder(spec: Mapping[str, Any]) -> Any:
    kind = spec.get("type")
    if kind == "bool":
        return False
    if kind == "liste":
        return [placeholder(_item(spec))]
    if kind == "kort":
        key = "2024" if spec.get("noegle") == "aar" else "UDFYLD navn"
        return {key: placeholder(_item(spec))}
    return f"UDFYLD: {type_text(spec)}"


def template_notes(q: Question, everything: bool) -> list[str]:
    optional = [n for n, f in q.inputs.items() if not f.required]
    notes = [f"Skabelon til '{q.name}' – {q.title}. Erstat hver UDFYLD-tekst med sagens værdi."]
    if optional and not everything:
        notes.append(f"Valgfri felter, der kan tilføjes: {', '.join(optional)} (alle med: --alle).")
    notes.append(f"Felternes betydning: rammeaftale spoergsmaal {q.name}")
    return notes
