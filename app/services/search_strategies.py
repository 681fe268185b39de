"""The parameters of a search's next trial: grid order, seeded random draws, or Optuna's TPE.

Every strategy is a function of the stored request, the trial's number and the trials already
finished, so a scheduler that restarts (or another that takes over) proposes what the first
would have. TPE rebuilds an in-memory Optuna study from the finished trials' rows on every ask,
its sampler seeded with the search's seed and the trial number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.storage.search_tables import TrialRow
from core.search_space import (
    Choice,
    Dimension,
    IntRange,
    LogUniform,
    grid_point,
    parse_space,
    sample,
)

Strategy = Callable[[dict[str, Any], int, Sequence[TrialRow]], dict[str, Any]]


def grid_params(spec: dict[str, Any], number: int, finished: Sequence[TrialRow]) -> dict[str, Any]:
    """Point ``number`` of the grid."""
    return grid_point(parse_space(spec["space"]), number)


def random_params(
    spec: dict[str, Any], number: int, finished: Sequence[TrialRow]
) -> dict[str, Any]:
    """A draw from a generator seeded with ``(seed, number)``: trial n is the same every time."""
    rng = np.random.default_rng([int(spec["seed"]), number])
    return sample(parse_space(spec["space"]), rng)


def _distribution(dimension: Dimension) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    # Choices are proposed by index: Optuna's categories must be plain scalars, and ours may
    # be layer lists.
    if isinstance(dimension, Choice):
        return CategoricalDistribution(tuple(range(len(dimension.values))))
    if isinstance(dimension, IntRange):
        return IntDistribution(dimension.low, dimension.high)
    return FloatDistribution(dimension.low, dimension.high, log=isinstance(dimension, LogUniform))


def _encode(dimension: Dimension, value: Any) -> Any:
    if isinstance(dimension, Choice):
        return next(i for i, choice in enumerate(dimension.values) if choice == value)
    return value


def rebuilt_study(
    spec: dict[str, Any], finished: Sequence[TrialRow], sampler: Any = None
) -> tuple[Any, dict[str, Dimension], dict[str, Any]]:
    """An in-memory Optuna study holding the succeeded trials (choices encoded by index), with
    the search's space and its Optuna distributions."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = parse_space(spec["space"])
    distributions = {path: _distribution(d) for path, d in space.items()}
    study = optuna.create_study(direction=spec["direction"], sampler=sampler)
    for trial in finished:
        if trial.status != "succeeded" or trial.value is None:
            continue
        params = {path: _encode(space[path], trial.params[path]) for path in space}
        study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=distributions, value=float(trial.value)
            )
        )
    return study, space, distributions


def tpe_params(spec: dict[str, Any], number: int, finished: Sequence[TrialRow]) -> dict[str, Any]:
    """Optuna TPE's proposal after the succeeded trials (ask/tell on a rebuilt study)."""
    import optuna

    sampler = optuna.samplers.TPESampler(seed=int(spec["seed"]) * 100_003 + number)
    study, space, distributions = rebuilt_study(spec, finished, sampler)
    asked = study.ask(distributions)
    proposal: dict[str, Any] = {}
    for path, dimension in space.items():
        value = asked.params[path]
        if isinstance(dimension, Choice):
            proposal[path] = dimension.values[int(value)]
        elif isinstance(dimension, IntRange):
            proposal[path] = int(value)
        else:
            proposal[path] = float(value)
    return proposal


STRATEGIES: dict[str, Strategy] = {"grid": grid_params, "random": random_params, "tpe": tpe_params}
