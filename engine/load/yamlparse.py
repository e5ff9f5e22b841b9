"""YAML text to a located :class:`~engine.yamlload.Document` (see :mod:`engine.yamlload`).

Kept apart from :mod:`engine.yamlload` so that PyYAML is imported only when a
file is really parsed, not when it comes back from the cache.  The cache key
of a parsed file includes this module's source, so a change here re-parses.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from ..errors import InvalidRuleset
from .document import MAX_DEPTH, SAFE_C_DEPTH, Document, PathKey

#: libyaml's parser when PyYAML has it (about ten times faster, same nodes and
#: marks); the pure-Python safe loader otherwise.  Either only composes nodes.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, name: str = "<tekst>") -> Document:
    """Parse YAML text; the rules of :func:`engine.yamlload.load_file`."""
    try:
        if _LOADER is not yaml.SafeLoader and _indicators(text) > SAFE_C_DEPTH:
            _check_depth(text, name)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, name) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        code = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise InvalidRuleset(f"YAML-fejl: filen indeholder et usynligt kontroltegn ({code}); slet det "
                             "(det kommer ofte med ved kopiering fra Word eller PDF)", location=f"{name}:{line}") from None
    except yaml.YAMLError as exc:
        raise InvalidRuleset(f"YAML-fejl: filen kan ikke læses som YAML ({exc})", location=f"{name}:1") from None
    except RecursionError as exc:
        raise InvalidRuleset(f"for dyb indlejring (højst {MAX_DEPTH} niveauer)",
                             location=f"{name}:1") from exc
    doc = Document(data=None, file=name, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if node is not None:
        doc.data = _Converter(doc).convert(node, (), 0)
    return doc


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, name: str) -> InvalidRuleset:
    """A YAML syntax error in Danish, at its line, with a hint for the usual mistakes.

    The parser's own messages are English and about its grammar ("mapping values
    are not allowed in this context"); the secretariat needs to know what to
    type.  The hint is chosen from the parser's problem and the offending line.
    """
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "quoted" in str(exc.context or "") and "end of stream" in str(exc.problem):
        mark = exc.context_mark               # an unclosed quote: point where it opens, not at the file's end
    line_no = mark.line + 1 if mark else 1
    lines = text.split("\n")
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    char = line[mark.column] if mark and mark.column < len(line) else ""
    problem = str(exc.problem or exc)
    message = _explain_syntax(problem, exc, line, char, lines, line_no)
    return InvalidRuleset(f"YAML-syntaksfejl: {message}", location=f"{name}:{line_no}")


def _explain_syntax(problem: str, exc: yaml.MarkedYAMLError, line: str, char: str,
                    lines: list[str], line_no: int) -> str:
    start = exc.context_mark.line + 1 if exc.context_mark else line_no
    if "\t" in line or "tab" in problem or (char == "\t"):
        return "linjen indeholder et tabulatortegn; brug mellemrum, ikke tabulator, til indrykning"
    if "mapping values are not allowed" in problem:
        value = line.split(": ", 1)[1] if ": " in line else ""
        if ": " in value or value.rstrip().endswith(":"):
            return ("teksten efter nøglen indeholder et kolon; sæt teksten i anførselstegn, den indeholder "
                    "et kolon (fx navn: \"Rammeaftale: 2025\")")
        return ("et kolon står et sted, hvor det ikke kan stå: er linjen indrykket mere end linjen over, "
                "eller indeholder teksten et kolon? Sæt teksten i anførselstegn, hvis den indeholder et kolon")
    if "cannot start any token" in problem:
        shown = char or "tegnet"
        return (f"en værdi kan ikke begynde med '{shown}'; sæt teksten i anførselstegn "
                f"(fx \"{shown}…\")")
    if "end of stream" in problem and "quoted" in str(exc.context or ""):
        return (f"anførselstegnet, der åbner på linje {start}, lukkes aldrig; "
                "tilføj det afsluttende anførselstegn")
    if "unknown escape" in problem:
        return ("ukendt escape-sekvens med \\ i tekst i dobbelte anførselstegn; skriv \\\\ for en "
                "omvendt skråstreg, eller brug enkelte anførselstegn")
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        closer = "]" if "]" in problem else "}"
        return (f"listen eller afsnittet, der begynder på linje {start}, lukkes ikke med '{closer}' "
                "(eller mangler et komma mellem to elementer)")
    if "'-' indicator" in problem:
        return ("en liste (linjer, der begynder med -) og nøgler (navn: værdi) kan ikke stå på samme niveau; "
                "ret indrykningen")
    if "expected key" in problem or "expected <block end>" in problem or "could not find expected ':'" in problem:
        stripped = line.strip()
        if stripped.count("'") > 2 and ": '" in line:
            return ("teksten i enkelte anførselstegn indeholder selv en apostrof; skriv den to gange ('') "
                    "eller brug dobbelte anførselstegn")
        if stripped.endswith(("\"", "'")) is False and (": \"" in line or ": '" in line):
            return "der står tekst efter det afsluttende anførselstegn; sæt hele teksten i anførselstegn"
        if "could not find expected ':'" in problem:
            return (f"linje {start} ser ud til at starte en nøgle uden kolon; skriv 'nøgle: værdi', "
                    "eller sæt teksten i anførselstegn")
        return ("linjen er indrykket forkert i forhold til linjerne over; nøgler i samme afsnit skal stå "
                "præcis lige langt inde (brug mellemrum)")
    if "control characters" in problem or "special characters" in problem:
        return "filen indeholder et usynligt kontroltegn; slet det (det kommer ofte fra kopiering fra Word eller PDF)"
    return f"filen kan ikke læses som YAML (parserens besked: {problem})"


def _indicators(text: str) -> int:
    """An upper bound on the nesting depth, in microseconds.

    Every collection starts at an indicator of its own: ``[``, ``{``, ``-``
    (block sequence), ``?`` or ``:`` (block mapping).  So a text with fewer
    of these characters cannot nest deeper than their count, and the slower
    event scan is only needed above :data:`SAFE_C_DEPTH` (no shipped file has
    more than ~500).
    """
    return sum(text.count(c) for c in "[{-:?")


def _check_depth(text: str, name: str) -> None:
    """Refuse deep nesting before libyaml composes it.

    libyaml's composer recurses in C with no limit: about 30 000 nested brackets
    (a 60 kB file) overflow the C stack and kill the process — no exception to
    catch.  Its parser does not recurse, so count the depth on its event stream
    first (about two thirds of the time of composing).  The pure-Python loader
    needs no such check; it raises RecursionError.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH + 1:
                raise InvalidRuleset(f"for dyb indlejring (højst {MAX_DEPTH} niveauer)",
                                     location=f"{name}:{event.start_mark.line + 1}")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


class _Converter:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.seen: set[int] = set()

    def fail(self, node: yaml.Node, message: str) -> InvalidRuleset:
        return InvalidRuleset(message, location=f"{self.doc.file}:{node.start_mark.line + 1}")

    def convert(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"for dyb indlejring (højst {MAX_DEPTH} niveauer)")
        if id(node) in self.seen:
            # An alias is the anchored node itself; its own mark is the anchor's line, so
            # point at the key (or list) that holds the alias instead.
            raise InvalidRuleset("YAML-aliaser (*navn) er ikke tilladt i regelsæt; skriv værdien ud",
                                 location=self.doc.where(path))
        self.seen.add(id(node))
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self._plain_tag(node, "tag:yaml.org,2002:map")
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            self._plain_tag(node, "tag:yaml.org,2002:seq")
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _plain_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise self.fail(node, f"YAML-mærket {node.tag} er ikke tilladt i regelsæt")

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, "YAML-fletning (<<) er ikke tilladt i regelsæt")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "en nøgle skal være en simpel værdi")
            key = self._scalar(key_node)
            if isinstance(key, (_dt.date, Decimal, bool)) or key is None:
                key = key_node.value
            if key in out:
                raise self.fail(key_node, f"nøglen '{key}' står to gange i samme afsnit")
            self.doc.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, path + (key,), depth + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return {"true": True, "false": False}.get(text.lower(), text)
        if tag == "tag:yaml.org,2002:int":
            try:
                return int(text.replace("_", ""), 0) if text.startswith(("0x", "0o")) else int(text.replace("_", ""))
            except ValueError:
                return text
        if tag == "tag:yaml.org,2002:float":
            try:
                value = Decimal(text.replace("_", ""))
            except InvalidOperation:
                raise self.fail(node, f"'{text}' er ikke et tal, regelsæt må ikke bruge .inf/.nan") from None
            if not value.is_finite():
                raise self.fail(node, f"'{text}' er ikke et endeligt tal")
            return value
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                return _dt.date.fromisoformat(text)
            except ValueError:
                raise self.fail(node, date_problem(text)) from None
        raise self.fail(node, f"YAML-mærket {tag} er ikke tilladt i regelsæt")



def date_problem(text: str) -> str:
    """Why ``text`` is not a date a ruleset may hold, and how to write it (shared with the schema check)."""
    import re
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", text)
    if match:
        try:
            fixed = _dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            return f"'{text}' er ikke en dato, der findes i kalenderen; skriv en gyldig dato som ÅÅÅÅ-MM-DD"
        return f"'{text}' er ikke en dato på formen ÅÅÅÅ-MM-DD; skriv datoen som {fixed}"
    match = re.fullmatch(r"\s*(\d{1,2})[.\-/ ]\s*(\d{1,2})[.\-/ ]\s*(\d{4})\s*", text)
    months = ("januar februar marts april maj juni juli august september oktober november december").split()
    named = re.fullmatch(r"\s*(\d{1,2})\.?\s*([a-zæøå]+)\.?\s+(\d{4})\s*", text.lower())
    day = None
    if match:
        day = (int(match[3]), int(match[2]), int(match[1]))
    elif named and any(m.startswith(named[2][:3]) for m in months):
        month = next(i for i, m in enumerate(months, 1) if m.startswith(named[2][:3]))
        day = (int(named[3]), month, int(named[1]))
    if day is not None:
        try:
            return (f"'{text}' er ikke en dato på formen ÅÅÅÅ-MM-DD; skriv datoen som "
                    f"{_dt.date(*day).isoformat()}")
        except ValueError:
            pass
    return f"'{text}' er ikke en dato på formen ÅÅÅÅ-MM-DD; skriv datoen som ÅÅÅÅ-MM-DD (fx 2025-01-01)"
