"""The training loop: gradient descent as in the notes, plus mini-batches, optimizers and stopping.

``n_iter`` counts passes over the data: a full-batch pass is one step, a mini-batch pass is one
step per batch (columns shuffled each pass when ``shuffle``). The cost is recorded every
``record_every`` passes (and at the first and the last): for a full batch it is the cost of the
parameters before that pass's step, read from the forward pass already done; for mini-batches it is
the mean of the batch costs of that pass, as scikit-learn reports it. Validation costs are taken at
the same passes, with the parameters after the step.

Training stops at ``n_iter`` (``completed``), when the recorded cost has not improved by ``tol``
for ``n_iter_no_change`` records (``tol``), when the validation cost has not improved by
``min_delta`` for ``patience`` records (``early_stopping``; the best parameters are restored),
after ``max_seconds`` (``max_seconds``), or when the callback returns False or raises
:class:`~core.errors.StopTraining` (``callback``). A non-finite cost or parameter raises
:class:`~core.errors.DivergenceError` after restoring the last finite parameters.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.architecture import Architecture, ParameterLayout
from core.errors import ConfigurationError, DivergenceError, StopTraining
from core.losses import l2_penalty
from core.optimizers import OPTIMIZERS
from core.propagation import Workspace
from core.training_options import TrainingOptions
from core.training_state import History, Progress, TrainingResult, TrainingState

__all__ = ["Callback", "Network", "TrainingOptions", "train"]

Array = NDArray[Any]


class Network(Protocol):
    """What training needs of a network (:class:`core.network.ANN` is one)."""

    @property
    def spec(self) -> Architecture: ...
    @property
    def layout(self) -> ParameterLayout: ...
    @property
    def flat_parameters(self) -> Array: ...
    @property
    def parameters(self) -> dict[str, Array]: ...
    def set_parameters(self, parameters: Mapping[str, ArrayLike]) -> None: ...
    def weights(self) -> list[Array]: ...
    def as_inputs(self, X: ArrayLike, name: str = "X") -> Array: ...
    def as_targets(self, Y: ArrayLike, m: int, name: str = "Y") -> Array: ...
    def check_target_values(self, Y: Array, name: str = "Y") -> None: ...
    def cost(self, X: ArrayLike, Y: ArrayLike, l2: float = 0.0) -> float: ...


Callback = Callable[[Progress], bool | None]
# Options that may change between a checkpoint and its resumption without changing the maths.
_RESUMABLE_CHANGES = frozenset({"n_iter", "max_seconds", "callback_every"})


def train(
    ann: Network,
    X: ArrayLike,
    Y: ArrayLike,
    options: TrainingOptions,
    *,
    X_val: ArrayLike | None = None,
    Y_val: ArrayLike | None = None,
    callback: Callback | None = None,
    resume: TrainingState | None = None,
) -> TrainingResult:
    """Train ``ann`` in place on ``X`` (``(n_x, m)``) and ``Y`` (``(n_y, m)``).

    Parameters
    ----------
    ann : Network
        The network; its parameters are updated in place.
    X, Y : array_like
        Training data in the notes' column convention.
    options : TrainingOptions
        Hyperparameters and stopping rules.
    X_val, Y_val : array_like, optional
        Validation data; enables early stopping.
    callback : callable, optional
        Called with a :class:`~core.training_state.Progress` every ``callback_every`` passes;
        returning False (or raising StopTraining) stops training.
    resume : TrainingState, optional
        Continue a run from this checkpoint; the run ends bit-identical to an uninterrupted one.

    Returns
    -------
    TrainingResult
    """
    return TrainingRun(ann, X, Y, options, X_val, Y_val, callback, resume).run()


class TrainingRun:
    """One training run: buffers, optimizer, bookkeeping and the loop."""

    def __init__(
        self,
        ann: Network,
        X: ArrayLike,
        Y: ArrayLike,
        opts: TrainingOptions,
        X_val: ArrayLike | None,
        Y_val: ArrayLike | None,
        callback: Callback | None,
        resume: TrainingState | None,
    ) -> None:
        self.ann, self.opts, self.callback = ann, opts, callback
        self.X = ann.as_inputs(X)
        self.m = self.X.shape[1]
        self.Y = ann.as_targets(Y, self.m)
        ann.check_target_values(self.Y)
        self.X_val = self.Y_val = None
        if (X_val is None) != (Y_val is None):
            raise ConfigurationError("give both X_val and Y_val, or neither.")
        if X_val is not None and Y_val is not None:
            self.X_val = ann.as_inputs(X_val, "X_val")
            self.Y_val = ann.as_targets(Y_val, self.X_val.shape[1], "Y_val")
            ann.check_target_values(self.Y_val, "Y_val")
        self.theta = ann.flat_parameters
        self.grad = np.empty_like(self.theta)
        self.last_good = self.theta.copy()
        self.l2_mask = ann.layout.weight_mask(self.theta.dtype)
        self.l2_tmp = np.empty_like(self.theta)
        optimizer = OPTIMIZERS[opts.optimizer]
        self.optimizer = optimizer(
            self.theta.size,
            self.theta.dtype,
            opts.learning_rate,
            **{name: getattr(opts, name) for name in optimizer.hyperparameters},
        )
        self.rng = np.random.default_rng(opts.seed)
        self.full_batch = opts.batch_size is None or opts.batch_size >= self.m
        self.workspaces: dict[int, Workspace] = {}
        self.val_ws: Workspace | None = None
        if self.full_batch:
            self.full_ws = self._workspace(self.m)
            self.full_ws.load(self.X, self.Y)
        self.history = History()
        self.iteration = 0
        self.elapsed_before = 0.0
        self.best_cost: float | None = None
        self.n_no_improvement = 0
        self.best_val_cost: float | None = None
        self.best_iteration: int | None = None
        self.n_bad_validations = 0
        self.best_theta: Array | None = None
        self.last_cost: float | None = None
        self.last_val_cost: float | None = None
        if resume is not None:
            self._restore(resume)

    # ------------------------------------------------------------------ state in and out
    def _restore(self, state: TrainingState) -> None:
        mine, theirs = self.opts.to_dict(), dict(state.options)
        changed = {k for k in mine if mine[k] != theirs.get(k)} - _RESUMABLE_CHANGES
        if changed:
            raise ConfigurationError(
                f"cannot resume with different options {sorted(changed)}: "
                + ", ".join(f"{k}={theirs.get(k)!r} -> {mine[k]!r}" for k in sorted(changed))
            )
        self.ann.set_parameters(state.parameters)
        self.optimizer.load_state_arrays(state.optimizer_state)
        self.rng.bit_generator.state = copy.deepcopy(dict(state.rng_state))
        self.history = state.history.copy()
        self.iteration = state.iteration
        self.elapsed_before = state.elapsed
        self.best_cost, self.n_no_improvement = state.best_cost, state.n_no_improvement
        self.best_val_cost, self.best_iteration = state.best_val_cost, state.best_iteration
        self.n_bad_validations = state.n_bad_validations
        if state.best_parameters is not None:
            best = np.empty_like(self.theta)
            views = self.ann.layout.views(best)
            for name, value in state.best_parameters.items():
                np.copyto(views[name], value)
            self.best_theta = best
        if self.history.costs:
            self.last_cost = self.history.costs[-1]
        if self.history.val_costs:
            self.last_val_cost = self.history.val_costs[-1]
        np.copyto(self.last_good, self.theta)

    def snapshot(self, elapsed: float) -> TrainingState:
        """The resumable state at the end of the current iteration."""
        layout = self.ann.layout
        best = None
        if self.best_theta is not None:
            best = {k: v.copy() for k, v in layout.views(self.best_theta).items()}
        return TrainingState(
            iteration=self.iteration,
            parameters=self.ann.parameters,
            optimizer_state=self.optimizer.state_arrays(),
            rng_state=copy.deepcopy(dict(self.rng.bit_generator.state)),
            history=self.history.copy(),
            options=self.opts.to_dict(),
            elapsed=elapsed,
            best_cost=self.best_cost,
            n_no_improvement=self.n_no_improvement,
            best_val_cost=self.best_val_cost,
            best_iteration=self.best_iteration,
            n_bad_validations=self.n_bad_validations,
            best_parameters=best,
        )

    # ------------------------------------------------------------------ passes
    def _workspace(self, m: int) -> Workspace:
        ws = self.workspaces.get(m)
        if ws is None:
            ws = self.workspaces[m] = Workspace(self.ann.spec, m)
            ws.bind(self.theta, self.grad)
        return ws

    def _step(self, ws: Workspace, record: bool) -> float:
        ws.forward()
        cost = ws.cost() if record else 0.0
        scale = self.optimizer.gradient_scale
        ws.backward(scale)
        if self.opts.l2:
            # dW += l2/m * W (times the same scale), biases excluded through the mask.
            np.multiply(self.theta, self.l2_mask, out=self.l2_tmp)
            np.multiply(self.l2_tmp, scale * self.opts.l2 / ws.m, out=self.l2_tmp)
            np.add(self.grad, self.l2_tmp, out=self.grad)
            if record:
                cost += l2_penalty(self.ann.weights(), self.opts.l2, ws.m)
        self.optimizer.step_scaled(self.theta, self.grad)
        return cost

    def _pass(self, record: bool) -> float:
        if self.full_batch:
            return self._step(self.full_ws, record)
        B = self.opts.batch_size
        assert B is not None
        order = self.rng.permutation(self.m) if self.opts.shuffle else np.arange(self.m)
        total = 0.0
        for start in range(0, self.m, B):
            idx = order[start : start + B]
            ws = self._workspace(idx.size)
            ws.load_columns(self.X, self.Y, idx)
            total += self._step(ws, record) * idx.size
        return total / self.m

    # ------------------------------------------------------------------ checks
    def _check_finite(self, cost: float) -> None:
        # A finite sum implies finite entries; only a non-finite sum needs the full check.
        finite = math.isfinite(cost) and (
            math.isfinite(np.add.reduce(self.theta)) or bool(np.all(np.isfinite(self.theta)))
        )
        if not finite:
            np.copyto(self.theta, self.last_good)
            raise DivergenceError(self.iteration, cost)
        np.copyto(self.last_good, self.theta)

    def _record(self, cost: float) -> str | None:
        i = self.iteration
        self._check_finite(cost)
        self.history.iterations.append(i)
        self.history.costs.append(cost)
        self.last_cost = cost
        tol = self.opts.tol
        if tol is not None:
            if self.best_cost is not None and cost > self.best_cost - tol:
                self.n_no_improvement += 1
            else:
                self.n_no_improvement = 0
            if self.best_cost is None or cost < self.best_cost:
                self.best_cost = cost
            if self.n_no_improvement >= self.opts.n_iter_no_change:
                return "tol"
        if self.X_val is not None:
            return self._validate()
        return None

    def _validate(self) -> str | None:
        assert self.X_val is not None and self.Y_val is not None
        ws = self._workspace_val()
        ws.forward()
        val = ws.cost() + l2_penalty(self.ann.weights(), self.opts.l2, ws.m)
        self._check_finite(val)
        self.history.val_iterations.append(self.iteration)
        self.history.val_costs.append(val)
        self.last_val_cost = val
        if self.best_val_cost is None or val < self.best_val_cost - self.opts.min_delta:
            self.best_val_cost, self.best_iteration = val, self.iteration
            self.n_bad_validations = 0
            if self.best_theta is None:
                self.best_theta = np.empty_like(self.theta)
            np.copyto(self.best_theta, self.theta)
            return None
        self.n_bad_validations += 1
        if self.n_bad_validations >= self.opts.patience:
            assert self.best_theta is not None
            np.copyto(self.theta, self.best_theta)
            return "early_stopping"
        return None

    def _workspace_val(self) -> Workspace:
        assert self.X_val is not None and self.Y_val is not None
        if self.val_ws is None:
            self.val_ws = Workspace(self.ann.spec, self.X_val.shape[1])
            self.val_ws.bind(self.theta, self.grad)
            self.val_ws.load(self.X_val, self.Y_val)
        return self.val_ws

    def _notify(self, elapsed: float) -> str | None:
        assert self.callback is not None
        progress = Progress(
            self.iteration,
            self.opts.n_iter,
            self.last_cost,
            self.last_val_cost,
            elapsed,
            lambda: self.snapshot(elapsed),
        )
        try:
            if self.callback(progress) is False:
                return "callback"
        except StopTraining:
            return "callback"
        return None

    # ------------------------------------------------------------------ the loop
    def run(self) -> TrainingResult:
        opts = self.opts
        n_iter, every, cb_every = opts.n_iter, opts.record_every, opts.callback_every
        t0 = time.perf_counter()
        reason = "completed"
        with np.errstate(all="ignore"):
            while self.iteration < n_iter:
                self.iteration += 1
                i = self.iteration
                record = i % every == 0 or i == 1 or i == n_iter
                cost = self._pass(record)
                stop = self._record(cost) if record else None
                elapsed = self.elapsed_before + time.perf_counter() - t0
                if stop is None and opts.max_seconds is not None and elapsed >= opts.max_seconds:
                    stop = "max_seconds"
                if stop is None and self.callback is not None and i % cb_every == 0:
                    stop = self._notify(elapsed)
                if stop is not None:
                    reason = stop
                    break
            if reason != "early_stopping":
                self._check_finite(0.0)
        return self._result(reason, self.elapsed_before + time.perf_counter() - t0)

    def _final_cost(self) -> float:
        if not self.full_batch:
            return self.ann.cost(self.X, self.Y, self.opts.l2)
        # The full-batch buffers already hold the data: no new allocation for one more pass.
        with np.errstate(over="ignore"):
            self.full_ws.forward()
            cost = self.full_ws.cost()
        return cost + l2_penalty(self.ann.weights(), self.opts.l2, self.m)

    def _result(self, reason: str, elapsed: float) -> TrainingResult:
        final_cost = self._final_cost()
        return TrainingResult(
            stop_reason=reason,
            n_iter=self.iteration,
            history=self.history.copy(),
            final_cost=final_cost,
            elapsed=elapsed,
            best_iteration=self.best_iteration,
            best_val_cost=self.best_val_cost,
            state=self.snapshot(elapsed),
        )
