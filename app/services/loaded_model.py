"""A network ready to serve: the model's row as serving needs it, the loaded parameters and
their inference entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.storage.tables import ModelRow
from core.inference import Inference
from core.network import ANN
from core.pipeline import Preprocessor
from core.preprocessing import LabelCodec


@dataclass(frozen=True)
class ServedModel:
    """A snapshot of what serving needs from a model's row."""

    id: str
    name: str
    task: str
    classes: tuple[int | str, ...] | None
    n_inputs: int
    n_outputs: int
    dtype: str
    current_version: int
    dataset_id: str | None
    init: str
    distribution: str
    codec: LabelCodec | None
    tenant: str
    input_schema: tuple[dict[str, Any], ...] | None = None
    """A table model's input columns (see :mod:`app.services.model_tables`); None: numbers."""

    @classmethod
    def from_row(cls, row: ModelRow) -> ServedModel:
        """The snapshot of a model row."""
        classes = tuple(row.classes) if row.classes is not None else None
        return cls(
            id=row.id,
            name=row.name,
            task=row.task,
            classes=classes,
            n_inputs=row.n_inputs,
            n_outputs=row.n_outputs,
            dtype=row.dtype,
            current_version=row.current_version,
            dataset_id=row.dataset_id,
            init=row.init,
            distribution=row.distribution,
            codec=LabelCodec(classes) if classes is not None else None,
            tenant=row.tenant,
            input_schema=row.input_schema,
        )


@dataclass(frozen=True)
class LoadedModel:
    """A network ready to run: the model snapshot, the version it holds, the network and its
    inference entry point (:class:`core.inference.Inference`)."""

    model: ServedModel
    version: int
    ann: ANN
    inference: Inference

    @classmethod
    def of(
        cls,
        model: ServedModel,
        version: int,
        ann: ANN,
        preprocessor: Preprocessor | None = None,
    ) -> LoadedModel:
        """``ann`` (after ``preprocessor``, for a table model) as ``version`` of ``model``."""
        return cls(model, version, ann, Inference(ann, model.classes, preprocessor))

    @property
    def trained(self) -> bool:
        """False for version 0, the parameters as initialized."""
        return self.version > 0
