r"""Weight initialization: Glorot and He, normal or uniform, with explicit randomness.

The notes' table: Glorot (tanh, sigmoid, softmax) draws with variance :math:`1/fan_{avg}`,
:math:`fan_{avg} = (fan_{in} + fan_{out})/2`; He (ReLU and its variants: leaky ReLU, ELU) with
variance :math:`2/fan_{in}`. ``uniform`` draws from :math:`U(-a, a)` with
:math:`a = \sqrt{3\sigma^2}`, which has the same variance. Biases start at zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike, NDArray

from core.activations import ACTIVATIONS
from core.errors import ConfigurationError

INITS: tuple[str, ...] = ("glorot", "he", "auto")
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")


def glorot_variance(fan_in: int, fan_out: int) -> float:
    """:math:`1 / fan_{avg}` with :math:`fan_{avg} = (fan_{in} + fan_{out}) / 2`."""
    return 2.0 / (fan_in + fan_out)


def he_variance(fan_in: int, fan_out: int) -> float:
    """:math:`2 / fan_{in}` (``fan_out`` is ignored; same signature as Glorot)."""
    return 2.0 / fan_in


VARIANCES = {"glorot": glorot_variance, "he": he_variance}


def resolve_init(init: str, activation: str) -> str:
    """The concrete scheme for a layer: ``auto`` is the activation's own (He for the ReLU family,
    Glorot otherwise)."""
    if init not in INITS:
        raise ConfigurationError(f"init must be one of {list(INITS)}, got {init!r}.")
    if init == "auto":
        return ACTIVATIONS[activation].auto_init
    return init


def layer_variance(init: str, activation: str, fan_in: int, fan_out: int) -> float:
    """Variance of the weights of one layer whose activation is ``activation``."""
    return VARIANCES[resolve_init(init, activation)](fan_in, fan_out)


def draw_weights(
    shape: tuple[int, int],
    variance: float,
    distribution: str,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float64,
) -> NDArray[np.floating]:
    """Draw a ``(fan_out, fan_in)`` weight matrix with mean 0 and the given variance."""
    if distribution == "normal":
        W = rng.standard_normal(shape) * np.sqrt(variance)
    elif distribution == "uniform":
        limit = np.sqrt(3.0 * variance)
        W = rng.uniform(-limit, limit, size=shape)
    else:
        raise ConfigurationError(
            f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}."
        )
    return W.astype(dtype, copy=False)


def initialize_parameters(
    layer_sizes: Sequence[int],
    activations: Sequence[str],
    init: str = "glorot",
    distribution: str = "normal",
    rng: np.random.Generator | None = None,
    dtype: DTypeLike = np.float64,
) -> dict[str, NDArray[np.floating]]:
    """Parameters ``W1, b1, ..., WL, bL`` for ``layer_sizes = (n_x, n_h1, ..., n_y)``.

    ``activations`` has one name per layer after the input (hidden layers then output); ``Wl`` has
    shape ``(n_l, n_{l-1})`` and ``bl`` shape ``(n_l, 1)``, as in the notes.
    """
    if len(activations) != len(layer_sizes) - 1:
        raise ConfigurationError(
            f"need {len(layer_sizes) - 1} activations for layer sizes {list(layer_sizes)}, "
            f"got {len(activations)}."
        )
    rng = rng if rng is not None else np.random.default_rng(2)
    parameters: dict[str, NDArray[np.floating]] = {}
    for l, activation in enumerate(activations, start=1):
        fan_in, fan_out = layer_sizes[l - 1], layer_sizes[l]
        variance = layer_variance(init, activation, fan_in, fan_out)
        parameters[f"W{l}"] = draw_weights((fan_out, fan_in), variance, distribution, rng, dtype)
        parameters[f"b{l}"] = np.zeros((fan_out, 1), dtype=dtype)
    return parameters
