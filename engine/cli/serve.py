"""``rammeaftale serve``: the HTTP API and the caseworkers' page (needs the ``server`` extra)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .common import EXIT_ERROR, EXIT_OK


def register(commands: Any) -> None:
    p = commands.add_parser("serve", help="start HTTP-tjenesten og sagsbehandlersiden (kræver ekstraen 'server')")
    p.add_argument("--host", default="127.0.0.1", help="adresse at lytte på (standard: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (standard: 8000)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="antal processer; hver læser regelsættene ved start og deler intet (standard: 1)")
    p.add_argument("--kilder", type=Path, metavar="MAPPE", help="mappe med kildeteksterne, der citeres i forklaringer")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: Any) -> int:
    try:
        import uvicorn
        from ..service.app import app_from_environment
    except ImportError as exc:
        print(f"'serve' kræver ekstraen 'server': pip install 'rammeaftale-engine[server]' ({exc.name} mangler)")
        return EXIT_ERROR
    paths = [str(p) for p in args.rulesets] if args.rulesets else None
    settings = {"paths": paths, "sources": str(args.kilder) if args.kilder else None}
    options: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": "info",
                               "timeout_keep_alive": 5, "limit_concurrency": 1000}
    if args.workers > 1:
        os.environ["RAMMEAFTALE_SERVE"] = json.dumps(settings)       # read by each worker process
        uvicorn.run("rammeaftale.service.app:app_from_environment", factory=True, workers=args.workers, **options)
    else:
        os.environ["RAMMEAFTALE_SERVE"] = json.dumps(settings)
        uvicorn.run(app_from_environment(), **options)
    return EXIT_OK
