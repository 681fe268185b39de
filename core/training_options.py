"""Hyperparameters of a training run, validated once and JSON-able."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from core.errors import ConfigurationError
from core.optimizers import OPTIMIZERS


@dataclass(frozen=True)
class TrainingOptions:
    """Hyperparameters of one run; every field is JSON-able (see :meth:`to_dict`)."""

    n_iter: int = 10000
    learning_rate: float = 0.1
    optimizer: str = "gd"
    batch_size: int | None = None
    shuffle: bool = True
    seed: int = 0
    l2: float = 0.0
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    tol: float | None = None
    n_iter_no_change: int = 10
    patience: int = 10
    min_delta: float = 0.0
    max_seconds: float | None = None
    record_every: int = 1
    callback_every: int = 1

    @classmethod
    def create(cls, **options: Any) -> TrainingOptions:
        """Build from keywords, naming any unknown one."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(f"unknown training options {unknown}; known: {sorted(known)}.")
        return cls(**options)

    def __post_init__(self) -> None:
        def positive_int(name: str, value: object) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")

        for name in ("n_iter", "n_iter_no_change", "patience", "record_every", "callback_every"):
            positive_int(name, getattr(self, name))
        if self.batch_size is not None:
            positive_int("batch_size", self.batch_size)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigurationError(
                f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}."
            )
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigurationError(f"learning_rate must be > 0, got {self.learning_rate!r}.")
        for name in ("l2", "min_delta"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ConfigurationError(f"{name} must be >= 0, got {value!r}.")
        if self.tol is not None and not (np.isfinite(self.tol) and self.tol >= 0):
            raise ConfigurationError(f"tol must be >= 0 or None, got {self.tol!r}.")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ConfigurationError(f"max_seconds must be > 0 or None, got {self.max_seconds!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigurationError(f"seed must be a non-negative integer, got {self.seed!r}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; :meth:`create` inverts it."""
        return asdict(self)
