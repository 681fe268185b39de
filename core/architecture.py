"""The shape of a network: layer sizes, activations, initialization and dtype, validated once.

:class:`Architecture` is immutable and JSON-able (:meth:`Architecture.to_dict`), so it is what
the service stores next to the parameters. :class:`ParameterLayout` places every ``W`` and ``b``
in one flat vector, so optimizers update all parameters with a few array operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from core.errors import ConfigurationError
from core.initializers import DISTRIBUTIONS, INITS

DTYPES: tuple[str, ...] = ("float64", "float32")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {list(allowed)}, got {value!r}.")
    return str(value)


@dataclass(frozen=True)
class Architecture:
    """A validated multi-layer perceptron description (the notes' ``n_x, n_h, n_y`` generalized).

    Build it with :meth:`build`, which checks every field and raises
    :class:`~core.errors.ConfigurationError` naming the bad value.
    """

    n_x: int
    n_h: tuple[int, ...]
    n_y: int
    hidden_activations: tuple[str, ...]
    output_activation: str
    init: str
    distribution: str
    seed: int | None
    dtype: str

    @classmethod
    def build(
        cls,
        n_x: int,
        n_h: int | Sequence[int],
        n_y: int,
        *,
        hidden_activation: str | Sequence[str] = "tanh",
        output_activation: str = "sigmoid",
        init: str = "auto",
        distribution: str = "normal",
        seed: int | None = 2,
        dtype: str | type[np.floating[Any]] | np.dtype[Any] = "float64",
    ) -> Architecture:
        """Validate and normalize the constructor arguments of :class:`core.network.ANN`."""
        n_x = _positive_int("n_x", n_x)
        n_y = _positive_int("n_y", n_y)
        sizes = (n_h,) if isinstance(n_h, int | np.integer) else tuple(n_h)
        hidden = tuple(_positive_int("each hidden layer size in n_h", n) for n in sizes)
        if isinstance(hidden_activation, str):
            activations = (hidden_activation,) * len(hidden)
        else:
            activations = tuple(hidden_activation)
        if len(activations) != len(hidden):
            raise ConfigurationError(
                f"hidden_activation needs one name per hidden layer ({len(hidden)}), "
                f"got {list(activations)}."
            )
        for name in activations:
            _choice("hidden_activation", name, HIDDEN_ACTIVATIONS)
        _choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
        if output_activation == "softmax" and n_y < 2:
            raise ConfigurationError(
                f"softmax output needs n_y >= 2 (one unit per class), got n_y={n_y}."
            )
        _choice("init", init, INITS)
        _choice("distribution", distribution, DISTRIBUTIONS)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ConfigurationError(f"seed must be a non-negative integer, got {seed!r}.")
        try:
            dtype_name = np.dtype(dtype).name
        except TypeError as exc:
            raise ConfigurationError(
                f"dtype must be one of {list(DTYPES)}, got {dtype!r}."
            ) from exc
        _choice("dtype", dtype_name, DTYPES)
        return cls(
            n_x, hidden, n_y, activations, output_activation, init, distribution, seed, dtype_name
        )

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_x, n_h1, ..., n_y)``."""
        return (self.n_x, *self.n_h, self.n_y)

    @property
    def activations(self) -> tuple[str, ...]:
        """One activation per layer after the input: hidden layers, then the output."""
        return (*self.hidden_activations, self.output_activation)

    @property
    def n_layers(self) -> int:
        """``L``, the number of layers with parameters."""
        return len(self.n_h) + 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description; :meth:`from_dict` inverts it."""
        return {
            "n_x": self.n_x,
            "n_h": list(self.n_h),
            "n_y": self.n_y,
            "hidden_activations": list(self.hidden_activations),
            "output_activation": self.output_activation,
            "init": self.init,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Architecture:
        """Rebuild (and re-validate) an architecture from :meth:`to_dict` output."""
        try:
            return cls.build(
                data["n_x"],
                list(data["n_h"]),
                data["n_y"],
                hidden_activation=list(data["hidden_activations"]),
                output_activation=data["output_activation"],
                init=data.get("init", "auto"),
                distribution=data.get("distribution", "normal"),
                seed=data.get("seed"),
                dtype=data.get("dtype", "float64"),
            )
        except KeyError as exc:
            raise ConfigurationError(f"architecture is missing the field {exc.args[0]!r}.") from exc


class ParameterLayout:
    """Where ``W1, b1, ..., WL, bL`` live inside one flat parameter vector.

    Layer ``l`` occupies one C-contiguous block of shape ``(n_l, n_{l-1} + 1)``: ``Wl`` in its
    first ``n_{l-1}`` columns and ``bl`` in the last. With a row of ones appended to the layer's
    input, :math:`[W\\,|\\,b] \\cdot [A; 1] = W A + b`, so one matrix product gives ``Z`` and,
    in the backward pass, ``[dW | db]`` together. ``Wl`` (shape ``(n_l, n_{l-1})``) and ``bl``
    (shape ``(n_l, 1)``) are strided views of that block.
    """

    def __init__(self, layer_sizes: Sequence[int]) -> None:
        self.block_shapes = [
            (layer_sizes[l], layer_sizes[l - 1] + 1) for l in range(1, len(layer_sizes))
        ]
        self.shapes: dict[str, tuple[int, int]] = {}
        for l in range(1, len(layer_sizes)):
            self.shapes[f"W{l}"] = (layer_sizes[l], layer_sizes[l - 1])
            self.shapes[f"b{l}"] = (layer_sizes[l], 1)
        self.block_slices: list[slice] = []
        offset = 0
        for rows, cols in self.block_shapes:
            self.block_slices.append(slice(offset, offset + rows * cols))
            offset += rows * cols
        self.size = offset

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in order: ``W1, b1, W2, b2, ...``."""
        return tuple(self.shapes)

    def blocks(self, flat: NDArray[Any]) -> list[NDArray[Any]]:
        """The ``[Wl | bl]`` blocks, shape ``(n_l, n_{l-1} + 1)``, as views into ``flat``."""
        return [
            flat[s].reshape(shape)
            for s, shape in zip(self.block_slices, self.block_shapes, strict=True)
        ]

    def views(self, flat: NDArray[Any]) -> dict[str, NDArray[Any]]:
        """Named 2-D views into ``flat`` (shape ``(size,)``): ``Wl`` and ``bl``."""
        named: dict[str, NDArray[Any]] = {}
        for l, block in enumerate(self.blocks(flat), start=1):
            named[f"W{l}"] = block[:, :-1]
            named[f"b{l}"] = block[:, -1:]
        return named

    def weight_mask(self, dtype: np.dtype[Any]) -> NDArray[Any]:
        """Flat vector with 1 at weights and 0 at biases (the L2 term skips biases)."""
        mask = np.ones(self.size, dtype=dtype)
        for block in self.blocks(mask):
            block[:, -1] = 0.0
        return mask
