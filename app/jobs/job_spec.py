"""A training job as the service stores it: core's :class:`~core.training.TrainingOptions` plus
where the job's validation rows come from and which version it starts from.

The request is converted into a :class:`JobSpec` once, at the API edge; the job row stores
:meth:`JobSpec.to_dict` and the runner hands :attr:`JobSpec.options` to ``core.training.train``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.training_options import TrainingOptions

NO_EARLY_STOPPING = 2**31 - 1
"""The patience of a job without early stopping: no run can exhaust it (core always watches the
validation cost when there is one)."""

# The options a job exposes; the others keep core's defaults.
_OPTION_FIELDS = (
    "n_iter",
    "learning_rate",
    "batch_size",
    "optimizer",
    "l2",
    "tol",
    "max_seconds",
    "record_every",
    "seed",
)


@dataclass(frozen=True)
class JobSpec:
    """What ``POST /v1/models/{id}/train`` asked for, after validation.

    ``validation`` is ``"test"`` (the dataset's stored test split), a fraction of the training
    rows carved out with the options' seed, one fold of a k-fold split of the training rows
    (``{"folds": k, "fold": i, "stratified": bool, "seed": s}``), or None. ``early_stopping``
    says whether the options' ``patience`` and ``min_delta`` apply. ``base_version`` is the
    version training starts from (the current one with ``warm_start``, else 0, the
    initialization), fixed at submission so a resumed job starts from the same parameters.
    """

    options: TrainingOptions
    validation: str | float | dict[str, Any] | None = None
    early_stopping: bool = False
    warm_start: bool = False
    base_version: int = 0

    @classmethod
    def create(
        cls,
        *,
        validation: str | float | dict[str, Any] | None = None,
        patience: int | None = None,
        min_delta: float = 0.0,
        warm_start: bool = False,
        **options: Any,
    ) -> JobSpec:
        """A spec from the request's fields; ``patience`` None means no early stopping."""
        stopping = patience is not None
        core_options = TrainingOptions.create(
            **options,
            patience=patience if stopping else NO_EARLY_STOPPING,
            min_delta=min_delta if stopping else 0.0,
        )
        return cls(core_options, validation, stopping, warm_start)

    def with_options(self, **changes: Any) -> JobSpec:
        """A copy whose options have ``changes``."""
        return replace(self, options=replace(self.options, **changes))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``jobs.params`` holds (and clients read)."""
        options = self.options
        data: dict[str, Any] = {name: getattr(options, name) for name in _OPTION_FIELDS}
        data["validation"] = self.validation
        data["early_stopping"] = (
            {"patience": options.patience, "min_delta": options.min_delta}
            if self.early_stopping
            else None
        )
        data["warm_start"] = self.warm_start
        data["base_version"] = self.base_version
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        """Inverse of :meth:`to_dict`."""
        stopping = data.get("early_stopping")
        spec = cls.create(
            validation=data.get("validation"),
            patience=stopping["patience"] if stopping else None,
            min_delta=stopping.get("min_delta", 0.0) if stopping else 0.0,
            warm_start=data.get("warm_start", False),
            **{name: data[name] for name in _OPTION_FIELDS if name in data},
        )
        return replace(spec, base_version=data.get("base_version", 0))
