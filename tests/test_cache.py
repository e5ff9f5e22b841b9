"""rammeaftale.load.cache: parsed documents and validation keys kept between processes."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from rammeaftale.load import cache
from rammeaftale.errors import InvalidRuleset
from rammeaftale.load.yamlload import load_file

TRICKY = """\
id: x
sats: 0.050
stor: 1.5e+3
dato: 2021-02-28
aar: {2019: 10, 2020: 1.25}
ligner_maerke: {$d: "ikke et tal"}
liste: [ja, null, true, -0.0, "2021-01-01"]
"""


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rammeaftale" / "dokumenter"


def test_a_document_read_back_from_the_cache_equals_the_parsed_one(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text(TRICKY, "utf-8")
    fresh = load_file(path, "f.yaml")
    assert len(list(cache_home.glob("*.json"))) == 1
    again = load_file(path, "f.yaml")
    assert again.data == fresh.data and again.lines == fresh.lines and again.digest == fresh.digest
    assert again.data["sats"] == Decimal("0.050") and str(again.data["sats"]) == "0.050"
    assert again.data["aar"] == {2019: 10, 2020: Decimal("1.25")}
    assert again.data["ligner_maerke"] == {"$d": "ikke et tal"}
    assert isinstance(again.data["dato"], dt.date) and again.data["liste"][4] == "2021-01-01"
    assert again.where(("aar", 2020)) == "f.yaml:5"


def test_changed_bytes_are_parsed_again(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    path.write_text("a: 2\n", "utf-8")
    assert load_file(path).data == {"a": 2}
    assert len(list(cache_home.glob("*.json"))) == 2


def test_a_file_with_an_error_is_not_stored_and_fails_every_time(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\na: 2\n", "utf-8")
    for _ in range(2):
        with pytest.raises(InvalidRuleset, match="to gange"):
            load_file(path, "f.yaml")
    assert not list(cache_home.glob("*.json"))


@pytest.mark.parametrize("damage", ["{", '{"data": 1}', '{"data": {"$d": [1]}, "lines": []}', ""])
def test_a_damaged_entry_is_ignored(tmp_path, cache_home, damage):
    path = tmp_path / "f.yaml"
    path.write_text("a: 0.5\n", "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    entry.write_text(damage, "utf-8")
    assert load_file(path).data == {"a": Decimal("0.5")}


def test_the_cache_can_be_switched_off(tmp_path, cache_home, monkeypatch):
    monkeypatch.setenv("RAMMEAFTALE_CACHE", "0")
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    assert not cache_home.exists()


def test_the_store_is_bounded(tmp_path, cache_home, monkeypatch):
    monkeypatch.setattr(cache, "MAX_DOCUMENTS", 3)
    for i in range(5):
        path = tmp_path / f"f{i}.yaml"
        path.write_text(f"a: {i}\n", "utf-8")
        load_file(path)
    assert 1 <= len(list(cache_home.glob("*.json"))) <= 3


def test_entries_are_plain_json_data(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text(TRICKY, "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    stored = json.loads(entry.read_text("utf-8"))
    assert stored["data"]["sats"] == {"$d": "0.050"}
    assert stored["data"]["aar"] == {"$m": [[2019, 10], [2020, {"$d": "1.25"}]]}
