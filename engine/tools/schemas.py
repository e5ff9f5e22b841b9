"""The published JSON Schemas: one input, output and answer schema per question, as files.

They ship in the distribution as ``rammeaftale/schemas/<spørgsmål>.{input,output,result}.json``
(and are served at ``GET /v1/questions/<spørgsmål>``), generated from the
catalogue; ``tests/test_published_schemas.py`` fails when a file differs from
what the catalogue gives.  Regenerate with ``python -m rammeaftale.tools.schemas``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..model.catalogue import catalogue

FOLDER = Path(__file__).resolve().parents[1] / "schemas"


def schema_files() -> dict[str, dict[str, Any]]:
    """File name → schema, for every question."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in catalogue().items():
        out[f"{name}.input.json"] = spec.json_schema()
        out[f"{name}.output.json"] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                      "title": f"Output af {name}: {spec.title}", **spec.output_json_schema()}
        out[f"{name}.result.json"] = spec.result_json_schema()
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_files().items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    paths = write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
    print(f"{len(paths)} skemaer skrevet")
