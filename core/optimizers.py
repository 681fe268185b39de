r"""Update rules on the flat parameter vector: gradient descent, momentum and Adam.

Each optimizer updates ``theta`` in place from ``grad`` (both shape ``(n_parameters,)``) with a
few array operations and no allocation, and exports its state as plain arrays so a training run
can be checkpointed and resumed bit-identically.

* ``gd`` (the notes): :math:`\theta \leftarrow \theta - \lambda\, d\theta`;
* ``momentum``: :math:`v \leftarrow \mu v - \lambda\, d\theta,\ \theta \leftarrow \theta + v`;
* ``adam`` (Kingma & Ba, as scikit-learn writes it):
  :math:`m \leftarrow \beta_1 m + (1-\beta_1) d\theta,\ v \leftarrow \beta_2 v + (1-\beta_2)
  d\theta^2,\ \theta \leftarrow \theta - \lambda \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
  \frac{m}{\sqrt{v} + \epsilon}`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError

Array = NDArray[Any]


class Optimizer(ABC):
    """An in-place update rule with exportable state."""

    name: ClassVar[str]
    hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, size: int, dtype: np.dtype[Any], learning_rate: float) -> None:
        if not learning_rate > 0.0 or not np.isfinite(learning_rate):
            raise ConfigurationError(
                f"learning rate must be a positive finite number, got {learning_rate!r}."
            )
        self.learning_rate = float(learning_rate)
        self.size = size
        self.dtype = np.dtype(dtype)

    gradient_scale: float = 1.0
    """The factor :meth:`step_scaled` expects on its gradient (1: the plain gradient)."""

    @abstractmethod
    def step(self, theta: Array, grad: Array) -> None:
        """Update ``theta`` in place; ``grad`` may be overwritten."""

    def step_scaled(self, theta: Array, scaled_grad: Array) -> None:
        """:meth:`step` for ``scaled_grad = gradient_scale * grad`` (the caller folded the factor
        into a product it computes anyway)."""
        self.step(theta, scaled_grad)

    def state_arrays(self) -> dict[str, Array]:
        """The optimizer's state as copies of plain arrays (empty when stateless)."""
        return {}

    def load_state_arrays(self, arrays: Mapping[str, Array]) -> None:
        """Restore state exported by :meth:`state_arrays`."""
        expected = set(self.state_arrays())
        if set(arrays) != expected:
            raise ConfigurationError(
                f"{self.name} optimizer state needs {sorted(expected)}, got {sorted(arrays)}."
            )


class GradientDescent(Optimizer):
    """The notes' rule: :math:`\\theta \\leftarrow \\theta - \\lambda\\, d\\theta`."""

    name = "gd"

    def __init__(self, size: int, dtype: np.dtype[Any], learning_rate: float) -> None:
        super().__init__(size, dtype, learning_rate)
        self.gradient_scale = self.learning_rate

    def step(self, theta: Array, grad: Array) -> None:
        np.multiply(grad, self.learning_rate, out=grad)
        np.subtract(theta, grad, out=theta)

    def step_scaled(self, theta: Array, scaled_grad: Array) -> None:
        np.subtract(theta, scaled_grad, out=theta)


class Momentum(Optimizer):
    """Heavy-ball momentum: :math:`v \\leftarrow \\mu v - \\lambda d\\theta`, then add ``v``."""

    name = "momentum"
    hyperparameters = ("momentum",)

    def __init__(
        self, size: int, dtype: np.dtype[Any], learning_rate: float, momentum: float = 0.9
    ) -> None:
        super().__init__(size, dtype, learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ConfigurationError(f"momentum must be in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        self.velocity = np.zeros(size, self.dtype)

    def step(self, theta: Array, grad: Array) -> None:
        np.multiply(self.velocity, self.momentum, out=self.velocity)
        np.multiply(grad, self.learning_rate, out=grad)
        np.subtract(self.velocity, grad, out=self.velocity)
        np.add(theta, self.velocity, out=theta)

    def state_arrays(self) -> dict[str, Array]:
        return {"velocity": self.velocity.copy()}

    def load_state_arrays(self, arrays: Mapping[str, Array]) -> None:
        super().load_state_arrays(arrays)
        np.copyto(self.velocity, arrays["velocity"])


class Adam(Optimizer):
    """Adam with bias correction folded into the step size, as scikit-learn does."""

    name = "adam"
    hyperparameters = ("beta1", "beta2", "epsilon")

    def __init__(
        self,
        size: int,
        dtype: np.dtype[Any],
        learning_rate: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(size, dtype, learning_rate)
        for name, value in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= value < 1.0:
                raise ConfigurationError(f"{name} must be in [0, 1), got {value!r}.")
        if not epsilon > 0.0:
            raise ConfigurationError(f"epsilon must be > 0, got {epsilon!r}.")
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)
        self.t = 0
        self.m = np.zeros(size, self.dtype)
        self.v = np.zeros(size, self.dtype)
        self._tmp = np.empty(size, self.dtype)

    def step(self, theta: Array, grad: Array) -> None:
        self.t += 1
        b1, b2, tmp = self.beta1, self.beta2, self._tmp
        np.multiply(self.m, b1, out=self.m)
        np.multiply(grad, 1.0 - b1, out=tmp)
        np.add(self.m, tmp, out=self.m)
        np.multiply(grad, grad, out=grad)
        np.multiply(grad, 1.0 - b2, out=grad)
        np.multiply(self.v, b2, out=self.v)
        np.add(self.v, grad, out=self.v)
        step_size = self.learning_rate * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        np.sqrt(self.v, out=tmp)
        np.add(tmp, self.epsilon, out=tmp)
        np.divide(self.m, tmp, out=tmp)
        np.multiply(tmp, step_size, out=tmp)
        np.subtract(theta, tmp, out=theta)

    def state_arrays(self) -> dict[str, Array]:
        return {"m": self.m.copy(), "v": self.v.copy(), "t": np.array(self.t, dtype=np.int64)}

    def load_state_arrays(self, arrays: Mapping[str, Array]) -> None:
        super().load_state_arrays(arrays)
        np.copyto(self.m, arrays["m"])
        np.copyto(self.v, arrays["v"])
        self.t = int(arrays["t"])


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "adam": Adam,
}
"""Optimizers by the name the API accepts."""


def make_optimizer(
    name: str,
    size: int,
    dtype: np.dtype[Any],
    learning_rate: float,
    hyperparameters: Mapping[str, float] | None = None,
) -> Optimizer:
    """Build ``OPTIMIZERS[name]``, passing only the hyperparameters that optimizer takes."""
    if name not in OPTIMIZERS:
        raise ConfigurationError(f"optimizer must be one of {list(OPTIMIZERS)}, got {name!r}.")
    cls = OPTIMIZERS[name]
    chosen = {k: v for k, v in (hyperparameters or {}).items() if k in cls.hyperparameters}
    return cls(size, dtype, learning_rate, **chosen)
