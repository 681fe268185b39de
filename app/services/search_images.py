"""Images of a search, with an ETag that changes only when a trial ends."""

from __future__ import annotations

from app.services.images import MEDIA_TYPES, ImageFormat, ImagePlan
from app.services.searches import SearchView
from core.search_plots import trials_plot


def trials_image(view: SearchView, fmt: ImageFormat) -> ImagePlan:
    """Each scored trial's metric in order and the best so far."""
    scored = [t for t in view.trials if t.status == "succeeded" and t.value is not None]
    ended = sum(1 for t in view.trials if t.finished_at is not None)
    etag = f'"{view.row.id}-trials-{view.row.status}-{ended}-{fmt}"'

    def draw() -> bytes:
        return trials_plot(
            [t.number for t in scored],
            [float(t.value or 0.0) for t in scored],
            maximize=view.spec["direction"] == "maximize",
            metric=view.spec["metric"],
            format=fmt,
        )

    return ImagePlan(etag, MEDIA_TYPES[fmt], draw, pinned=False)
