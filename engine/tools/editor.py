"""The ruleset JSON Schemas for editors: self-contained copies and the line that names them.

The schemas in ``rammeaftale/load/schema`` are the format's reference and the
engine checks every file against them.  An editor with the YAML language
server (VS Code's "YAML" extension by Red Hat) can check the same while the
secretariat types, given the schema: either by the first line of a file

    # yaml-language-server: $schema=../.skema/question.schema.json

(which ``ny-periode`` writes) or by the editor's settings (``.vscode/settings.json``
in the project).  The engine's copies refer to each other by an ``$id`` an
editor cannot fetch, so what is published here is *bundled*: every ``$ref``
into another schema file is copied in, and no ``$id`` is left.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..load import schemas

#: The folder, beside the ruleset folders, where the bundled schemas are published.
SCHEMA_FOLDER = ".skema"
SCHEMA_NAMES = ("ruleset.schema.json", "question.schema.json", "examples.schema.json")


def bundled(name: str) -> dict[str, Any]:
    """Schema ``name`` with no references to other files."""
    schema = copy.deepcopy(schemas.schema_json(name))
    schema.pop("$id", None)
    defs = schema.setdefault("$defs", {})

    def walk(node: Any, source: str) -> None:
        """Inline refs into other files; a def copied from ``source`` brings the local defs it uses."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and "#/$defs/" in ref and (not ref.startswith("#") or source != name):
                other, _, key = ref.partition("#/$defs/")
                other = other or source
                if key not in defs:
                    defs[key] = copy.deepcopy(schemas.schema_json(other)["$defs"][key])
                    walk(defs[key], other)
                node["$ref"] = f"#/$defs/{key}"
            for value in list(node.values()):
                walk(value, source)
        elif isinstance(node, list):
            for value in node:
                walk(value, source)

    walk(schema, name)
    return schema


def schema_text(name: str) -> str:
    return json.dumps(bundled(name), ensure_ascii=False, indent=2) + "\n"


def publish(folder: Path) -> list[Path]:
    """Write the bundled schemas into ``folder`` (created if needed); the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMA_NAMES:
        path = folder / name
        text = schema_text(name)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
        written.append(path)
    return written


def modeline(schema: str, relative_folder: str = f"../{SCHEMA_FOLDER}") -> str:
    """The first line that tells the YAML language server which schema a file follows."""
    return f"# yaml-language-server: $schema={relative_folder}/{schema}"
