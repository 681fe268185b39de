"""What a training run remembers: its history, its resumable state and its result.

:class:`TrainingState` holds everything needed to continue a run bit-identically (parameters,
optimizer state, iteration, RNG state, history, stopping bookkeeping, elapsed time) and converts to
plain arrays plus JSON metadata (:meth:`TrainingState.to_arrays`), which
:mod:`core.serialization` writes as one ``.npz`` checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError

Array = NDArray[Any]


@dataclass
class History:
    """Recorded costs: ``costs[k]`` at ``iterations[k]``; validation costs likewise."""

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    val_iterations: list[int] = field(default_factory=list)
    val_costs: list[float] = field(default_factory=list)

    def copy(self) -> History:
        """An independent copy."""
        return History(
            list(self.iterations), list(self.costs), list(self.val_iterations), list(self.val_costs)
        )

    def to_arrays(self, prefix: str = "history.") -> dict[str, Array]:
        """The four lists as int64 / float64 arrays (exact, unlike JSON for non-finite values)."""
        return {
            f"{prefix}iterations": np.array(self.iterations, dtype=np.int64),
            f"{prefix}costs": np.array(self.costs, dtype=np.float64),
            f"{prefix}val_iterations": np.array(self.val_iterations, dtype=np.int64),
            f"{prefix}val_costs": np.array(self.val_costs, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str = "history.") -> History:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            [int(i) for i in arrays[f"{prefix}iterations"]],
            [float(c) for c in arrays[f"{prefix}costs"]],
            [int(i) for i in arrays[f"{prefix}val_iterations"]],
            [float(c) for c in arrays[f"{prefix}val_costs"]],
        )


@dataclass
class TrainingState:
    """A resumable snapshot taken at the end of iteration ``iteration``.

    Attributes
    ----------
    iteration : int
        Passes over the data completed.
    parameters : dict of str to ndarray
        Copies of ``W1, b1, ..., WL, bL``.
    optimizer_state : dict of str to ndarray
        The optimizer's arrays (e.g. Adam's ``m``, ``v``, ``t``).
    rng_state : dict
        ``numpy.random.Generator.bit_generator.state`` of the shuffling generator (JSON-able).
    history : History
        Costs recorded so far.
    options : dict
        The :class:`core.training.TrainingOptions` of the run (JSON-able).
    elapsed : float
        Seconds of training so far, across resumptions.
    best_cost, n_no_improvement : float or None, int
        ``tol`` bookkeeping: best recorded cost and recorded costs since it improved.
    best_val_cost, best_iteration, n_bad_validations : float or None, int or None, int
        Early-stopping bookkeeping.
    best_parameters : dict of str to ndarray or None
        Parameters at ``best_iteration`` (restored when early stopping triggers).
    """

    iteration: int
    parameters: dict[str, Array]
    optimizer_state: dict[str, Array]
    rng_state: dict[str, Any]
    history: History
    options: dict[str, Any]
    elapsed: float = 0.0
    best_cost: float | None = None
    n_no_improvement: int = 0
    best_val_cost: float | None = None
    best_iteration: int | None = None
    n_bad_validations: int = 0
    best_parameters: dict[str, Array] | None = None

    def to_arrays(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """Plain arrays and JSON-able metadata; :meth:`from_arrays` inverts it exactly."""
        arrays: dict[str, Array] = {f"parameters.{k}": v for k, v in self.parameters.items()}
        arrays.update({f"optimizer.{k}": v for k, v in self.optimizer_state.items()})
        if self.best_parameters is not None:
            arrays.update({f"best.{k}": v for k, v in self.best_parameters.items()})
        arrays.update(self.history.to_arrays())
        # Floats go through arrays so they round-trip bit-exactly whatever their value.
        scalars = [self.elapsed, self.best_cost, self.best_val_cost]
        arrays["scalars"] = np.array([np.nan if s is None else s for s in scalars], np.float64)
        metadata = {
            "kind": "training_state",
            "iteration": self.iteration,
            "rng_state": self.rng_state,
            "options": self.options,
            "has_best_cost": self.best_cost is not None,
            "has_best_val_cost": self.best_val_cost is not None,
            "n_no_improvement": self.n_no_improvement,
            "best_iteration": self.best_iteration,
            "n_bad_validations": self.n_bad_validations,
            "parameter_names": list(self.parameters),
            "optimizer_names": list(self.optimizer_state),
        }
        return arrays, metadata

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], metadata: Mapping[str, Any]) -> TrainingState:
        """Rebuild a state from :meth:`to_arrays` output."""
        if metadata.get("kind") != "training_state":
            raise ConfigurationError(f"not a training state (kind {metadata.get('kind')!r}).")
        try:
            names = metadata["parameter_names"]
            parameters = {k: np.array(arrays[f"parameters.{k}"]) for k in names}
            optimizer_state = {
                k: np.array(arrays[f"optimizer.{k}"]) for k in metadata["optimizer_names"]
            }
            best = None
            if f"best.{names[0]}" in arrays:
                best = {k: np.array(arrays[f"best.{k}"]) for k in names}
            elapsed, best_cost, best_val = (float(s) for s in arrays["scalars"])
            return cls(
                iteration=int(metadata["iteration"]),
                parameters=parameters,
                optimizer_state=optimizer_state,
                rng_state=dict(metadata["rng_state"]),
                history=History.from_arrays(arrays),
                options=dict(metadata["options"]),
                elapsed=elapsed,
                best_cost=best_cost if metadata["has_best_cost"] else None,
                n_no_improvement=int(metadata["n_no_improvement"]),
                best_val_cost=best_val if metadata["has_best_val_cost"] else None,
                best_iteration=metadata["best_iteration"],
                n_bad_validations=int(metadata["n_bad_validations"]),
                best_parameters=best,
            )
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"training state is incomplete or corrupt: {exc!r}.") from exc


@dataclass
class TrainingResult:
    """How a run ended: why it stopped, its history, and a state to resume from."""

    stop_reason: str
    n_iter: int
    """Passes over the data completed (across resumptions)."""
    history: History
    final_cost: float
    """Cost of the final parameters on the training data (including the L2 term)."""
    elapsed: float
    best_iteration: int | None
    best_val_cost: float | None
    state: TrainingState

    @property
    def costs(self) -> list[float]:
        """Shortcut for ``history.costs``."""
        return self.history.costs


@dataclass
class Progress:
    """What a callback sees every ``callback_every`` iterations.

    ``cost`` and ``val_cost`` are the latest recorded values (None before the first record).
    :meth:`state` builds the full :class:`TrainingState` only when called, so callbacks that
    skip a checkpoint pay nothing.
    """

    iteration: int
    n_iter: int
    cost: float | None
    val_cost: float | None
    elapsed: float
    _state: Any = field(repr=False, default=None)

    def state(self) -> TrainingState:
        """The full resumable state at this iteration."""
        snapshot: TrainingState = self._state()
        return snapshot
