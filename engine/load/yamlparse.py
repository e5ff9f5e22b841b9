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
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InvalidRuleset(f"YAML-syntaksfejl: {exc.problem or exc}", location=f"{name}:{line}") from exc
    except yaml.YAMLError as exc:
        raise InvalidRuleset(f"YAML-fejl: {exc}", location=f"{name}:1") from exc
    except RecursionError as exc:
        raise InvalidRuleset(f"for dyb indlejring (højst {MAX_DEPTH} niveauer)",
                             location=f"{name}:1") from exc
    doc = Document(data=None, file=name, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if node is not None:
        doc.data = _Converter(doc).convert(node, (), 0)
    return doc


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
                raise self.fail(node, f"'{text}' er ikke en dato på formen ÅÅÅÅ-MM-DD") from None
        raise self.fail(node, f"YAML-mærket {tag} er ikke tilladt i regelsæt")
