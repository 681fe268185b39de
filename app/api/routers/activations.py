"""``GET /v1/activations``: the activation names the API accepts, read from core's tables.

Its figures, ``/v1/activations/{name}.png``, are served by :mod:`app.api.routers.images`.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.http.parameters import PROBLEMS
from app.api.schemas.activations import ActivationRead, ActivationsRead
from app.services.model_spec import ALLOWED_OUTPUTS
from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS

router = APIRouter(prefix="/v1", tags=["activations"])


def _activations() -> ActivationsRead:
    names = dict.fromkeys((*HIDDEN_ACTIVATIONS, *OUTPUT_ACTIVATIONS))
    return ActivationsRead(
        activations=[
            ActivationRead(
                name=name, hidden=name in HIDDEN_ACTIVATIONS, output=name in OUTPUT_ACTIVATIONS
            )
            for name in names
        ],
        outputs_by_task={
            task: [name for name in allowed if name in OUTPUT_ACTIVATIONS]
            for task, allowed in ALLOWED_OUTPUTS.items()
        },
    )


# No I/O: ``async def`` answers on the event loop instead of FastAPI's thread pool.
@router.get("/activations", responses={status: PROBLEMS[status] for status in (401, 500)})
async def list_activations() -> ActivationsRead:
    """Each activation function, whether hidden layers and outputs may use it, and the output
    activations each task allows (its default first)."""
    return _activations()
