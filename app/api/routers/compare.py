"""Run comparison: ``POST /v1/compare`` and ``GET /v1/models/compare`` (JSON), and
``GET /v1/models/compare.png`` (the runs' cost curves overlaid).

Mounted before the models router, so ``/v1/models/compare`` is not read as a model id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.api.deps import JsonBody, RunComparisonDep
from app.api.http.etags import plan_response
from app.api.http.parameters import IMAGE_RESPONSES, PROBLEMS, ImageFormat
from app.api.schemas.compare import CompareRequest, ComparisonRead
from app.errors import FieldError, InvalidInput
from app.services.run_comparison import RunRef

router = APIRouter(prefix="/v1", tags=["models"])
IdsQuery = Annotated[
    str,
    Query(
        max_length=2000,
        description="Comma-separated model ids, each optionally with a version: "
        "`mdl_a,mdl_b:2` (default: the current version).",
        examples=["mdl_0123456789abcdef,mdl_fedcba9876543210:1"],
    ),
]


def parse_ids(ids: str) -> list[RunRef]:
    """``mdl_a,mdl_b:2`` as run references; 422 naming ``ids`` when one is malformed."""
    refs = []
    for part in (p.strip() for p in ids.split(",")):
        if not part:
            continue
        model_id, _, version = part.partition(":")
        if version and not (version.isascii() and version.isdigit() and len(version) <= 9):
            message = f"{part!r}: a version must be a non-negative integer"
            raise InvalidInput(
                message,
                code="bad_ids",
                errors=[FieldError(field="ids", message=message, code="bad_ids")],
            )
        refs.append(RunRef(model_id, int(version) if version else None))
    return refs


@router.post("/compare", dependencies=[JsonBody], responses=PROBLEMS)
def compare_runs(body: CompareRequest, comparison: RunComparisonDep) -> ComparisonRead:
    """The chosen model versions side by side: settings, scores, time and cost curves, and
    which settings differ (e.g. the notes' ReLU-against-linear exercise in one request)."""
    refs = [RunRef(ref.model_id, ref.version) for ref in body.models]
    return ComparisonRead.model_validate(comparison.compare(refs))


@router.get("/models/compare", responses=PROBLEMS)
def compare_models(ids: IdsQuery, comparison: RunComparisonDep) -> ComparisonRead:
    """As ``POST /v1/compare``, the runs named in the query."""
    return ComparisonRead.model_validate(comparison.compare(parse_ids(ids)))


@router.get("/models/compare.png", response_class=Response, responses=IMAGE_RESPONSES)
def compare_models_image(
    ids: IdsQuery,
    comparison: RunComparisonDep,
    fmt: ImageFormat = "png",
    log_y: Annotated[bool, Query(description="a logarithmic cost axis")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The runs' training (solid) and validation (dashed) costs on one axis; SVG on request."""
    plan = comparison.image(parse_ids(ids), "svg" if fmt == "svg" else "png", log_y)
    return plan_response(plan, if_none_match)
