"""A training job's hyperparameters as stored in ``jobs.params`` (JSON), and their core options."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.training import TrainingOptions

# Early stopping off: a patience no run can exhaust (core always watches validation costs).
NO_EARLY_STOPPING = 2**31 - 1


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the validation cost has not improved by ``min_delta`` for ``patience`` records."""

    patience: int
    min_delta: float = 0.0


@dataclass(frozen=True)
class TrainParams:
    """What ``POST /v1/models/{id}/train`` asked for, after validation.

    ``validation`` is ``"test"`` (the dataset's stored test split), a fraction of the training
    rows carved out with ``seed``, or None. ``base_version`` is the version training starts from
    (the current one with ``warm_start``, else 0, the initialization), fixed at submission so a
    resumed job starts from the same parameters.
    """

    n_iter: int = 10000
    learning_rate: float = 0.1
    batch_size: int | None = None
    optimizer: str = "gd"
    l2: float = 0.0
    validation: str | float | None = None
    early_stopping: EarlyStopping | None = None
    tol: float | None = None
    max_seconds: float | None = None
    record_every: int = 1
    seed: int = 0
    warm_start: bool = False
    base_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what ``jobs.params`` holds)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainParams:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        stopping = values.pop("early_stopping", None)
        return cls(**values, early_stopping=EarlyStopping(**stopping) if stopping else None)

    def options(self, callback_every: int = 1) -> TrainingOptions:
        """Core's options for this job; ``callback_every`` only changes how often it reports."""
        stopping = self.early_stopping
        return TrainingOptions.create(
            n_iter=self.n_iter,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            batch_size=self.batch_size,
            seed=self.seed,
            l2=self.l2,
            tol=self.tol,
            patience=stopping.patience if stopping else NO_EARLY_STOPPING,
            min_delta=stopping.min_delta if stopping else 0.0,
            max_seconds=self.max_seconds,
            record_every=self.record_every,
            callback_every=callback_every,
        )
