"""The notes' ``ANN`` class, generalized to any depth, activation, output and dtype.

``ANN(n_x, n_h, n_y)`` is exactly the notes' network: ``W1 (n_h, n_x)``, ``b1 (n_h, 1)``,
``W2 (n_y, n_h)``, ``b2 (n_y, 1)``, Glorot initialization with seed 2, a tanh hidden layer and a
sigmoid output. ``X`` is ``(n_x, m)`` and ``Y`` is ``(n_y, m)``: one example per column.

The methods ``forward_propagation``, ``compute_cost``, ``back_propagation``, ``fit`` and
``predict`` follow the notes and are the reference implementation; ``fit`` delegates to
:func:`core.training.train`, whose allocation-free passes are tested against this reference.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core import validation
from core.activations import ACTIVATIONS
from core.architecture import Architecture, ParameterLayout
from core.decision import class_indices
from core.errors import ConfigurationError, ShapeError
from core.files import atomic_write_bytes
from core.initializers import initialize_parameters
from core.losses import LOSSES, l2_penalty, output_delta
from core.training import Callback, train
from core.training_options import TrainingOptions

if TYPE_CHECKING:
    from core.training_state import History, TrainingResult, TrainingState

Array = NDArray[Any]
_PARAMETER_NAME = re.compile(r"^[Wb][1-9][0-9]*$")


class ANN:
    """A multi-layer perceptron trained by back-propagation, in the notes' column convention.

    Parameters
    ----------
    n_x : int
        Number of input features.
    n_h : int or sequence of int
        Units of the hidden layer, or of each hidden layer (an empty sequence gives logistic
        or linear regression).
    n_y : int
        Number of outputs (classes for a softmax output).
    hidden_activation : str or sequence of str
        ``sigmoid``, ``tanh``, ``relu`` or ``linear``; one name, or one per hidden layer.
    output_activation : str
        ``sigmoid`` (binary cross-entropy), ``softmax`` (categorical cross-entropy, one-hot
        ``Y``), ``linear`` or ``relu`` (mean squared error).
    init : str
        ``glorot``, ``he`` or ``auto`` (He for ReLU layers, Glorot otherwise).
    distribution : str
        ``normal`` or ``uniform`` (same variance).
    seed : int or numpy.random.Generator
        Source of the initial weights; the same int gives bit-identical parameters.
    dtype : str
        ``float64`` or ``float32``; parameters and training stay in this dtype.
    """

    def __init__(
        self,
        n_x: int,
        n_h: int | Sequence[int],
        n_y: int,
        *,
        hidden_activation: str | Sequence[str] = "tanh",
        output_activation: str = "sigmoid",
        init: str = "auto",
        distribution: str = "normal",
        seed: int | np.random.Generator = 2,
        dtype: str | type[np.floating[Any]] = "float64",
    ) -> None:
        arch = Architecture.build(
            n_x,
            n_h,
            n_y,
            hidden_activation=hidden_activation,
            output_activation=output_activation,
            init=init,
            distribution=distribution,
            seed=None if isinstance(seed, np.random.Generator) else seed,
            dtype=dtype,
        )
        self._setup(arch)
        if isinstance(seed, np.random.Generator):
            self._initialize(seed)
        else:
            self._initialize(np.random.default_rng(arch.seed))

    def _setup(self, arch: Architecture) -> None:
        object.__setattr__(self, "_arch", arch)
        object.__setattr__(self, "_layout", ParameterLayout(arch.layer_sizes))
        object.__setattr__(self, "_theta", np.zeros(self._layout.size, np.dtype(arch.dtype)))
        object.__setattr__(self, "_views", self._layout.views(self._theta))
        object.__setattr__(self, "result", None)

    def _initialize(self, rng: np.random.Generator) -> None:
        arch = self._arch
        initial = initialize_parameters(
            arch.layer_sizes, arch.activations, arch.init, arch.distribution, rng, self.dtype
        )
        self.set_parameters(initial)

    # ----------------------------------------------------------------------------- structure
    _arch: Architecture
    _layout: ParameterLayout
    _theta: Array
    _views: dict[str, Array]
    result: TrainingResult | None
    """The result of the last :meth:`fit` (history of costs, stop reason), or None."""

    @classmethod
    def from_architecture(
        cls,
        architecture: Mapping[str, Any] | Architecture,
        parameters: Mapping[str, ArrayLike] | None = None,
    ) -> ANN:
        """Rebuild a network from :meth:`architecture`; initialize it, or load ``parameters``."""
        arch = (
            architecture
            if isinstance(architecture, Architecture)
            else Architecture.from_dict(architecture)
        )
        if parameters is None and arch.seed is None:
            # Built from a Generator, it recorded no seed: the notes' seed 2 stands in, recorded.
            arch = dataclasses.replace(arch, seed=2)
        ann = cls.__new__(cls)
        ann._setup(arch)
        if parameters is None:
            ann._initialize(np.random.default_rng(arch.seed))
        else:
            ann.set_parameters(parameters)
        return ann

    def architecture(self) -> dict[str, Any]:
        """JSON-able description: sizes, activations, init, distribution, seed (if int), dtype."""
        return self._arch.to_dict()

    @property
    def spec(self) -> Architecture:
        """The validated, immutable :class:`~core.architecture.Architecture`."""
        return self._arch

    @property
    def n_x(self) -> int:
        """Number of input features."""
        return self._arch.n_x

    @property
    def n_y(self) -> int:
        """Number of outputs."""
        return self._arch.n_y

    @property
    def n_h(self) -> int | tuple[int, ...]:
        """Hidden units as the notes write them: an int for one hidden layer, else a tuple."""
        return self._arch.n_h[0] if len(self._arch.n_h) == 1 else self._arch.n_h

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of parameters and computations."""
        return self._theta.dtype

    @property
    def n_layers(self) -> int:
        """``L``, the number of layers with parameters."""
        return self._arch.n_layers

    @property
    def n_parameters(self) -> int:
        """Total number of weights and biases."""
        return self._layout.size

    # ----------------------------------------------------------------------------- parameters
    def __getattr__(self, name: str) -> Array:
        # Only reached when normal lookup fails: W1, b1, ... are views into the flat vector.
        views = self.__dict__.get("_views", {})
        if name in views:
            return views[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if _PARAMETER_NAME.match(name):
            self._set_one(name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def parameters(self) -> dict[str, Array]:
        """Copies of ``W1, b1, ..., WL, bL`` in that order."""
        return {name: view.copy() for name, view in self._views.items()}

    @property
    def layout(self) -> ParameterLayout:
        """Where each ``W`` and ``b`` lives inside :attr:`flat_parameters`."""
        return self._layout

    @property
    def flat_parameters(self) -> Array:
        """The flat parameter vector (shared, not a copy); training updates it in place."""
        return self._theta

    def set_parameters(self, parameters: Mapping[str, ArrayLike]) -> None:
        """Replace every parameter, checking names, shapes and finiteness first.

        Values are cast to the network's dtype. Nothing changes if any value is rejected.
        """
        names = set(self._layout.names)
        if set(parameters) != names:
            raise ConfigurationError(
                f"parameters must be exactly {list(self._layout.names)}, got {sorted(parameters)}."
            )
        checked = {name: self._check_parameter(name, parameters[name]) for name in names}
        for name, value in checked.items():
            np.copyto(self._views[name], value)

    def _set_one(self, name: str, value: ArrayLike) -> None:
        if name not in self._views:
            raise ConfigurationError(f"no parameter {name!r}; have {list(self._layout.names)}.")
        np.copyto(self._views[name], self._check_parameter(name, value))

    def _check_parameter(self, name: str, value: ArrayLike) -> Array:
        array = np.asarray(value)
        if array.dtype.kind not in "fiu":
            raise ConfigurationError(f"{name} must hold real numbers, got dtype {array.dtype}.")
        expected = self._layout.shapes[name]
        if array.shape != expected:
            raise ShapeError(f"{name} must have shape {expected}, got {array.shape}.")
        array = array.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(array)):
            raise ConfigurationError(f"{name} contains non-finite values.")
        return array

    # ----------------------------------------------------------------------------- validation
    def as_inputs(self, X: ArrayLike, name: str = "X") -> Array:
        """``X`` as a C-contiguous array of the network's dtype, shape ``(n_x, m)``."""
        return validation.as_inputs(X, self.n_x, self.dtype, name)

    def as_targets(self, Y: ArrayLike, m: int, name: str = "Y") -> Array:
        """``Y`` as an array of the network's dtype with shape ``(n_y, m)``."""
        return validation.as_targets(Y, self.n_y, m, self.dtype, name)

    def check_target_values(self, Y: Array, name: str = "Y") -> None:
        """Reject targets the output's cost cannot fit (e.g. sigmoid targets outside {0, 1})."""
        validation.check_target_values(Y, self._arch.output_activation, name)

    # ----------------------------------------------------------------------------- the notes
    def forward_propagation(self, X: ArrayLike) -> dict[str, Array]:
        """The notes' forward pass: ``{"Z1", "A1", ..., "ZL", "AL"}``, each ``(n_l, m)``."""
        A = self.as_inputs(X)
        cache: dict[str, Array] = {}
        for l, name in enumerate(self._arch.activations, start=1):
            Z = self._views[f"W{l}"] @ A + self._views[f"b{l}"]
            A = ACTIVATIONS[name].g(Z)
            cache[f"Z{l}"], cache[f"A{l}"] = Z, A
        return cache

    def compute_cost(self, Y: ArrayLike, A2: ArrayLike, l2: float = 0.0) -> float:
        """The notes' cost of outputs ``A2`` (``(n_y, m)``) against ``Y``, plus an L2 term.

        Probabilities are clipped to the dtype's ``eps``; :meth:`cost` is exact from ``Z``.
        """
        A = np.asarray(A2, dtype=self.dtype)
        Y_ = self.as_targets(Y, A.shape[1] if A.ndim == 2 else -1)
        if A.shape != Y_.shape:
            raise ShapeError(f"A2 must have shape {Y_.shape} like Y, got {A.shape}.")
        J = LOSSES[self._arch.output_activation].from_output(Y_, A)
        return J + l2_penalty(self.weights(), l2, Y_.shape[1])

    def cost(self, X: ArrayLike, Y: ArrayLike, l2: float = 0.0) -> float:
        """The cost of the current parameters on ``(X, Y)``, computed exactly from ``Z^{[L]}``."""
        cache = self.forward_propagation(X)
        Y_ = self.as_targets(Y, cache["Z1"].shape[1])
        J = LOSSES[self._arch.output_activation].from_logits(Y_, cache[f"Z{self.n_layers}"])
        return J + l2_penalty(self.weights(), l2, Y_.shape[1])

    def gradients(
        self, X: ArrayLike, Y: ArrayLike, cache: Mapping[str, Array], l2: float = 0.0
    ) -> dict[str, Array]:
        """The notes' gradients ``{"dW1", "db1", ..., "dWL", "dbL"}`` without updating anything.

        ``cache`` is the output of :meth:`forward_propagation` on ``X``; ``l2`` adds
        ``l2 / m * W`` to each ``dW``.
        """
        X_ = self.as_inputs(X)
        m = X_.shape[1]
        Y_ = self.as_targets(Y, m)
        L = self.n_layers
        acts = self._arch.activations
        dZ = output_delta(acts[-1], cache[f"Z{L}"], cache[f"A{L}"], Y_)
        grads: dict[str, Array] = {}
        for l in range(L, 0, -1):
            A_prev = cache[f"A{l - 1}"] if l > 1 else X_
            W = self._views[f"W{l}"]
            grads[f"dW{l}"] = dZ @ A_prev.T / m + (l2 / m) * W
            grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
            if l > 1:
                g_prime = ACTIVATIONS[acts[l - 2]].g_prime
                assert g_prime is not None  # hidden activations all have one
                dZ = (W.T @ dZ) * g_prime(cache[f"Z{l - 1}"])
        return {name: grads[name] for l in range(1, L + 1) for name in (f"dW{l}", f"db{l}")}

    def back_propagation(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        output: Mapping[str, Array],
        lambd: float,
        l2: float = 0.0,
    ) -> dict[str, Array]:
        """The notes' step: compute the gradients and apply ``W = W - lambd * dW`` to all.

        Returns the gradients that were applied.
        """
        grads = self.gradients(X, Y, output, l2)
        for name, view in self._views.items():
            view -= lambd * grads[f"d{name}"]
        return grads

    def fit(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        n_iter: int = TrainingOptions.n_iter,
        lambd: float = TrainingOptions.learning_rate,
        *,
        X_val: ArrayLike | None = None,
        Y_val: ArrayLike | None = None,
        callback: Callback | None = None,
        resume: TrainingState | None = None,
        cost_curve_path: str | Path | None = None,
        **options: Any,
    ) -> TrainingResult:
        """Train with learning rate ``lambd`` for ``n_iter`` passes; record the cost as it goes.

        Further keywords are :class:`core.training.TrainingOptions` fields (``optimizer``,
        ``batch_size``, ``l2``, ``tol``, ``patience``, ``max_seconds``, ``record_every``, ...).
        The result is also kept in ``self.result``; with ``cost_curve_path`` the cost curve is
        written there (PNG or SVG by suffix), as the notes ask.
        """
        opts = TrainingOptions.create(n_iter=n_iter, learning_rate=lambd, **options)
        result = train(self, X, Y, opts, X_val=X_val, Y_val=Y_val, callback=callback, resume=resume)
        self.result = result
        if cost_curve_path is not None:
            self.save_cost_curve(cost_curve_path)
        return result

    @property
    def history(self) -> History | None:
        """Recorded costs of the last :meth:`fit` (``history.iterations``, ``history.costs``)."""
        return self.result.history if self.result is not None else None

    def save_cost_curve(
        self, path: str | Path, *, log_y: bool = False, title: str | None = None
    ) -> Path:
        """Write the cost curve of the last :meth:`fit` to ``path`` (``.png`` or ``.svg``)."""
        if self.result is None:
            raise ConfigurationError("no training history yet: call fit first.")
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise ConfigurationError(
                f"cost curve path must end in .png or .svg, got {path.name!r}."
            )
        from core.plots import cost_curve

        h = self.result.history
        image = cost_curve(
            h.iterations,
            h.costs,
            h.val_iterations or None,
            h.val_costs or None,
            log_y=log_y,
            title=title,
            format=fmt,
        )
        atomic_write_bytes(path, image)
        return path

    # ----------------------------------------------------------------------------- inference
    def predict_proba(self, X: ArrayLike) -> Array:
        """``A^{[L]}``, shape ``(n_y, m)``: probabilities, or values for a regression output."""
        return self.forward_propagation(X)[f"A{self.n_layers}"]

    def predict(self, X: ArrayLike) -> Array:
        """The notes' ``A2 > 0.5`` for sigmoid; class indices ``(m,)`` for softmax; else values."""
        A = self.predict_proba(X)
        output = self._arch.output_activation
        if output == "sigmoid":
            return class_indices(A)[np.newaxis, :].astype(bool)
        if output == "softmax":
            return class_indices(A)
        return A

    def accuracy(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Fraction of correct predictions; ``Y`` is ``(n_y, m)`` (one-hot for softmax).

        For softmax, ``Y`` may also be a 1-D array of class indices.
        """
        output = self._arch.output_activation
        if output not in ("sigmoid", "softmax"):
            raise ConfigurationError(f"accuracy needs a classifier, the output is {output!r}.")
        pred = self.predict(X)
        m = pred.shape[-1]
        Y_arr = np.asarray(Y)
        if output == "softmax":
            labels = Y_arr if Y_arr.ndim == 1 else np.argmax(self.as_targets(Y_arr, m), axis=0)
            if labels.shape != (m,):
                raise ShapeError(f"Y labels must have shape ({m},), got {labels.shape}.")
            return float(np.mean(pred == labels))
        return float(np.mean(pred == (self.as_targets(Y_arr, m) > 0.5)))

    def weights(self) -> list[Array]:
        """The weight matrices ``W1, ..., WL`` (views, not copies): what the L2 term sums."""
        return [self._views[f"W{l}"] for l in range(1, self.n_layers + 1)]

    def __repr__(self) -> str:
        a = self._arch
        return (
            f"ANN(n_x={a.n_x}, n_h={list(a.n_h)}, n_y={a.n_y}, "
            f"hidden_activation={list(a.hidden_activations)}, "
            f"output_activation={a.output_activation!r}, dtype={a.dtype!r})"
        )
