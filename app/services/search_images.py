"""Images of a search, with an ETag that changes only when a trial ends: each trial's score,
the best trials' cost curves, and the parameters' importance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.services.images import MEDIA_TYPES, ImageFormat, ImagePlan
from app.services.search_importance import ImportanceMethod, param_importances, varied_params
from app.services.searches import SearchView
from app.storage.search_tables import TrialRow
from core.search_plots import Curve, curves_plot, importance_plot, trials_plot

MAX_TOP = 20


def _etag(view: SearchView, what: str, *parts: object) -> str:
    ended = sum(1 for t in view.trials if t.finished_at is not None)
    tail = "-".join(str(p) for p in parts)
    return f'"{view.row.id}-{what}-{view.row.status}-{ended}-{tail}"'


def trials_image(view: SearchView, fmt: ImageFormat) -> ImagePlan:
    """Each scored trial's metric in order and the best so far."""
    scored = [t for t in view.trials if t.status == "succeeded" and t.value is not None]

    def draw() -> bytes:
        return trials_plot(
            [t.number for t in scored],
            [float(t.value or 0.0) for t in scored],
            maximize=view.spec["direction"] == "maximize",
            metric=view.spec["metric"],
            format=fmt,
        )

    return ImagePlan(_etag(view, "trials", fmt), MEDIA_TYPES[fmt], draw, pinned=False)


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict) and "units" in value:
        return f"{value['units']} {value.get('activation', '')}".strip()
    return str(value)


def trial_label(trial: TrialRow, metric: str) -> str:
    """``#3 learning_rate=0.0316 seed=7 (accuracy 0.95)``: the trial's searched settings."""
    settings = " ".join(f"{path}={_value_text(v)}" for path, v in trial.params.items())
    score = f" ({metric} {trial.value:.3g})" if trial.value is not None else ""
    return f"#{trial.number} {settings}{score}"


def cost_curves_image(
    view: SearchView,
    curves: Callable[[list[int]], dict[int, dict[str, Any]]],
    top: int,
    fmt: ImageFormat,
    log_y: bool,
) -> ImagePlan:
    """The ``top`` best trials' training and validation costs overlaid, labelled by settings
    (``curves`` reads the stored curves of trial numbers)."""
    best = view.leaderboard()[:top]

    def draw() -> bytes:
        stored = curves([t.number for t in best])
        drawn = [
            Curve(
                trial_label(t, view.spec["metric"]),
                stored[t.number]["iterations"],
                stored[t.number]["costs"],
                stored[t.number]["val_iterations"],
                stored[t.number]["val_costs"],
            )
            for t in best
            if t.number in stored
        ]
        title = f"Search {view.row.id}: the {len(drawn)} best trials' costs"
        return curves_plot(drawn, title=title, log_y=log_y, format=fmt)

    etag = _etag(view, "curves", top, int(log_y), fmt)
    return ImagePlan(etag, MEDIA_TYPES[fmt], draw, pinned=False)


def importance_image(view: SearchView, method: ImportanceMethod, fmt: ImageFormat) -> ImagePlan:
    """The searched parameters' importance as bars (refusals checked before the plan is
    returned; the importances computed only when the image is drawn)."""
    varied_params(view)

    def draw() -> bytes:
        result = param_importances(view, method)
        pairs = [(item["param"], item["importance"]) for item in result["importances"]]
        return importance_plot(pairs, method=method, format=fmt)

    return ImagePlan(_etag(view, "importance", method, fmt), MEDIA_TYPES[fmt], draw, pinned=False)
