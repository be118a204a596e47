"""`onduty serve` (API and worker in one process) and `onduty worker` (worker alone)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated, Any

import typer

from onduty.cli.common import container, err
from onduty.config import SERVE_WORKER_ENV
from onduty.web.heap import settle_heap


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    worker: Annotated[bool, typer.Option(help="Run the worker in this process too.")] = True,
    ssl_certfile: Annotated[str | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="The certificate's private key (PEM).")] = None,
    processes: Annotated[int, typer.Option("--processes", min=1, max=64,
                                           help="HTTP processes sharing the port; more than one suits "
                                                "PostgreSQL (SQLite has one writer at a time).")] = 1,
) -> None:
    """Serve the HTTP API (and, by default, the worker that pages people).

    Example: [bold]ONDUTY_DATABASE_URL=postgresql+psycopg://onduty@db/onduty onduty serve --host 0.0.0.0[/]
    """
    import uvicorn

    from onduty.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    c = container()
    scheme = "https" if ssl_certfile else "http"
    err.print(f"onduty serving on {scheme}://{host}:{port} (database {c.db.engine.url.render_as_string()}, "
              f"worker {'on' if worker else 'off'}, {processes} HTTP process{'es' if processes > 1 else ''})")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False,
                               "ssl_certfile": ssl_certfile, "ssl_keyfile": ssl_keyfile}
    if processes == 1:
        app = create_app(c, run_worker=worker)
        settle_heap()
        uvicorn.run(app, **options)
        return
    c.db.dispose()  # each process builds its own
    os.environ[SERVE_WORKER_ENV] = "1" if worker else "0"
    uvicorn.run("onduty.web.app:app_from_environment", factory=True, workers=processes, **options)


def run_worker(
    poll: Annotated[float, typer.Option(help="Seconds between ticks when idle.", min=0.05)] = 1.0,
) -> None:
    """Run the worker alone: fire due timers and deliver pages until stopped (Ctrl-C).

    Example: [bold]onduty worker --poll 0.5[/]
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    c = container()
    stop = threading.Event()
    def shutdown(*_: object) -> None:
        stop.set()
        c.worker.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shutdown)
    err.print("onduty worker running; Ctrl-C to stop")
    # as `serve` does: a full collection walking every module mid-transaction held SQLite's write lock
    # for up to 100 ms, and ingest waited behind it
    settle_heap()
    c.worker.run_forever(c.clock, stop, poll)
