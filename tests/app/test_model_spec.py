"""Model resolution rules: output layer by task, classes, dataset stand-ins, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import InvalidInput, LimitExceeded, ServiceError
from app.services.model_spec import HiddenLayerSpec, ModelSpec, resolve_model
from app.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, max_layers=2, max_units=8, max_parameters=100)


def test_defaults_follow_the_notes(settings: Settings) -> None:
    layers = [HiddenLayerSpec(4, "tanh")]
    binary = resolve_model(ModelSpec("b", "binary", 2, layers), None, settings)
    assert (binary.output_activation, binary.n_outputs, binary.classes) == ("sigmoid", 1, [0, 1])
    assert binary.n_parameters == 17
    multi = resolve_model(ModelSpec("m", "multiclass", 2, layers, n_outputs=3), None, settings)
    assert (multi.output_activation, multi.n_outputs, multi.classes) == ("softmax", 3, [0, 1, 2])
    regression = resolve_model(ModelSpec("r", "regression", 2, layers), None, settings)
    assert (regression.output_activation, regression.n_outputs) == ("linear", 1)


@pytest.mark.parametrize(
    ("spec", "error", "code"),
    [
        (
            ModelSpec("x", "binary", 2, [HiddenLayerSpec(4, "tanh")] * 3),
            LimitExceeded,
            "too_many_layers",
        ),
        (
            ModelSpec("x", "binary", 2, [HiddenLayerSpec(9, "tanh")]),
            LimitExceeded,
            "too_many_units",
        ),
        (
            ModelSpec("x", "binary", 20, [HiddenLayerSpec(8, "tanh")]),
            LimitExceeded,
            "too_many_parameters",
        ),
        (
            ModelSpec("x", "multiclass", 2, classes=["a", "a", "b"]),
            InvalidInput,
            "duplicate_classes",
        ),
        (
            ModelSpec("x", "regression", 2, output_activation="softmax"),
            InvalidInput,
            "incompatible_output_activation",
        ),
    ],
)
def test_refusals(
    settings: Settings, spec: ModelSpec, error: type[ServiceError], code: str
) -> None:
    with pytest.raises(error) as info:
        resolve_model(spec, None, settings)
    assert info.value.code == code
