"""rammeaftale.load.cache: parsed documents kept between processes — only in a private folder,
only if intact, and never instead of the schema check."""

import datetime as dt
import json
import os
import stat
import time
from decimal import Decimal

import pytest

from rammeaftale.load import cache
from rammeaftale import Engine
from rammeaftale.errors import InvalidRuleset, RulesetErrors
from rammeaftale.load.yamlload import load_file

from .helpers import write_ruleset

TRICKY = """\
id: x
sats: 0.050
stor: 1.5e+3
dato: 2021-02-28
aar: {2019: 10, 2020: 1.25}
ligner_maerke: {$d: "ikke et tal"}
liste: [ja, null, true, -0.0, "2021-01-01"]
"""


posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="the cache needs POSIX owners and modes")
pytestmark = posix_only


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RAMMEAFTALE_CACHE", raising=False)
    return tmp_path / "cache" / "rammeaftale" / "dokumenter"


def _payload(entry):
    magic, mac, payload = entry.read_bytes().split(b"\n", 2)
    assert magic == cache.MAGIC
    return payload


def _forge(entry, payload: bytes) -> None:
    """Rewrite an entry with a valid MAC — what only someone holding the user's key could do."""
    secret = (entry.parent.parent / cache.KEY_FILE).read_bytes()
    entry.write_bytes(cache.MAGIC + b"\n" + cache._mac(secret, entry.stem, payload) + b"\n" + payload)


def _forge_data(entry, stored) -> None:
    """:func:`_forge` an entry whose data was edited, with one line per key and item again (all line 1)."""
    data = json.loads(json.dumps(stored["data"]), object_hook=cache._decode)
    stored["lines"] = [1] * len(cache.node_paths(data))
    _forge(entry, json.dumps(stored).encode())


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


DAMAGE = ["{", '{"data": 1}', '{"data": {"$d": [1]}, "lines": []}', "", "[]", '{"data": 1, "lines": 5}',
          '{"data": 1, "lines": [[1, 2]]}', '{"data": 1, "lines": [[["a"], "x"]]}',
          '{"data": 1, "lines": [[[["a"]], 1]]}', '{"data": {"$m": [[[1], 2]]}, "lines": []}',
          '{"data": {"$t": "2021-02-30"}, "lines": []}', '{"data": {"$d": "x"}, "lines": []}',
          "[" * 100_000 + "]" * 100_000, '"\\ud800"', '{"data": {"a": 1}, "lines": [1]}',
          '{"data": {"a": 1}, "lines": [1, true]}', '{"data": {"a": 1}, "lines": [1, 2, 3]}']


@pytest.mark.parametrize("damage", DAMAGE, ids=range(len(DAMAGE)))
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_damaged_entry_is_ignored_and_replaced(tmp_path, cache_home, damage, signed):
    path = tmp_path / "f.yaml"
    path.write_text("a: 0.5\n", "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    if signed:
        _forge(entry, damage.encode("utf-8", "surrogatepass"))
    else:
        entry.write_text(damage, "utf-8", errors="surrogatepass")
    assert load_file(path).data == {"a": Decimal("0.5")}
    assert json.loads(_payload(entry))["data"] == {"a": {"$d": "0.5"}}      # parsed and stored again


def test_an_edited_entry_is_detected_and_discarded(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("sats: 0.05\n", "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    entry.write_bytes(entry.read_bytes().replace(b'"0.05"', b'"0.99"'))   # valid JSON, new value
    assert b'"0.99"' in entry.read_bytes()
    assert load_file(path).data == {"sats": Decimal("0.05")}
    assert b'"0.99"' not in entry.read_bytes()


def test_an_entry_is_bound_to_its_source_bytes(tmp_path, cache_home):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\n", "utf-8")
    b.write_text("x: 2\n", "utf-8")
    load_file(a)
    load_file(b)
    entries = sorted(cache_home.glob("*.json"), key=lambda e: json.loads(_payload(e))["data"]["x"])
    entries[1].write_bytes(entries[0].read_bytes())                       # a's entry under b's key
    assert load_file(b).data == {"x": 2}


def test_an_entry_from_another_key_is_refused(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("x: 1\n", "utf-8")
    load_file(path)
    (cache_home.parent / cache.KEY_FILE).write_bytes(os.urandom(cache.KEY_BYTES))   # another user's entries
    cache._KEYS.clear()
    (entry,) = cache_home.glob("*.json")
    before = entry.read_bytes()
    assert load_file(path).data == {"x": 1}
    assert entry.read_bytes() != before


def test_cached_documents_are_schema_checked_like_fresh_ones(tmp_path, cache_home):
    write_ruleset(tmp_path)
    Engine.from_path(tmp_path)
    entry = next(e for e in cache_home.glob("*.json") if b'"kilder"' in _payload(e))
    stored = json.loads(_payload(entry))
    # Forged with the user's own key (only the user's own engine can do that), but without a
    # record of having passed the schema: it must be checked like a fresh document.
    stored["passed"] = {}
    del stored["data"]["maanedsregel"]                      # used to crash the compiler: KeyError
    _forge_data(entry, stored)
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert any("'maanedsregel' mangler" in e.message for e in info.value.errors)
    stored["data"]["maanedsregel"] = "afkort"
    stored["data"]["kilder"]["ra2021"]["fil"] = "../../../etc/passwd"
    _forge_data(entry, stored)
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert any("kilder.ra2021.fil" in e.message for e in info.value.errors)


def test_a_recorded_schema_pass_is_used_only_for_the_same_schemas(tmp_path, cache_home, monkeypatch):
    """A warm load skips jsonschema only for data whose signed entry records a pass of these schemas."""
    from rammeaftale.load import schemas
    write_ruleset(tmp_path)
    Engine.from_path(tmp_path)                                   # parses, checks, records the pass
    entry = next(e for e in cache_home.glob("*.json") if b'"kilder"' in _payload(e))
    assert json.loads(_payload(entry))["passed"]
    calls = []
    real = schemas._validator
    monkeypatch.setattr(schemas, "_validator", lambda name: calls.append(name) or real(name))
    Engine.from_path(tmp_path)
    assert calls == []                                           # the memo served every file
    monkeypatch.setattr(schemas, "_schemas_digest", lambda: "andre skemaer")
    Engine.from_path(tmp_path)
    assert "ruleset.schema.json" in calls                        # other schemas: checked again


def test_entries_and_folders_are_private(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    for folder in (cache_home, cache_home.parent):
        assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700
    for file in (entry, cache_home.parent / cache.KEY_FILE):
        assert stat.S_IMODE(os.lstat(file).st_mode) == 0o600


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relativ")
    monkeypatch.setenv("HOME", str(tmp_path / "hjem"))
    monkeypatch.delenv("RAMMEAFTALE_CACHE", raising=False)
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    assert not (tmp_path / "relativ").exists()
    assert len(list((tmp_path / "hjem" / ".cache" / "rammeaftale" / "dokumenter").glob("*.json"))) == 1


def _plant(tmp_path, cache_home, mode=None, owner=None):
    """Fill a cache with a (validly signed) entry saying a: 666, then loosen its folder."""
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    (entry,) = cache_home.glob("*.json")
    _forge(entry, json.dumps({"data": {"a": 666}, "lines": []}).encode())
    for folder in (cache_home.parent, cache_home):
        if mode is not None:
            os.chmod(folder, mode)
        if owner is not None:
            os.chown(folder, owner, -1)
    cache._KEYS.clear()
    return path, entry


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777, 0o702])
def test_a_folder_others_can_write_is_not_used(tmp_path, cache_home, mode):
    path, entry = _plant(tmp_path, cache_home, mode=mode)
    assert load_file(path).data == {"a": 1}                  # the planted entry is not read ...
    assert json.loads(_payload(entry))["data"] == {"a": 666}  # ... nor anything written there


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="chown needs root")
def test_a_folder_someone_else_owns_is_not_used(tmp_path, cache_home):
    path, entry = _plant(tmp_path, cache_home, owner=65534)
    assert load_file(path).data == {"a": 1}
    assert json.loads(_payload(entry))["data"] == {"a": 666}


def test_a_symlinked_cache_folder_is_not_used(tmp_path, cache_home):
    path, entry = _plant(tmp_path, cache_home)
    real = tmp_path / "ægte"
    cache_home.parent.rename(real)
    cache_home.parent.symlink_to(real)
    assert load_file(path).data == {"a": 1}
    assert json.loads(_payload(real / "dokumenter" / entry.name))["data"] == {"a": 666}


def test_an_older_world_readable_folder_of_ours_is_tightened(tmp_path, cache_home):
    path, _ = _plant(tmp_path, cache_home, mode=0o755)
    load_file(path)
    for folder in (cache_home, cache_home.parent):
        assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


def test_a_failed_write_leaves_no_temporary_file(tmp_path, cache_home, monkeypatch):
    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(cache.os, "replace", fail)
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    assert load_file(path).data == {"a": 1}
    assert sorted(p.name for p in cache_home.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_fdopen = os.fdopen

    class Full:                                      # the disk fills up while the entry is written
        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:10])
            raise OSError(28, "No space left on device")
    monkeypatch.setattr(cache.os, "fdopen", Full)
    assert load_file(path).data == {"a": 1}
    assert sorted(p.name for p in cache_home.iterdir()) == []


def test_stale_temporary_files_are_swept(tmp_path, cache_home):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", "utf-8")
    load_file(path)
    stale, fresh = cache_home / ".gammel.tmp", cache_home / ".ny.tmp"
    for file in (stale, fresh):
        file.write_bytes(b"halv")
    old = time.time() - 2 * cache.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    path.write_text("a: 2\n", "utf-8")
    load_file(path)
    assert not stale.exists() and fresh.exists()


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
    stored = json.loads(_payload(entry))
    assert stored["data"]["sats"] == {"$d": "0.050"}
    assert stored["data"]["aar"] == {"$m": [[2019, 10], [2020, {"$d": "1.25"}]]}
