"""The ``annserve`` command: ``annserve serve``, ``worker``, ``migrate`` and ``cleanup``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.logs import configure_logging, logging_config
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.grpc.server import GrpcServer
    from app.storage.cleanup import CleanupThread

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


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


@contextmanager
def _shared_metrics() -> Iterator[None]:
    """A multiprocess metrics directory for this command's processes (uvicorn workers and
    training workers; a Celery worker and its pool children), unless the environment names
    one; set before anything imports prometheus_client, which reads it then."""
    if os.environ.get(METRICS_DIR_VARIABLE):
        yield
        return
    directory = tempfile.mkdtemp(prefix="annserve-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = directory
    try:
        yield
    finally:
        os.environ.pop(METRICS_DIR_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)


def serve(args: argparse.Namespace) -> int:
    """Migrate, then serve HTTP with uvicorn and, on ``grpc_port``, gRPC (SIGTERM and SIGINT
    shut both down gracefully)."""
    with _shared_metrics():
        return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.jobs.executor import make_executor
    from app.services.search_scheduler import SearchScheduler

    settings = _migrated()
    # The schema is current now: the app processes uvicorn starts (one per worker) need not
    # migrate again each.
    os.environ["ANNSERVE_MIGRATE_ON_START"] = "false"
    # The job executor runs next to uvicorn, not inside the ASGI app, so --workers does not
    # multiply the training pool.
    grpc_server = _start_grpc(settings, args.host)
    executor = make_executor(settings)
    executor.start()
    # Searches are scheduled here too, next to the executor their trials' jobs run on.
    scheduler = SearchScheduler(settings, executor)
    scheduler.start()
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
        if grpc_server is not None:
            grpc_server.stop()
        scheduler.stop()
        cleanup.stop()
        executor.stop()
    return 0


def _start_grpc(settings: Settings, host: str) -> GrpcServer | None:
    """The running gRPC server (None when ``grpc_port`` is 0), or exit 1 saying why it cannot
    listen."""
    if not settings.grpc_port:
        return None
    from app.grpc.server import GrpcServer

    server = GrpcServer(settings, host)
    try:
        server.start()
    except RuntimeError as error:
        print(f"annserve: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    return server


def _http_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's limits and timeouts from the settings (see ``Settings.http_*``)."""
    from app.api.http.server_protocol import PROTOCOL

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
    """Run the configured executor's worker in the foreground until SIGTERM/SIGINT, or exit 1
    saying why its metrics endpoint cannot listen."""
    with _shared_metrics():
        from app.jobs.executor import make_executor
        from app.jobs.worker_metrics import WorkerMetricsError

        settings = _migrated()
        try:
            return make_executor(settings).run_worker(args.processes)
        except WorkerMetricsError as error:
            print(f"annserve: {error}", file=sys.stderr)
            raise SystemExit(1) from None


def hash_key_command(args: argparse.Namespace) -> int:
    """Print a new key (or the given one) and the ``sha256:`` form to configure instead of it."""
    from app.keys import hash_key, new_key

    key = args.key or new_key()
    if args.key is None:
        print(f"key:    {key}")
    print(f"config: {args.tenant}:{args.role}:{hash_key(key)}")
    return 0


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
    hash_parser = commands.add_parser(
        "hash-key", help="make an API key and the hashed entry that configures it"
    )
    hash_parser.add_argument("--tenant", default="default")
    hash_parser.add_argument("--role", choices=("admin", "write", "read"), default="write")
    hash_parser.add_argument("--key", default=None, help="hash this key instead of a new one")
    hash_parser.set_defaults(handler=hash_key_command)
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
