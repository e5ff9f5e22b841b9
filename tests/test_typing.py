"""The public API is typed: ``py.typed`` ships, and mypy --strict passes on what ``rammeaftale`` exports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mypy")


def test_py_typed_ships():
    assert (ROOT / "engine" / "py.typed").is_file()
    assert "py.typed" in (ROOT / "pyproject.toml").read_text()


def test_mypy_strict_on_the_public_surface(tmp_path):
    """A caller's program using every name of ``rammeaftale.__all__``, checked with --strict against
    the package as installed, plus the package's own public modules (``__init__``, ``run/api``,
    ``run/result``, ``errors``) and the service checked strictly (the rest of the package is not
    strict-clean yet; its errors are not counted here)."""
    user = tmp_path / "caller.py"
    user.write_text(textwrap.dedent('''
        from decimal import Decimal
        from rammeaftale import (Engine, EngineError, InvalidCase, InvalidRuleset, Limits, NoRuleset,
                                 NotRegulated, Result, RulesetErrors, TraceStep, __version__)

        def answer(engine: Engine) -> dict[str, object]:
            try:
                res: Result = engine.evaluate("opsigelse", {"paragraf": "SEL § 108"}, ruleset="x", trace=False)
            except (InvalidCase, NoRuleset, NotRegulated, InvalidRuleset, RulesetErrors) as exc:
                kind: str = exc.kind
                return {"error": exc.to_dict(), "kind": kind}
            except EngineError:
                raise
            steps: list[TraceStep] = res.trace
            out: dict[str, object] = res.to_dict()
            return out | {"n": len(steps), "v": __version__}

        engine: Engine = Engine.default(limits=Limits(seconds=1.5))
        print(answer(engine), engine.compare("lukning", {}, rulesets=["a"]).to_dict(), Decimal(1))
    '''), "utf-8")
    # The source folder is engine/, imported as rammeaftale: show mypy that name (an editable
    # install maps it with an import hook mypy cannot follow).
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "rammeaftale").symlink_to(ROOT / "engine", target_is_directory=True)
    env = {**os.environ, "MYPYPATH": str(tmp_path / "path")}
    public = [ROOT / "engine" / "__init__.py", ROOT / "engine" / "errors.py", ROOT / "engine" / "run" / "api.py",
              ROOT / "engine" / "run" / "result.py"]
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), str(user)],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache2"), "-p", "rammeaftale"],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    strict = [str(p.relative_to(ROOT / "engine")) for p in public] + ["service/"]
    errors = [line for line in done.stdout.splitlines()
              if ": error:" in line and any(f"rammeaftale/{name}" in line for name in strict)]
    assert "Found" in done.stdout or "Success" in done.stdout, done.stderr    # mypy ran and reported
    assert not errors, "\n".join(errors)
