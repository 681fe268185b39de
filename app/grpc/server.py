"""The gRPC server ``annserve serve`` runs next to uvicorn, on a thread and event loop of its own.

It serves the same data plane as ``/v2`` over its own connections to the database and the array
files (a model cache of its own, kept fresh the way every process's is).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import grpc

from app.grpc.service import generic_handler
from app.keys import KeyRing
from app.services.inference_dataplane import DataPlane
from app.services.model_cache import ModelCache
from app.services.models import ModelService
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database

logger = logging.getLogger("annserve.grpc")


def address(host: str, port: int) -> str:
    """``host:port`` as gRPC takes it (IPv6 hosts in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class GrpcServer:
    """``inference.GRPCInferenceService`` on ``host:settings.grpc_port``.

    :meth:`start` returns once the port is bound (or raises why it could not be);
    :meth:`stop` lets calls in flight finish for up to ``grace`` seconds.
    """

    def __init__(self, settings: Settings, host: str) -> None:
        self.settings = settings
        self.address = address(host, settings.grpc_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="annserve-grpc", daemon=True)

    def start(self) -> None:
        """Serve on a new thread; raise ``RuntimeError`` when the port cannot be bound."""
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join()
            raise RuntimeError(f"gRPC cannot listen on {self.address}: {self._error}")
        logger.info("gRPC listening", extra={"address": self.address})

    def stop(self, grace: float = 5.0) -> None:
        """Stop serving and wait for the thread."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=grace + 5.0)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by start() or logged: the thread ends here
            if not self._started.is_set():
                self._error = error
            else:
                logger.error("gRPC server failed", exc_info=error)
        finally:
            self._started.set()

    async def _serve(self, grace: float = 5.0) -> None:
        settings = self.settings
        db = Database(settings.database_url)
        arrays = ArrayStore(settings.data_dir)
        cache = ModelCache(
            db,
            arrays,
            capacity=settings.model_cache_size,
            ttl_seconds=settings.model_cache_ttl_seconds,
        )
        plane = DataPlane(cache, ModelService(db, arrays, settings), settings)
        keys = KeyRing.parse(settings.api_keys)
        server = grpc.aio.server(
            options=[
                # A port another process holds is an error, as it is for HTTP.
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", settings.max_body_bytes),
            ]
        )
        server.add_generic_rpc_handlers((generic_handler(plane, keys),))
        try:
            server.add_insecure_port(self.address)
            await server.start()
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._started.set()
            await self._stopping.wait()
            await server.stop(grace)
        finally:
            db.dispose()
