"""Runs side by side: the settings, scores and cost curves of chosen model versions (the notes'
"ReLU against linear" exercise as one request).

A run is a model version produced by training: its model gives the architecture, the job that
produced it gives the training options, the scores on its training and validation rows, the
time and the recorded cost history. A version not produced by training (an untrained model,
imported parameters) is listed with its settings and no scores or curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput, NotFound, model_not_found
from app.ids import MODEL, validate_id
from app.services.images import MEDIA_TYPES, ImageFormat, ImagePlan, etag_for
from app.services.job_images import thinned_curve
from app.services.searches import finite_or_none
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import JobRepository, ModelRepository
from app.storage.tables import JobRow, ModelRow, ModelVersionRow
from core.search_plots import Curve, curves_plot

MAX_RUNS = 10
CURVE_POINTS = 200
TRAINING_SETTINGS = ("optimizer", "learning_rate", "n_iter", "batch_size", "l2", "seed")


@dataclass(frozen=True)
class RunRef:
    """A model and one of its versions (None: the current one)."""

    model_id: str
    version: int | None = None


@dataclass(frozen=True)
class Run:
    """What is known of one run."""

    model: ModelRow
    version: ModelVersionRow | None
    job: JobRow | None
    curve: dict[str, list[Any]] | None

    @property
    def label(self) -> str:
        layers = "-".join(
            f"{layer['units']}{layer['activation'][:4]}"
            for layer in self.model.architecture.get("hidden_layers", [])
        )
        version = self.version.version if self.version is not None else 0
        return f"{self.model.name} v{version} [{layers or 'no hidden'}]"


def check_refs(refs: list[RunRef]) -> None:
    """422 for an empty list, too many runs, or one run named twice."""
    if not refs:
        raise InvalidInput("name at least one model to compare", code="no_runs")
    if len(refs) > MAX_RUNS:
        raise InvalidInput(f"at most {MAX_RUNS} runs can be compared", code="too_many_runs")
    if len(set(refs)) != len(refs):
        raise InvalidInput("a run is named twice", code="duplicate_runs")
    for ref in refs:
        validate_id(ref.model_id, MODEL)


def _settings(run: Run) -> dict[str, Any]:
    arch = run.model.architecture
    settings: dict[str, Any] = {
        "hidden_layers": arch.get("hidden_layers", []),
        "output_activation": arch.get("output_activation"),
        "init": run.model.init,
        "distribution": run.model.distribution,
        "init_seed": run.model.seed,
    }
    params = run.job.params if run.job is not None else {}
    settings |= {name: params.get(name) for name in TRAINING_SETTINGS}
    settings["training_seed"] = settings.pop("seed")
    return settings


def _body(run: Run) -> dict[str, Any]:
    result = (run.job.result or {}) if run.job is not None else {}
    return {
        "model_id": run.model.id,
        "name": run.model.name,
        "task": run.model.task,
        "version": run.version.version if run.version is not None else 0,
        "job_id": run.job.id if run.job is not None else None,
        "trained": run.job is not None,
        "settings": _settings(run),
        "train": result.get("train"),
        "validation": result.get("validation"),
        "final_cost": finite_or_none(result.get("final_cost")),
        "best_val_cost": finite_or_none(result.get("best_val_cost")),
        "iterations": result.get("n_iter"),
        "stop_reason": result.get("stop_reason"),
        "training_seconds": finite_or_none(result.get("elapsed_s")),
        "curve": run.curve,
    }


def _differences(bodies: list[dict[str, Any]]) -> list[str]:
    names = list(bodies[0]["settings"])
    return [n for n in names if len({repr(b["settings"].get(n)) for b in bodies}) > 1]


class RunComparison:
    """Reads the runs named by model and version."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _run(self, ref: RunRef) -> Run:
        with self.db.session() as session:
            models = ModelRepository(session)
            model = models.get(ref.model_id)
            if model is None:
                raise model_not_found(ref.model_id)
            number = model.current_version if ref.version is None else ref.version
            version = models.get_version(ref.model_id, number)
            if version is None and number != 0:
                raise NotFound(
                    f"model {ref.model_id} has no version {number}", code="version_not_found"
                )
            job = None
            if version is not None and version.job_id is not None:
                job = JobRepository(session).get(version.job_id)
            curve = None
            if job is not None:
                curve = thinned_curve(JobQueue(session), job.id, CURVE_POINTS)
        return Run(model, version, job, curve)

    def runs(self, refs: list[RunRef]) -> list[Run]:
        """The runs, in the order asked; 404 for an unknown (or another tenant's) model."""
        check_refs(refs)
        return [self._run(ref) for ref in refs]

    def compare(self, refs: list[RunRef]) -> dict[str, Any]:
        """``{runs: [...], differences: [setting names that differ]}``."""
        bodies = [_body(run) for run in self.runs(refs)]
        return {"runs": bodies, "differences": _differences(bodies)}

    def image(self, refs: list[RunRef], fmt: ImageFormat, log_y: bool) -> ImagePlan:
        """The runs' cost curves overlaid; the ETag names each run's job and its progress."""
        runs = self.runs(refs)
        state = [
            (r.model.id, r.job.id if r.job else None, (r.job.progress or {}) if r.job else None)
            for r in runs
        ]

        def draw() -> bytes:
            curves = [
                Curve(
                    run.label,
                    run.curve["iterations"],
                    run.curve["costs"],
                    run.curve["val_iterations"],
                    run.curve["val_costs"],
                )
                for run in runs
                if run.curve is not None
            ]
            return curves_plot(curves, title="Cost of the compared runs", log_y=log_y, format=fmt)

        return ImagePlan(
            etag_for("compare", state, fmt, log_y), MEDIA_TYPES[fmt], draw, pinned=False
        )
