"""Search spaces: parsing, grid order against scikit-learn's ParameterGrid, seeded samples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from core.search_space import (
    Choice,
    IntRange,
    LogUniform,
    SpaceError,
    grid,
    grid_point,
    grid_size,
    parse_space,
    sample,
)


def test_parse_reads_every_kind() -> None:
    space = parse_space(
        {
            "a": [1, 2],
            "b": {"uniform": [0, 1]},
            "c": {"log_uniform": [1e-3, 1]},
            "d": {"int": [1, 3]},
        }
    )
    assert space["a"] == Choice((1, 2)) and space["c"] == LogUniform(1e-3, 1)
    assert space["d"] == IntRange(1, 3)


@pytest.mark.parametrize(
    ("space", "code"),
    [
        ({}, "empty_space"),
        ({"a": []}, "empty_dimension"),
        ({"a": {"uniform": [1, 0]}}, "invalid_range"),
        ({"a": {"log_uniform": [0, 1]}}, "invalid_range"),
        ({"a": {"int": [0.5, 2]}}, "invalid_range"),
        ({"a": {"normal": [0, 1]}}, "invalid_dimension"),
        ({"a": 3}, "invalid_dimension"),
    ],
)
def test_bad_dimensions_name_their_path(space: dict[str, object], code: str) -> None:
    with pytest.raises(SpaceError) as caught:
        parse_space(space)
    assert caught.value.code == code


def test_grid_order_equals_parameter_grid_on_sorted_keys() -> None:
    raw = {"alpha": [1, 2, 3], "beta": ["x", "y"], "gamma": {"int": [0, 1]}}
    space = parse_space(raw)
    expected = list(ParameterGrid({"alpha": [1, 2, 3], "beta": ["x", "y"], "gamma": [0, 1]}))
    assert grid(space) == expected and grid_size(space) == 12
    assert [grid_point(space, n) for n in range(12)] == expected


def test_grid_refuses_a_continuous_range() -> None:
    with pytest.raises(SpaceError) as caught:
        grid_size(parse_space({"lr": {"uniform": [0, 1]}}))
    assert caught.value.path == "lr" and caught.value.code == "not_enumerable"


def test_samples_follow_the_seed_and_stay_in_range() -> None:
    space = parse_space({"lr": {"log_uniform": [1e-4, 1]}, "n": {"int": [1, 3]}, "c": ["a", "b"]})
    first = [sample(space, np.random.default_rng([7, n])) for n in range(50)]
    again = [sample(space, np.random.default_rng([7, n])) for n in range(50)]
    assert first == again
    assert all(1e-4 <= p["lr"] <= 1 and p["n"] in (1, 2, 3) for p in first)
    assert {p["c"] for p in first} == {"a", "b"}
