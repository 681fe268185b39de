"""The Open Inference Protocol's data plane: what ``/v2`` REST and gRPC both answer.

Each wire format only translates: it decodes its tensors into :class:`InputTensor` and encodes
the :class:`InferenceResult`. Models are looked up by id or (unique) name in the model cache, and
predicted by :func:`app.services.predictions.predict`, the same as ``/v1``. A table model takes
one input per raw column instead (:mod:`app.services.inference_columns`), predicted through its
preprocessing stage as ``/v1`` predicts records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as package_version

from anyio.to_thread import run_sync

from app.errors import InvalidInput, NotFound
from app.ids import MODEL, is_valid_id
from app.services import inference_tensors as tensors
from app.services.inference_columns import column_metadata, column_table
from app.services.inference_tensors import Tensor, TensorData
from app.services.loaded_model import LoadedModel
from app.services.model_cache import ModelCache
from app.services.models import ModelService
from app.services.predictions import Prediction, predict
from app.services.table_predictions import predict_columns
from app.settings import Settings

SERVER_NAME = "annserve"
PLATFORM = "annserve_numpy"
EXTENSIONS = ("binary_tensor_data",)


def version_number(raw: str | None) -> int | None:
    """A version as the protocol names it (a string; empty or None: the current version)."""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise NotFound(f"no model version {raw!r}: versions are whole numbers", code="bad_version")
    return int(raw)


@dataclass(frozen=True)
class InputTensor:
    """One decoded input tensor (``data``: a flat or nested list, or an array)."""

    name: str
    datatype: str
    shape: list[int]
    data: TensorData


@dataclass(frozen=True)
class ServerInfo:
    """The server's name, version and protocol extensions."""

    name: str
    version: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class ModelInfo:
    """A model version's metadata: its versions, platform, inputs and outputs."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[Tensor]
    outputs: list[Tensor]


@dataclass(frozen=True)
class InferenceResult:
    """The answer to one inference request: the version that answered and its outputs."""

    model_name: str
    model_version: str
    trained: bool
    outputs: list[Tensor]
    warnings: tuple[str, ...] = ()
    """A table model's notes: values unseen in training."""


class DataPlane:
    """Health, metadata and inference over one model cache.

    Parameters
    ----------
    cache : ModelCache
        Where loaded networks are looked up by id (and names resolved).
    models : ModelService
        The model rows, for the versions a model has.
    settings : Settings
        Row limit and the batch size above which the forward pass leaves the event loop.
    """

    def __init__(self, cache: ModelCache, models: ModelService, settings: Settings) -> None:
        self.cache = cache
        self.models = models
        self.max_rows = settings.max_predict_rows
        self.inline_rows = settings.predict_inline_rows
        self.info = ServerInfo(SERVER_NAME, package_version("annserve"), EXTENSIONS)

    def ready(self) -> bool:
        """Whether inference can be answered (the database answers)."""
        return bool(self.cache.db.ping())

    def model_metadata(self, ref: str, version: int | None) -> ModelInfo:
        """Inputs and outputs of ``ref``'s version (the current one when None)."""
        model_id = self.cache.resolve(ref)
        model = self.cache.get(model_id, version).model
        versions = [str(v.version) for v in self.models.versions(model_id)]
        schema = model.input_schema
        inputs = tensors.input_metadata(model) if schema is None else column_metadata(schema)
        return ModelInfo(ref, versions, PLATFORM, inputs, tensors.output_metadata(model))

    def model_ready(self, ref: str, version: int | None) -> None:
        """Load ``ref``'s version, raising ``NotFound`` when there is no such model or version."""
        self.cache.get(self.cache.resolve(ref), version)

    async def load(self, ref: str, version: int | None) -> LoadedModel:
        """The network of ``ref``'s version, from memory when nothing changed.

        An id needs no database read; a name does, off the event loop, as does a load.
        """
        model_id = ref if is_valid_id(ref, MODEL) else await run_sync(self.cache.resolve, ref)
        loaded = self.cache.peek(model_id, version)
        if loaded is None:
            loaded = await run_sync(self.cache.get, model_id, version)
        return loaded

    async def infer(
        self,
        ref: str,
        version: int | None,
        inputs: Sequence[InputTensor],
        requested: Sequence[str] | None = None,
    ) -> InferenceResult:
        """Run ``ref``'s version on the one input tensor (a table model: one per column); answer
        the ``requested`` outputs (all of them when None)."""
        loaded = await self.load(ref, version)
        table_model = loaded.inference.preprocessor is not None
        if not table_model and len(inputs) != 1:
            raise InvalidInput(f"the model takes exactly one input tensor, got {len(inputs)}")
        batch = max((t.shape[0] for t in inputs if t.shape), default=0)
        if batch > self.inline_rows:
            outputs, warnings = await run_sync(self._outputs, loaded, inputs, requested)
        else:
            outputs, warnings = self._outputs(loaded, inputs, requested)
        return InferenceResult(ref, str(loaded.version), loaded.trained, outputs, warnings)

    def _outputs(
        self,
        loaded: LoadedModel,
        inputs: Sequence[InputTensor],
        requested: Sequence[str] | None,
    ) -> tuple[list[Tensor], tuple[str, ...]]:
        wanted = tensors.requested_outputs(requested, loaded.model)
        prediction, warnings = self._prediction(loaded, inputs)
        return tensors.output_tensors(prediction, wanted), tuple(warnings)

    def _prediction(
        self, loaded: LoadedModel, inputs: Sequence[InputTensor]
    ) -> tuple[Prediction, list[str]]:
        stage = loaded.inference.preprocessor
        if stage is not None:
            return predict_columns(loaded, column_table(stage, inputs, self.max_rows))
        tensor = inputs[0]
        rows = tensors.input_rows(
            tensor.name,
            tensor.datatype,
            tensor.shape,
            tensor.data,
            loaded.model.n_inputs,
            self.max_rows,
        )
        return predict(loaded, rows), []
