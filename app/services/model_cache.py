"""Loaded networks kept in memory per ``(model_id, version)``, fresh against other processes.

A version file never changes once written, so a loaded ``(model_id, version)`` pair stays valid
until the model is deleted. What can change under us is which version is *current*: a training
job in another process writes ``models/<id>/v<N+1>.npz`` and then, in one transaction, makes it
current. The current version is therefore re-read from the database whenever the model's
directory changes, whenever a version file on disk is newer than the version the database named
(its commit may still be on the way), and at the latest every ``ttl_seconds``. That last re-read
is done once: the request that finds the row expired re-reads it, and meanwhile
:meth:`ModelCache.peek` keeps answering the others from the snapshot (otherwise every request in
flight would queue a database read). When the current version moves, the model's other loaded
versions are dropped. No request reloads a file the cache already holds; :attr:`ModelCache.loads`
counts the file loads.

A request learns of a directory change without a system call: every process touches the data
dir's change marker (:class:`app.storage.change_marker.ChangeMarker`) after it writes or removes
model files, and only when the marker has moved does the cache ``stat`` the model's directory.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.errors import InvalidInput, NotFound, model_not_found, version_not_found
from app.ids import MODEL, is_valid_id, validate_id
from app.services.loaded_model import LoadedModel, ServedModel
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import ModelRepository
from app.storage.tenancy import current_tenant, visible
from core.pipeline import pipeline_from_bytes

_VERSION_FILE = re.compile(r"v(\d+)\.npz")


@dataclass(slots=True)
class _RowEntry:
    model: ServedModel
    directory: str
    dir_mtime_ns: int
    checked_at: float
    settled: bool
    changes: bytes | None
    """The change marker's token when the directory was last seen unchanged."""


class ModelCache:
    """An LRU of loaded networks keyed by ``(model_id, version)``, safe to share across threads.

    Parameters
    ----------
    db, arrays : Database, ArrayStore
        Where the model rows and version files live.
    capacity : int
        Loaded networks kept at most; the least recently used goes first.
    ttl_seconds : float
        Longest time a model's current version is trusted without re-reading the database
        (plus the time of the one re-read, while other requests keep the snapshot).
    clock : callable
        Monotonic seconds (replaceable in tests).
    """

    def __init__(
        self,
        db: Database,
        arrays: ArrayStore,
        *,
        capacity: int = 64,
        ttl_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.arrays = arrays
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.loads = 0
        self.row_reads = 0
        self._networks: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._rows: dict[str, _RowEntry] = {}
        self._rereads: dict[str, float] = {}  # model id -> when a request set out to re-read it
        self._lock = threading.Lock()
        self._changes = arrays.model_changes

    # The fast path ---------------------------------------------------------------------------
    @staticmethod
    def _mtime(directory: str) -> int | None:
        try:
            return os.stat(directory).st_mtime_ns
        except FileNotFoundError:
            return None

    def _fresh_row(self, model_id: str) -> ServedModel | None:
        """The cached snapshot if nothing says it may be stale, else None."""
        entry = self._rows.get(model_id)
        if entry is None or not entry.settled:
            return None
        if self.clock() - entry.checked_at >= self.ttl_seconds:
            return None
        if not self._files_unchanged(entry, self._changes.token()):
            return None
        return entry.model

    def _files_unchanged(self, entry: _RowEntry, token: bytes | None) -> bool:
        """Whether the model's directory is as ``entry`` saw it: the change marker's ``token``
        (read before this call: a change after it moves the marker) says so without a system
        call, unless some model's files changed since, when a ``stat`` tells."""
        if token is not None and token == entry.changes:
            return True
        if self._mtime(entry.directory) != entry.dir_mtime_ns:
            return False
        entry.changes = token  # another model changed: skip the stat next time
        return True

    def _claim_reread(self, model_id: str, now: float) -> bool:
        """Whether the caller that found the row expired should re-read it (nobody else does)."""
        with self._lock:
            started = self._rereads.get(model_id)
            # A re-read that never came (its caller gave up) is taken over after a ttl.
            if started is not None and now - started < self.ttl_seconds:
                return False
            self._rereads[model_id] = now
            return True

    def peek(self, model_id: str, version: int | None = None) -> LoadedModel | None:
        """The loaded network when it can be had without database or file reads, else None.

        Cheap enough to call on the event loop; fall back to :meth:`get` in a thread on None.
        Past ``ttl_seconds`` it answers None to one caller (whose :meth:`get` re-reads the row)
        and the snapshot to the others until that re-read is done.
        """
        # :meth:`_fresh_row` written out: this runs once per predict request.
        entry = self._rows.get(model_id)
        if entry is None or not entry.settled:
            validate_id(model_id, MODEL)  # a cached id was validated when it was first read
            return None
        if not self._files_unchanged(entry, self._changes.token()):
            return None
        now = self.clock()
        if now - entry.checked_at >= self.ttl_seconds and self._claim_reread(model_id, now):
            return None
        model = entry.model
        if not visible(model.tenant):
            return None  # get() answers: not found, as for an unknown id
        key = (model_id, model.current_version if version is None else version)
        # Single OrderedDict operations are atomic under the GIL: no lock on the hot path.
        networks = self._networks
        loaded = networks.get(key)
        if loaded is None:
            return None
        try:  # noqa: SIM105 (suppress() costs a context manager per request)
            networks.move_to_end(key)
        except KeyError:  # evicted in between by another thread: still a valid network
            pass
        return loaded if loaded.model is model else replace(loaded, model=model)

    # The slow path ---------------------------------------------------------------------------
    def model(self, model_id: str) -> ServedModel:
        """The model's snapshot, re-read from the database when it may be stale."""
        validate_id(model_id, MODEL)
        model = self._fresh_row(model_id) or self._refresh(model_id)
        if not visible(model.tenant):
            raise model_not_found(model_id)
        return model

    def get(self, model_id: str, version: int | None = None) -> LoadedModel:
        """The network of ``version`` (the current one by default), loaded at most once.

        Raises ``NotFound`` (codes ``model_not_found``, ``version_not_found``).
        """
        model = self.model(model_id)
        number = model.current_version if version is None else version
        key = (model_id, number)
        with self._lock:
            loaded = self._networks.get(key)
            if loaded is not None:
                self._networks.move_to_end(key)
                if loaded.model is not model:
                    loaded = self._networks[key] = replace(loaded, model=model)
                return loaded
        if number != model.current_version:
            with self.db.session() as session:
                if ModelRepository(session).get_version(model_id, number) is None:
                    raise version_not_found(model_id, number)
        try:
            data = self.arrays.model_version_bytes(model_id, number)
        except FileNotFoundError as error:
            raise version_not_found(model_id, number) from error
        pipeline = pipeline_from_bytes(data)
        loaded = LoadedModel.of(model, number, pipeline.ann, pipeline.preprocessor)
        with self._lock:
            self.loads += 1
            self._networks[key] = loaded
            self._networks.move_to_end(key)
            while len(self._networks) > self.capacity:
                self._networks.popitem(last=False)
        return loaded

    def _newest_file(self, model_id: str) -> int:
        try:
            names = os.listdir(self.arrays.model_dir(model_id))
        except FileNotFoundError:
            return -1
        numbers = [int(m.group(1)) for m in map(_VERSION_FILE.fullmatch, names) if m]
        return max(numbers, default=-1)

    def _refresh(self, model_id: str) -> ServedModel:
        # Marker token, then stat, then the row: a change after them moves the marker again.
        directory = str(self.arrays.model_dir(model_id))
        token = self._changes.token()
        mtime = self._mtime(directory)
        # The cache serves every tenant: it reads the row whoever asks, and model() checks it.
        acting = current_tenant.set(None)
        try:
            with self.db.session() as session:
                row = ModelRepository(session).get(model_id)
                model = ServedModel.from_row(row) if row is not None else None
        except BaseException:
            with self._lock:
                self._rereads.pop(model_id, None)  # failed: the next request tries again
            raise
        finally:
            current_tenant.reset(acting)
        with self._lock:
            self.row_reads += 1
        if model is None:
            self.forget(model_id)
            raise model_not_found(model_id)
        # A file newer than the current version may belong to a commit still in flight.
        settled = mtime is not None and self._newest_file(model_id) <= model.current_version
        entry = _RowEntry(model, directory, mtime or 0, self.clock(), settled, token)
        with self._lock:
            previous = self._rows.get(model_id)
            self._rows[model_id] = entry
            self._rereads.pop(model_id, None)
            if previous is not None and previous.model.current_version != model.current_version:
                self._drop_versions(model_id, keep=model.current_version)
        return model

    def resolve(self, ref: str) -> str:
        """The id of the model ``ref`` names: an id as is, otherwise a unique model name."""
        if is_valid_id(ref, MODEL):
            return ref
        with self.db.session() as session:
            rows, total = ModelRepository(session).list(limit=2, offset=0, name=ref)
        if total == 0:
            raise NotFound(f"no model with id or name {ref!r}", code="model_not_found")
        if total > 1:
            raise InvalidInput(
                f"{total} models are named {ref!r}; address the model by its id",
                code="ambiguous_model_name",
            )
        return rows[0].id

    # Invalidation ----------------------------------------------------------------------------
    def _drop_versions(self, model_id: str, keep: int | None) -> None:
        for key in [k for k in self._networks if k[0] == model_id and k[1] != keep]:
            del self._networks[key]

    def forget(self, model_id: str) -> None:
        """Drop everything cached about a model (e.g. after it is deleted)."""
        with self._lock:
            self._rows.pop(model_id, None)
            self._rereads.pop(model_id, None)
            self._drop_versions(model_id, keep=None)
