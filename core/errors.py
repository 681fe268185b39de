"""Errors raised by the engine; the service maps each class to one problem+json code."""

from __future__ import annotations


class CoreError(ValueError):
    """Base class of every error the engine raises on bad input or failed training."""


class ShapeError(CoreError):
    """An array does not have the shape the network expects."""


class ConfigurationError(CoreError):
    """An architecture or training option is unknown, out of range or incompatible."""


class DivergenceError(CoreError):
    """Training produced a non-finite cost or parameter.

    Carries the iteration at which it was detected and the last cost seen, so callers can report
    it (and suggest a lower learning rate).
    """

    def __init__(self, iteration: int, cost: float | None = None) -> None:
        self.iteration = iteration
        self.cost = cost
        super().__init__(
            f"training diverged at iteration {iteration} (cost {cost}); try a lower learning rate"
        )


class StopTraining(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by a training callback to stop training cleanly (stop reason ``callback``)."""
