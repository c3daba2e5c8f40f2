"""Running the collector: one process or several workers, plain HTTP or TLS, migrations first.

``serve(settings, ...)`` migrates the database once, then hands over to uvicorn.
With more than one worker, fresh processes each build the app from
:func:`app_from_env` (the settings travel as JSON in an environment variable),
each on a listening socket of its own on Linux (collector/cli/workers.py: the
connections spread evenly), on uvicorn's shared one elsewhere; Prometheus
counters of all workers are summed through a shared ``PROMETHEUS_MULTIPROC_DIR``.
Forwarded headers are handled by the app itself (``trusted_proxies``), so
uvicorn's own proxy handling is switched off.

Each serving process tunes Python's cyclic garbage collector once its app is
built (:func:`tune_gc`): ingest keeps a hundred requests or so in flight per
process, each waiting for the writer with its coroutines, and at the default
thresholds the collector walked them, and the whole heap of modules, every few
hundred allocations: a fifth of the CPU of a stored report (bench/ingest).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from collector.cli.connections import GuardedHttp, connection_cap, raise_file_limit
from collector.cli.workers import Workers, balanced, listening_socket
from config.collector_settings import CollectorSettings

log = logging.getLogger("socle.collector")

SETTINGS_ENV = "SOCLE_COLLECTOR_SETTINGS_JSON"
GC_THRESHOLDS = (10_000, 10, 10)  # Python's default is (700, 10, 10)


def tune_gc() -> None:
    """Once the app is built: what start-up made is moved out of the collector's sight
    (``gc.freeze``), and the youngest generation is collected every 10,000 net allocations, not 700.

    Cycles are still collected; only less often, and without walking the start-up heap each time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_from_env() -> FastAPI:
    """The app of one worker process, from the settings its parent put in the environment."""
    from collector.app import create_app
    from collector.edge.logs import setup_logging

    settings = CollectorSettings.model_validate_json(os.environ[SETTINGS_ENV])
    setup_logging(settings.log_format, os.environ.get("SOCLE_VERBOSE") == "1")
    app = create_app(settings)
    tune_gc()
    return app


def _config(app: Any, settings: CollectorSettings, common: dict[str, Any], **more: Any) -> Any:
    """uvicorn's configuration, with the connection cap and request deadline the guarded protocol reads
    (collector/cli/connections.py)."""
    import uvicorn

    config = uvicorn.Config(app, **common, **more)
    cap = settings.max_connections or connection_cap(raise_file_limit())
    config.socle_max_connections = cap  # type: ignore[attr-defined]
    config.socle_request_timeout_s = settings.request_timeout_s  # type: ignore[attr-defined]
    return config


def serve(settings: CollectorSettings, *, verbose: bool = False) -> None:
    """Migrate, then serve until interrupted (``settings.workers`` processes)."""
    import uvicorn

    from collector.db.engine import create_schema, make_engine
    from collector.db.paths import database_url

    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise ValueError("TLS needs both a certificate (--cert) and its key (--key)")
    for what, path in (("certificate", settings.tls_cert), ("key", settings.tls_key)):
        if path is not None and not path.is_file():
            raise ValueError(f"the TLS {what} {path} is not a file that can be read")
    url = database_url(settings)
    settings = settings.model_copy(update={"db_url": url})
    engine = make_engine(url)
    create_schema(engine)  # once here, so workers starting together find nothing to do
    engine.dispose()
    tls = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    # No permessage-deflate: ndt7 figures are bytes on the wire, and a browser compresses
    # the zero-filled upload messages of M-Lab's client ~1000:1 (tests/probes/test_bandwidth_interop.py).
    common = {"host": settings.host, "port": settings.port, "proxy_headers": False, "server_header": False,
              "access_log": False, "log_level": "info" if verbose else "warning",
              "ws_per_message_deflate": False, "http": GuardedHttp,
              "timeout_keep_alive": settings.keep_alive_s, **tls}
    scheme = "https" if tls else "http"
    if settings.workers == 1:
        from collector.app import create_app

        sock = listening_socket(settings.host, settings.port, shared=False)  # taken first: in use is one line
        log.warning("serving on %s://%s:%d", scheme, settings.host, settings.port)
        app = create_app(settings)
        tune_gc()
        uvicorn.Server(_config(app, settings, common)).run(sockets=[sock])
        return
    log.warning("serving on %s://%s:%d with %d worker(s)", scheme, settings.host, settings.port,
                settings.workers)
    metrics_dir = Path(tempfile.mkdtemp(prefix="socle-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    os.environ["SOCLE_VERBOSE"] = "1" if verbose else "0"
    try:
        if balanced():  # a socket per process: connections spread evenly (collector/cli/workers.py)
            Workers(_config("collector.cli.serve:app_from_env", settings, common, factory=True),
                    settings.workers).run()
        else:  # pragma: no cover - not Linux
            uvicorn.run("collector.cli.serve:app_from_env", factory=True, workers=settings.workers,
                        **common)  # type: ignore[arg-type]
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
