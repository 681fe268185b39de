"""Whether a dataset fits a model: the one check that training and scoring both make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from app.errors import InvalidInput
from app.services.model_tables import check_table_dataset, has_number_rows
from app.storage.tables import DatasetRow


class ModelShape(Protocol):
    """What the check reads of a model (a model row or its serving snapshot)."""

    @property
    def task(self) -> str: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def classes(self) -> Sequence[int | str] | None: ...
    @property
    def input_schema(self) -> tuple[dict[str, Any], ...] | None: ...


def check_compatible(model: ModelShape, dataset: DatasetRow, *, training: bool) -> None:
    """``InvalidInput`` unless ``dataset``'s features (and, for ``training``, its targets) fit
    ``model``.

    Scoring tolerates labels outside the model's classes until it meets them (they are named
    then); training refuses them up front, since the output units could not learn them.
    """
    use = "train on" if training else "be scored on"
    if model.input_schema is not None:
        check_table_dataset(model.input_schema, dataset, use)
    elif not has_number_rows(dataset):
        raise InvalidInput(
            f"dataset {dataset.id} has text, dates or missing values: it needs a model created "
            "from a table dataset, whose preprocessing encodes them",
            code="needs_table_model",
        )
    elif dataset.n_features != model.n_inputs:
        raise InvalidInput(
            f"the dataset has {dataset.n_features} features but the model takes "
            f"{model.n_inputs} inputs",
            code="feature_count_mismatch",
        )
    if (model.task == "regression") != (dataset.task == "regression"):
        raise InvalidInput(
            f"a {model.task} model cannot {use} a {dataset.task} dataset", code="task_mismatch"
        )
    if not training:
        return
    if model.task == "regression":
        if model.n_outputs != 1:
            raise InvalidInput(
                f"the model has {model.n_outputs} outputs but the dataset has one target",
                code="n_outputs_mismatch",
            )
        return
    unknown = [c for c in dataset.classes or [] if c not in (model.classes or [])]
    if unknown:
        raise InvalidInput(
            f"the dataset's labels {unknown[:10]} are not among the model's classes "
            f"{list(model.classes or [])}",
            code="labels_mismatch",
        )
