"""Cost-curve images of jobs and models, with an ETag that changes only when the curve does."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from app.errors import InvalidInput, NotFound, model_not_found
from app.ids import MODEL, validate_id
from app.services.images import ImagePlan
from app.services.jobs import JobService
from app.storage.job_queue import JobQueue
from app.storage.repositories import ModelRepository
from app.storage.tables import JobRow
from core.errors import CoreError
from core.plots import cost_curve

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
MAX_POINTS = 4000


def thin(
    iterations: list[int], costs: list[float], limit: int = MAX_POINTS
) -> tuple[list[int], list[float]]:
    """At most about ``limit`` evenly spaced points, always keeping the last one.

    A figure a few hundred pixels wide cannot show more, and drawing a million points would
    take seconds in the API process.
    """
    if len(iterations) <= limit:
        return iterations, costs
    step = -(-len(iterations) // limit)
    keep = list(range(0, len(iterations), step))
    if keep[-1] != len(iterations) - 1:
        keep.append(len(iterations) - 1)
    return [iterations[k] for k in keep], [costs[k] for k in keep]


def thinned_curve(queue: JobQueue, job_id: str, points: int) -> dict[str, list[Any]]:
    """The job's recorded costs as JSON: at most about ``points`` points of each series, a
    non-finite cost as None (``iterations``, ``costs``, ``val_iterations``, ``val_costs``)."""
    its, costs, val_its, val_costs = queue.history(job_id)
    its, costs = thin(its, costs, points)
    val_its, val_costs = thin(val_its, val_costs, points)
    return {
        "iterations": its,
        "costs": [c if math.isfinite(c) else None for c in costs],
        "val_iterations": val_its,
        "val_costs": [c if math.isfinite(c) else None for c in val_costs],
    }


def _etag(job: JobRow, fmt: str, log_y: bool) -> str:
    iteration = (job.progress or {}).get("iteration", 0)
    return f'"{job.id}-{job.status}-{iteration}-{fmt}-{int(log_y)}"'


class CostCurves:
    """Training and validation cost against the iteration, from a job's recorded history."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def for_job(self, job_id: str, fmt: str = "png", log_y: bool = False) -> ImagePlan:
        """The job's cost curve (also while it runs), drawn only when the plan is rendered."""
        job = self.jobs.get(job_id)
        if fmt not in MEDIA_TYPES:
            raise InvalidInput(f"format must be one of {list(MEDIA_TYPES)}", code="bad_format")
        return ImagePlan(
            _etag(job, fmt, log_y), MEDIA_TYPES[fmt], partial(self._draw, job, fmt, log_y), False
        )

    def _draw(self, job: JobRow, fmt: str, log_y: bool) -> bytes:
        job_id = job.id
        with self.jobs.db.session() as session:
            its, costs, val_its, val_costs = JobQueue(session).history(job_id)
        its, costs = thin(its, costs)
        val_its, val_costs = thin(val_its, val_costs)
        try:
            data = cost_curve(
                its,
                costs,
                val_its or None,
                val_costs or None,
                log_y=log_y,
                title=f"Cost of job {job.id} ({job.status})",
                format=fmt,
            )
        except CoreError as error:
            raise InvalidInput(str(error), code="bad_image_request") from error
        return data

    def for_model(
        self,
        model_id: str,
        fmt: str = "png",
        log_y: bool = False,
    ) -> ImagePlan:
        """The cost curve of the job that produced the model's current version."""
        validate_id(model_id, MODEL)
        with self.jobs.db.session() as session:
            models = ModelRepository(session)
            model = models.get(model_id)
            if model is None:
                raise model_not_found(model_id)
            version = models.get_version(model_id, model.current_version)
        if version is None or version.job_id is None:
            raise NotFound(
                f"version {model.current_version} of model {model_id} was not produced by "
                "training, so it has no cost curve",
                code="no_training",
            )
        return self.for_job(version.job_id, fmt, log_y)
