"""The JSON Schema files shipped in the distribution are exactly what the catalogue gives."""

from __future__ import annotations

from rammeaftale.tools.schemas import FOLDER, render, schema_files


def test_schema_files_match_the_catalogue():
    expected = schema_files()
    on_disk = {p.name for p in FOLDER.glob("*.json")}
    assert on_disk == set(expected), "kør: python -m rammeaftale.tools.schemas"
    for name, schema in expected.items():
        assert (FOLDER / name).read_text("utf-8") == render(schema), f"{name} er forældet; kør python -m rammeaftale.tools.schemas"
