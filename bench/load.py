#!/usr/bin/env python3
"""Load test of ``rammeaftale serve`` on 127.0.0.1 (a script, not a test; README "Benchmark").

Starts the server as a user does (``python -m rammeaftale serve``), then N
concurrent clients (threads, each with its own keep-alive connection) send M
``POST /v1/evaluate`` requests each, cycling over questions and rulesets.  Every
answer is compared with the library's own ``Result.to_dict()`` (or error) for
the same request; the script prints p50/p99 latency, throughput and the
number of differing answers, and exits 1 if any differ.  ``python3 dev.py bench``
reports the same figures (its part "service", through :func:`measure`).

    python bench/load.py [--clients 8] [--requests 250] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from rammeaftale import Engine, EngineError  # noqa: E402
from tests.service_helpers import LUKNING, OPSIGELSE, live_server  # noqa: E402

REQUESTS = [
    {"question": "opsigelse", "case": OPSIGELSE, "ruleset": "syddanmark-2021"},
    {"question": "opsigelse", "case": OPSIGELSE, "ruleset": "syddanmark-2025"},
    {"question": "opsigelse", "case": OPSIGELSE, "ruleset": "sjaelland-2021"},
    {"question": "opsigelse", "case": {**OPSIGELSE, "opsigelsesdato": "2025-03-03"}, "region": "syddanmark"},
    {"question": "lukning", "case": LUKNING, "region": "syddanmark"},
    {"question": "lukning", "case": LUKNING, "ruleset": "syddanmark-2025"},
    {"question": "kapacitet", "case": {"pladser": 40, "nye_pladser": 44, "ikrafttraedelse": "2021-06-01"},
     "ruleset": "syddanmark-2021"},
    {"question": "omfattet", "case": {"driftsform": "kommunal", "pladser": 20, "solgte_pladser": 5},
     "ruleset": "nordjylland-2027"},
    {"question": "takstloft", "case": {"tilbudstype": "herberg", "takst": "2500"}, "ruleset": "nationale-regler"},
    {"question": "takstloft", "case": {"tilbudstype": "herberg", "takst": "2500"}, "ruleset": "sjaelland-2021"},
]


def expected(engine: Engine, body: dict) -> tuple[int, dict]:
    kwargs = {k: body[k] for k in ("ruleset", "region", "dato") if k in body}
    try:
        return 200, engine.evaluate(body["question"], body["case"], **kwargs).to_dict()
    except EngineError as exc:
        return {"invalid_case": 422, "not_regulated": 422, "no_ruleset": 404}.get(exc.kind, 500), {"error": exc.to_dict()}


def measure(clients: int, requests: int, workers: int = 1, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Throughput, p50/p99 latency and differing answers of one live server under ``clients`` × ``requests``.

    A function of its own so that ``bench/run.py`` reports the same figures
    as this script (its part "service"); ``env`` is added to the server's
    environment (the bench puts its working tree on PYTHONPATH there).
    """
    engine = Engine.default()
    answers = [expected(engine, body) for body in REQUESTS]
    latencies: list[float] = []
    differing: list[str] = []
    lock = threading.Lock()
    extra = ["--workers", str(workers)] if workers > 1 else []
    with live_server(*extra, env=env) as url:
        with httpx.Client(base_url=url) as warm:
            for body in REQUESTS:
                warm.post("/v1/evaluate", json=body)

        def client(number: int) -> None:
            mine, wrong = [], []
            with httpx.Client(base_url=url, timeout=30) as http:
                for i in range(requests):
                    k = (number + i) % len(REQUESTS)
                    start = time.perf_counter()
                    got = http.post("/v1/evaluate", json=REQUESTS[k])
                    mine.append(time.perf_counter() - start)
                    if (got.status_code, got.json()) != answers[k]:
                        wrong.append(f"{k}: {got.status_code} {got.text[:200]}")
            with lock:
                latencies.extend(mine)
                differing.extend(wrong)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    latencies.sort()
    total = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(total - 1, int(total * 0.99))] * 1000
    return {"clients": clients, "requests_per_client": requests, "server_workers": workers,
            "requests": total, "seconds": round(elapsed, 2), "req_per_s": round(total / elapsed, 1),
            "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "differing": len(differing),
            "differing_examples": differing[:10]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=250, help="per client")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    report = measure(args.clients, args.requests, args.workers)
    examples = report.pop("differing_examples")
    report["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    for line in examples:
        print("FORSKEL", line, file=sys.stderr)
    return 1 if report["differing"] else 0


if __name__ == "__main__":
    sys.exit(main())
