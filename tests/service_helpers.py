"""Shared by the service tests: the cases they send, and a live server on the loopback address."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

OPSIGELSE = {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-01-14"}
LUKNING = {"driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
           "beslutningsdato": "2021-05-01", "budget": "10000000", "aarsresultat": "-1320000",
           "omsaetning": {"Vejle": {"2019": "4000000", "2020": "4200000"},
                          "Kolding": {"2019": "3000000", "2020": "2800000"}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def live_server(*extra: str, env: dict[str, str] | None = None, command: list[str] | None = None) -> Iterator[str]:
    """``rammeaftale serve`` in a child process on 127.0.0.1; yields its base URL."""
    port = free_port()
    args = command or [sys.executable, "-m", "rammeaftale"]
    proc = subprocess.Popen([*args, "serve", "--port", str(port), *extra], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"serve stoppede: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("serve startede ikke inden for 60 sekunder")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
