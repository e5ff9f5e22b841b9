"""A live ``rammeaftale serve`` on 127.0.0.1: started as a user starts it, and the faults it must survive.

Bad bodies, huge bodies, a client that stalls mid-body and a client that
disconnects mid-batch: after each, the server still answers correctly.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from rammeaftale import Engine

from .service_helpers import OPSIGELSE, live_server

LIMITS = json.dumps({"body_idle_seconds": 1.0, "max_body": 100_000, "max_batch_body": 5_000_000})
EXPECTED = Engine.default().evaluate("opsigelse", OPSIGELSE, ruleset="syddanmark-2021").to_dict()


@pytest.fixture(scope="module")
def server():
    with live_server(env={"RAMMEAFTALE_SERVE_LIMITS": LIMITS}) as url:
        yield url


def _still_answers(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        got = client.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE, "ruleset": "syddanmark-2021"})
        assert got.status_code == 200 and got.json() == EXPECTED


def test_every_endpoint_answers(server):
    with httpx.Client(base_url=server, timeout=20) as client:
        for path in ("/healthz", "/v1/rulesets", "/v1/questions", "/v1/questions/opsigelse", "/openapi.json"):
            assert client.get(path).status_code == 200, path
        assert client.get("/").status_code == 200 and client.get("/docs").status_code == 200
        assert client.post("/v1/compare", json={"question": "opsigelse", "case": OPSIGELSE}).status_code == 200
        rows = "".join(json.dumps({"id": i, "ruleset": "syddanmark-2021", "case": OPSIGELSE}) + "\n" for i in range(50))
        got = client.post("/v1/batch", params={"question": "opsigelse"}, content=rows.encode())
        assert [json.loads(x)["id"] for x in got.text.splitlines()] == list(range(50))
    _still_answers(server)


def test_bad_and_huge_bodies(server):
    with httpx.Client(base_url=server, timeout=20) as client:
        assert client.post("/v1/evaluate", content=b"\x00\x01garbage").status_code == 400
        assert client.post("/v1/evaluate", content=b'{"question": 1}').status_code == 422
        huge = b'{"case": "' + b"x" * 2_000_000 + b'"}'
        assert client.post("/v1/evaluate", content=huge).status_code == 413

        def chunked():
            for _ in range(200):
                yield b"x" * 10_000
        got = client.post("/v1/evaluate", content=chunked())
        assert got.status_code == 413 and got.json()["error"]["kind"] == "too_large"
    _still_answers(server)


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_until(sock: socket.socket, marker: bytes, seconds: float = 15) -> bytes:
    data = b""
    deadline = time.monotonic() + seconds
    while marker not in data and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_stalled_client_gets_408_and_others_are_answered_meanwhile(server):
    sock = _raw(server)
    sock.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{\"question\": ")
    _still_answers(server)                         # while that one stalls
    reply = _read_until(sock, b"slow_client").decode("utf-8", "replace")
    sock.close()
    assert reply.startswith("HTTP/1.1 408") and "slow_client" in reply
    _still_answers(server)


def test_a_client_disconnecting_mid_batch_leaves_the_server_answering(server):
    for cut in ("while sending", "while reading"):
        sock = _raw(server)
        row = (json.dumps({"id": 1, "ruleset": "syddanmark-2021", "case": OPSIGELSE}) + "\n").encode()
        rows = row * 20_000
        head = (f"POST /v1/batch?question=opsigelse HTTP/1.1\r\nHost: x\r\nContent-Length: {len(rows)}\r\n\r\n").encode()
        sock.sendall(head)
        if cut == "while sending":
            sock.sendall(rows[: len(rows) // 3])
        else:
            sock.sendall(rows)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        time.sleep(0.2)
        _still_answers(server)


def test_a_stalled_batch_ends_with_an_error_line(server):
    sock = _raw(server)
    row = (json.dumps({"id": 7, "ruleset": "syddanmark-2021", "case": OPSIGELSE}) + "\n").encode()
    sock.sendall(b"POST /v1/batch?question=opsigelse HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + row)
    data = _read_until(sock, b"slow_client")
    sock.close()
    assert b'"id": 7' in data and b"slow_client" in data
    _still_answers(server)
