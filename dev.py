#!/usr/bin/env python3
"""One entry point that needs nothing but python3: set up, then run.

    python3 dev.py demo    # the main job: real cases on the embedded rulesets, explained
    python3 dev.py test    # the whole test suite (unit, CLI, and every ruleset example)
    python3 dev.py bench [--quick]   # the benchmark (bench/README.md); installs zen-engine too

It creates ``.venv`` with the standard library's venv, installs the package
with its test extras (again only when pyproject.toml changed) and runs the
command inside it, so a fresh machine needs no manual steps.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment(extras: str = "test") -> None:
    python = BIN / "python"
    if not python.exists():
        print("dev.py: opretter .venv …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("dev.py: installerer rammeaftale-engine med testafhængigheder …", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-e", f"{ROOT}[{extras}]"], check=True)
        stamp.write_text(wanted)
    # An editable install leaves the engine's own modules uncompiled, and where
    # PYTHONDONTWRITEBYTECODE is set (as on our CI machines) every command would
    # compile them again: ~100 ms of each CLI call.  compileall skips fresh files.
    subprocess.run([str(python), "-m", "compileall", "-q", str(ROOT / "engine"), str(ROOT / "plugins")],
                   check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "bench"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment("server,test,bench" if command == "bench" else "server,test")
    if command == "demo":
        args = [str(BIN / "rammeaftale"), "demo", *rest]
    elif command == "bench":
        args = [str(BIN / "python"), str(ROOT / "bench" / "run.py"), *rest]
    else:
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    return subprocess.run(args, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
