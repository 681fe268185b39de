r"""Toy two-feature datasets: the TensorFlow Playground's sets plus sklearn-style moons.

Every generator takes ``(n_samples, noise, rng, n_classes)`` and returns ``(X, y)`` with ``X`` of
shape ``(2, m)`` (the notes' column convention) and ``y`` of shape ``(m,)``.
:func:`make_dataset` validates the options, shuffles the samples and wraps them in a
:class:`Dataset`.

``noise`` is the playground's slider divided by 100: the playground offers 0..50 %, i.e.
``noise`` in ``[0, 0.5]``; values up to ``1`` are accepted and extrapolate the same formulas.

The playground labels each point from a noisy copy of its position, so class sizes drift with the
noise. Here the classification sets instead jitter the *positions* by the same amount and keep the
clean labels, which gives the same overlap near the boundary while keeping the classes exactly
balanced (sizes differ by at most one when ``m`` is not a multiple of the class count). The
regression sets follow the playground literally (clean positions, value read at a noisy position).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError

FloatArray = NDArray[np.float64]
Targets = NDArray[np.int64] | NDArray[np.float64]
DatasetGenerator = Callable[[int, float, np.random.Generator, int], tuple[FloatArray, Targets]]

TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
FEATURE_NAMES: tuple[str, str] = ("x1", "x2")
MAX_NOISE = 1.0


@dataclass(frozen=True, eq=False)
class Dataset:
    """A generated dataset in the column convention.

    Attributes
    ----------
    X : ndarray of shape (n_x, m), float64
        Features by samples (read-only).
    y : ndarray of shape (m,)
        int64 class indices ``0..k-1`` for classification, float64 values for regression.
    task : str
        One of ``"binary"``, ``"multiclass"``, ``"regression"``.
    classes : tuple of int or None
        The class labels (``(0, 1)``, ``(0, 1, 2)``, ...), ``None`` for regression.
    feature_names : tuple of str
        One name per row of ``X``.
    kind : str
        The generator's name (a key of :data:`GENERATORS`).
    """

    X: FloatArray
    y: Targets
    task: str
    classes: tuple[int, ...] | None
    feature_names: tuple[str, ...]
    kind: str

    @property
    def n_samples(self) -> int:
        """Number of samples ``m``."""
        return int(self.X.shape[1])

    @property
    def n_features(self) -> int:
        """Number of features ``n_x``."""
        return int(self.X.shape[0])


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    """Split ``n_samples`` into ``n_classes`` sizes that differ by at most one."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if c < extra else 0) for c in range(n_classes)]


def _labels(sizes: list[int]) -> NDArray[np.int64]:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def circle(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Inner disc (label 1, radius < 2.5) inside an outer ring (label 0, radius 3.5..5).

    Jitter per coordinate is ``U(-5, 5) * noise``, the playground's formula.
    """
    radius = 5.0
    n_out, n_in = _class_sizes(n_samples, 2)
    r = np.concatenate([rng.uniform(radius * 0.7, radius, n_out), rng.uniform(0, radius / 2, n_in)])
    angle = rng.uniform(0.0, 2.0 * np.pi, n_samples)
    X = np.vstack([r * np.sin(angle), r * np.cos(angle)])
    X += rng.uniform(-radius, radius, X.shape) * noise
    return X, _labels([n_out, n_in])


def xor(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Points in ``[-5.3, 5.3]^2`` away from the axes; label 1 where ``x1 * x2 >= 0``.

    Each class is drawn in its own pair of quadrants so the classes stay balanced; the 0.3
    padding around the axes and the ``U(-5, 5) * noise`` jitter are the playground's.
    """
    sizes = _class_sizes(n_samples, 2)
    padding = 0.3
    magnitude = rng.uniform(0.0, 5.0, (2, n_samples)) + padding
    sign_x1 = rng.choice([-1.0, 1.0], n_samples)
    # Class 1 has both coordinates of the same sign, class 0 of opposite signs.
    same_sign = np.where(_labels(sizes) == 1, 1.0, -1.0)
    X = magnitude * np.vstack([sign_x1, sign_x1 * same_sign])
    X += rng.uniform(-5.0, 5.0, X.shape) * noise
    return X, _labels(sizes)


def gauss(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """One isotropic gaussian per class; for two classes centred at (2, 2) (label 1) and (-2, -2).

    Centres sit on a circle of radius :math:`2\\sqrt{2}`; the variance grows linearly with the
    noise as in the playground (0.5 at ``noise=0``, 4 at ``noise=0.5``).
    """
    sizes = _class_sizes(n_samples, n_classes)
    y = _labels(sizes)
    # Class 1 at angle pi/4 and class 0 opposite it, so two classes match the playground.
    angle = np.pi / 4 + np.pi + 2.0 * np.pi * y / n_classes
    centres = 2.0 * np.sqrt(2.0) * np.vstack([np.cos(angle), np.sin(angle)])
    variance = 0.5 + 7.0 * noise
    return centres + rng.standard_normal((2, n_samples)) * np.sqrt(variance), y


def spiral(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Interleaved spiral arms, one per class, 1.75 turns out to radius 5 (the playground's).

    Arm ``c`` starts at angle :math:`\\pi + 2\\pi c / k`; the jitter is ``U(-1, 1) * noise``.
    """
    sizes = _class_sizes(n_samples, n_classes)
    parts = []
    for c, size in enumerate(sizes):
        fraction = np.arange(size) / size
        r = fraction * 5.0
        t = 1.75 * fraction * 2.0 * np.pi + np.pi + 2.0 * np.pi * c / n_classes
        parts.append(np.vstack([r * np.sin(t), r * np.cos(t)]))
    X = np.hstack(parts)
    X += rng.uniform(-1.0, 1.0, X.shape) * noise
    return X, _labels(sizes)


def moons(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``.

    Upper moon (label 0) ``(cos t, sin t)``, lower moon (label 1) ``(1 - cos t, 0.5 - sin t)``,
    ``t`` evenly spaced in ``[0, pi]``; gaussian noise with standard deviation ``noise``.
    """
    n_out, n_in = _class_sizes(n_samples, 2)
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.vstack(
        [
            np.concatenate([np.cos(t_out), 1.0 - np.cos(t_in)]),
            np.concatenate([np.sin(t_out), 1.0 - np.sin(t_in) - 0.5]),
        ]
    )
    X += rng.standard_normal(X.shape) * noise
    return X, _labels([n_out, n_in])


def _uniform_with_noisy_copy(
    n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Positions uniform in ``[-6, 6]^2`` and the noisy positions the value is read at."""
    radius = 6.0
    X = rng.uniform(-radius, radius, (2, n_samples))
    return X, X + rng.uniform(-radius, radius, X.shape) * noise


def reg_plane(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, FloatArray]:
    """Regression on the plane :math:`y = (x_1 + x_2) / 10` (in ``[-1.2, 1.2]`` without noise)."""
    X, X_noisy = _uniform_with_noisy_copy(n_samples, noise, rng)
    return X, (X_noisy[0] + X_noisy[1]) / 10.0


# (centre x1, centre x2, sign) of the six bumps of the playground's "regress gaussian" set.
_BUMPS = np.array(
    [
        [-4.0, 2.5, 1.0],
        [0.0, 2.5, -1.0],
        [4.0, 2.5, 1.0],
        [-4.0, -2.5, -1.0],
        [0.0, -2.5, 1.0],
        [4.0, -2.5, -1.0],
    ]
)


def reg_gauss(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int
) -> tuple[FloatArray, FloatArray]:
    """Regression on six signed bumps; each falls linearly from 1 at its centre to 0 at distance 2.

    The value is the bump of largest magnitude at that point (the playground's rule), in [-1, 1].
    """
    X, X_noisy = _uniform_with_noisy_copy(n_samples, noise, rng)
    # distances: (6, m)
    distances = np.hypot(X_noisy[0] - _BUMPS[:, :1], X_noisy[1] - _BUMPS[:, 1:2])
    values = _BUMPS[:, 2:] * np.clip(1.0 - distances / 2.0, 0.0, 1.0)
    strongest = np.argmax(np.abs(values), axis=0)
    return X, values[strongest, np.arange(n_samples)]


GENERATORS: dict[str, DatasetGenerator] = {
    "circle": circle,
    "xor": xor,
    "gauss": gauss,
    "spiral": spiral,
    "moons": moons,
    "reg-plane": reg_plane,
    "reg-gauss": reg_gauss,
}
"""Dataset generators by the names the API accepts."""

REGRESSION_KINDS: frozenset[str] = frozenset({"reg-plane", "reg-gauss"})
MULTICLASS_KINDS: frozenset[str] = frozenset({"gauss", "spiral"})
"""Kinds that accept ``n_classes > 2``; the other classification kinds have exactly two."""


def _resolve_n_classes(kind: str, n_classes: int | None) -> int:
    if kind in REGRESSION_KINDS:
        if n_classes is not None:
            raise ConfigurationError(f"n_classes does not apply to regression set {kind!r}.")
        return 0
    if n_classes is None:
        return 2
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise ConfigurationError(f"n_classes must be an integer, got {n_classes!r}.")
    if kind not in MULTICLASS_KINDS and n_classes != 2:
        raise ConfigurationError(
            f"dataset {kind!r} has exactly 2 classes, got n_classes={n_classes}."
        )
    if n_classes < 2:
        raise ConfigurationError(f"n_classes must be >= 2, got {n_classes}.")
    return int(n_classes)


def make_dataset(
    kind: str,
    n_samples: int = 400,
    noise: float = 0.0,
    seed: int | np.random.Generator = 0,
    *,
    n_classes: int | None = None,
) -> Dataset:
    """Generate a shuffled toy dataset.

    Parameters
    ----------
    kind : str
        A key of :data:`GENERATORS`.
    n_samples : int
        Number of samples ``m`` (>= 2, and >= ``n_classes``).
    noise : float
        In ``[0, 1]``; the playground's noise slider divided by 100 (see the module docstring).
    seed : int or numpy.random.Generator
        Source of randomness; the same seed gives the same dataset.
    n_classes : int, optional
        Number of classes for ``spiral`` and ``gauss`` (default 2); must be left out for
        regression sets.

    Returns
    -------
    Dataset
        ``X`` of shape ``(2, m)`` and ``y`` of shape ``(m,)``.
    """
    if kind not in GENERATORS:
        raise ConfigurationError(f"kind must be one of {list(GENERATORS)}, got {kind!r}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise ConfigurationError(f"n_samples must be an integer, got {n_samples!r}.")
    if n_samples < 2:
        raise ConfigurationError(f"n_samples must be >= 2, got {n_samples}.")
    if not (0.0 <= float(noise) <= MAX_NOISE):
        raise ConfigurationError(f"noise must be in [0, {MAX_NOISE}], got {noise!r}.")
    k = _resolve_n_classes(kind, n_classes)
    if n_samples < k:
        raise ConfigurationError(f"n_samples must be >= n_classes ({k}), got {n_samples}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    X, y = GENERATORS[kind](int(n_samples), float(noise), rng, k)
    order = rng.permutation(n_samples)
    X = np.ascontiguousarray(X[:, order], dtype=np.float64)
    y = y[order]
    X.setflags(write=False)
    y.setflags(write=False)
    if k == 0:
        task, classes = "regression", None
    else:
        task, classes = ("binary" if k == 2 else "multiclass"), tuple(range(k))
    return Dataset(X=X, y=y, task=task, classes=classes, feature_names=FEATURE_NAMES, kind=kind)
