"""Resolve a requested architecture into the numbers core's ``ANN`` needs, within the limits.

Output layer by task (the notes' rule): binary -> one ``sigmoid`` unit (two classes); multiclass ->
``softmax`` with one unit per class (three or more); regression -> ``linear`` (or ``relu`` for
non-negative targets) with ``n_outputs`` units (default 1). Anything else is refused with a code.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.errors import InvalidInput, LimitExceeded
from app.services.model_tables import PreprocessingSpec
from app.settings import Settings
from app.storage.tables import DatasetRow

DEFAULT_OUTPUT = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
ALLOWED_OUTPUTS = {
    "binary": ("sigmoid",),
    "multiclass": ("softmax",),
    "regression": ("linear", "relu"),
}


@dataclass(frozen=True)
class HiddenLayerSpec:
    """One hidden layer: its number of units and its activation's name."""

    units: int
    activation: str


@dataclass(frozen=True)
class ModelSpec:
    """What a client asks for when creating a model (already type-checked at the edge)."""

    name: str
    task: str | None = None
    n_inputs: int | None = None
    hidden_layers: Sequence[HiddenLayerSpec] = field(default_factory=tuple)
    output_activation: str | None = None
    classes: Sequence[int | str] | None = None
    n_outputs: int | None = None
    init: str = "auto"
    distribution: str = "normal"
    seed: int = 2
    dtype: str = "float64"
    dataset_id: str | None = None
    description: str = ""
    preprocessing: PreprocessingSpec | None = None
    """Asked-for preprocessing (or derived features); a table dataset gets the defaults."""


@dataclass(frozen=True)
class ResolvedModel:
    """The concrete network: sizes, activations, task and class labels."""

    task: str
    n_inputs: int
    n_outputs: int
    classes: list[int | str] | None
    units: list[int]
    hidden_activations: list[str]
    output_activation: str

    @property
    def n_parameters(self) -> int:
        """Weights plus biases: :math:`\\sum_l (n_{l-1} + 1) n_l`."""
        sizes = [self.n_inputs, *self.units, self.n_outputs]
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(sizes))


def _from_dataset(
    spec: ModelSpec, dataset: DatasetRow | None
) -> tuple[str, int, list[int | str] | None]:
    task, n_inputs = spec.task, spec.n_inputs
    classes = list(spec.classes) if spec.classes is not None else None
    if dataset is None:
        if task is None:
            raise InvalidInput("task is required unless dataset_id is given", code="task_required")
        if n_inputs is None:
            raise InvalidInput(
                "n_inputs is required unless dataset_id is given", code="n_inputs_required"
            )
        return task, n_inputs, classes
    if task is not None and task != dataset.task:
        raise InvalidInput(
            f"task {task} does not match the dataset's task {dataset.task}", code="task_mismatch"
        )
    if n_inputs is not None and n_inputs != dataset.n_features:
        raise InvalidInput(
            f"n_inputs={n_inputs} but the dataset has {dataset.n_features} features",
            code="feature_count_mismatch",
        )
    if classes is not None and dataset.classes is not None and classes != dataset.classes:
        raise InvalidInput("classes differ from the dataset's classes", code="classes_mismatch")
    return dataset.task, dataset.n_features, classes if classes is not None else dataset.classes


def _outputs(
    task: str, classes: list[int | str] | None, n_outputs: int | None
) -> tuple[int, list[int | str] | None]:
    if task == "regression":
        if classes is not None:
            raise InvalidInput("a regression model has no classes", code="classes_not_allowed")
        return (n_outputs or 1), None
    if classes is None:
        if task == "binary":
            classes = [0, 1]
        elif n_outputs is not None:
            classes = list(range(n_outputs))
        else:
            raise InvalidInput(
                "a multiclass model needs classes, n_outputs or a dataset_id",
                code="classes_required",
            )
    if len(set(classes)) != len(classes):
        raise InvalidInput("classes must be distinct", code="duplicate_classes")
    if task == "binary" and len(classes) != 2:
        raise InvalidInput(
            f"task binary needs exactly 2 classes, got {len(classes)}",
            code="labels_do_not_fit_task",
        )
    if task == "multiclass" and len(classes) < 3:
        raise InvalidInput(
            f"task multiclass needs at least 3 classes, got {len(classes)} (use task binary)",
            code="labels_do_not_fit_task",
        )
    n_y = 1 if task == "binary" else len(classes)
    if n_outputs is not None and n_outputs != n_y:
        raise InvalidInput(
            f"n_outputs={n_outputs} but {len(classes)} classes need {n_y} output unit(s)",
            code="n_outputs_mismatch",
        )
    return n_y, classes


def _check_limits(resolved: ResolvedModel, settings: Settings) -> None:
    if len(resolved.units) > settings.max_layers:
        raise LimitExceeded(
            f"{len(resolved.units)} hidden layers exceed max_layers={settings.max_layers}",
            code="too_many_layers",
        )
    for i, units in enumerate([*resolved.units, resolved.n_outputs]):
        if units > settings.max_units:
            raise LimitExceeded(
                f"layer {i + 1} has {units} units, more than max_units={settings.max_units}",
                code="too_many_units",
            )
    if resolved.n_inputs > settings.max_features:
        raise LimitExceeded(
            f"n_inputs={resolved.n_inputs} exceeds max_features={settings.max_features}",
            code="too_many_features",
        )
    if resolved.n_parameters > settings.max_parameters:
        raise LimitExceeded(
            f"{resolved.n_parameters} parameters exceed max_parameters={settings.max_parameters}",
            code="too_many_parameters",
        )


def resolve_model(spec: ModelSpec, dataset: DatasetRow | None, settings: Settings) -> ResolvedModel:
    """The network to build for ``spec`` (and its dataset, if any), or ``InvalidInput``."""
    if spec.n_outputs is not None and spec.n_outputs > settings.max_units:
        # Checked first: n_outputs may otherwise become a list of that many class labels.
        raise LimitExceeded(
            f"n_outputs={spec.n_outputs} exceeds max_units={settings.max_units}",
            code="too_many_units",
        )
    task, n_inputs, classes = _from_dataset(spec, dataset)
    n_outputs, classes = _outputs(task, classes, spec.n_outputs)
    output = spec.output_activation or DEFAULT_OUTPUT[task]
    if output not in ALLOWED_OUTPUTS[task]:
        raise InvalidInput(
            f"output_activation {output} does not fit task {task}; "
            f"use one of {list(ALLOWED_OUTPUTS[task])}",
            code="incompatible_output_activation",
        )
    resolved = ResolvedModel(
        task=task,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
        classes=classes,
        units=[layer.units for layer in spec.hidden_layers],
        hidden_activations=[layer.activation for layer in spec.hidden_layers],
        output_activation=output,
    )
    _check_limits(resolved, settings)
    return resolved
