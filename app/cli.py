"""The ``annserve`` command: ``annserve serve``, ``worker``, ``migrate`` and ``cleanup``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.logs import configure_logging, logging_config
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.storage.cleanup import CleanupThread


def _load_settings() -> Settings:
    """The settings, or exit 2 with a message naming each bad ``ANNSERVE_`` variable."""
    try:
        return get_settings()
    except ValidationError as error:
        lines = [
            f"  ANNSERVE_{'_'.join(str(p) for p in item['loc']).upper() or '?'}: {item['msg']}"
            for item in error.errors()
        ]
        print("annserve: invalid settings\n" + "\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None


def _migrated() -> Settings:
    """The settings, with logging configured and the database at the latest schema."""
    from app.storage.migrate import run_migrations

    settings = _load_settings()
    configure_logging(settings.log_level)
    run_migrations(settings.database_url)
    return settings


def migrate(_: argparse.Namespace) -> int:
    """Apply the database migrations."""
    _migrated()
    print("annserve: database is at the latest schema", file=sys.stderr)
    return 0


def serve(args: argparse.Namespace) -> int:
    """Migrate, then serve with uvicorn (SIGTERM and SIGINT shut down gracefully)."""
    import uvicorn

    from app.jobs.executor import make_executor

    settings = _migrated()
    # The schema is current now: the app processes uvicorn starts (one per worker) need not
    # migrate again each.
    os.environ["ANNSERVE_MIGRATE_ON_START"] = "false"
    # The job executor runs next to uvicorn, not inside the ASGI app, so --workers does not
    # multiply the training pool.
    executor = make_executor(settings)
    executor.start()
    cleanup = _cleanup_thread(settings)
    cleanup.start()
    # uvicorn re-raises the SIGTERM/SIGINT it handled once it has drained; a Python handler
    # absorbs it so the pool below is stopped cleanly (jobs checkpoint and requeue).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level,
            log_config=logging_config(settings.log_level),
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=30,
            **_http_options(settings),
        )
    finally:
        cleanup.stop()
        executor.stop()
    return 0


def _http_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's limits and timeouts from the settings (see ``Settings.http_*``)."""
    from app.api.server_protocol import PROTOCOL

    return {
        "http": PROTOCOL,
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "limit_concurrency": settings.http_limit_concurrency,
        "backlog": settings.http_backlog,
        # Used should the h11 protocol be chosen instead; the protocol above counts itself.
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
    }


def _cleanup_thread(settings: Settings) -> CleanupThread:
    from app.storage.arrays import ArrayStore
    from app.storage.cleanup import CleanupThread
    from app.storage.db import Database

    return CleanupThread(
        Database(settings.database_url),
        ArrayStore(settings.data_dir),
        grace=settings.cleanup_grace,
        interval=settings.cleanup_interval,
    )


def cleanup(args: argparse.Namespace) -> int:
    """Remove stale temporary files, files without rows and folders of ended jobs once."""
    from app.storage.arrays import ArrayStore
    from app.storage.cleanup import sweep
    from app.storage.db import Database

    settings = _migrated()
    grace = settings.cleanup_grace if args.grace is None else args.grace
    db = Database(settings.database_url)
    try:
        report = sweep(db, ArrayStore(settings.data_dir), grace)
    finally:
        db.dispose()
    print(json.dumps(report.as_dict()))
    return 0


def worker(args: argparse.Namespace) -> int:
    """Run the configured executor's worker in the foreground until SIGTERM/SIGINT."""
    from app.jobs.executor import make_executor

    settings = _migrated()
    return make_executor(settings).run_worker(args.processes)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="annserve", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="migrate, then serve the HTTP API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)
    migrate_parser = commands.add_parser("migrate", help="apply the database migrations")
    migrate_parser.set_defaults(handler=migrate)
    worker_parser = commands.add_parser("worker", help="run training jobs from the queue")
    worker_parser.add_argument(
        "--processes", type=int, default=None, help="worker processes (default: the executor's)"
    )
    worker_parser.set_defaults(handler=worker)
    cleanup_parser = commands.add_parser(
        "cleanup", help="remove temp files, files without rows and ended jobs' folders"
    )
    cleanup_parser.add_argument(
        "--grace",
        type=float,
        default=None,
        help="seconds a file must be old to be removed (default: ANNSERVE_CLEANUP_GRACE)",
    )
    cleanup_parser.set_defaults(handler=cleanup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``annserve`` script and of ``python -m app``."""
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result
