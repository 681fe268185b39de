"""Shapes shared by every resource: problem details, ids, names and the values core accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StrictInt

from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS

# The activations are core's tables themselves, so a name core adds is accepted (and listed in
# OpenAPI) at once; type checkers see them as plain strings.
if TYPE_CHECKING:
    HiddenActivation = str
    OutputActivation = str
else:
    HiddenActivation = Literal[HIDDEN_ACTIVATIONS]
    OutputActivation = Literal[OUTPUT_ACTIVATIONS]

# These mirror core's lookup tables (tests check they stay equal): the API accepts exactly the
# names core knows, and OpenAPI lists them.
Task = Literal["binary", "multiclass", "regression"]
Init = Literal["glorot", "he", "auto"]
Distribution = Literal["normal", "uniform"]
Dtype = Literal["float64", "float32"]
GeneratorKind = Literal["circle", "xor", "gauss", "spiral", "moons", "reg-plane", "reg-gauss"]

# No control characters: names are shown to people, and PostgreSQL text cannot hold NUL.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Seed = Annotated[int, Field(ge=0, le=2_147_483_647)]
Label = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
# Integer class labels are served as int64 (JSON, v2 INT64 tensors): larger ones are refused.
ClassLabel = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)] | Label
TargetValue = StrictInt | FiniteFloat | Label
DatasetId = Annotated[str, Field(pattern=r"^ds_[0-9a-f]{16}$", examples=["ds_0123456789abcdef"])]


class FieldErrorRead(BaseModel):
    """One bad field of a request."""

    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An RFC 9457 problem-details body (``application/problem+json``) with a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldErrorRead] | None = None
    request_id: str | None = None
