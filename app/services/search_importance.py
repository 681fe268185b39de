"""How much each searched parameter matters: Optuna's importance evaluators on a study rebuilt
from the search's succeeded trials.

``fanova`` (the default) fits a random forest to (parameters -> score) and splits the score's
variance among the parameters (Hutter et al., 2014); ``ped_anova`` compares the parameters'
distribution in the top trials with that in all of them (Watanabe et al., 2023) and needs no
forest. Both are seeded by the search's seed, so the same trials give the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

from app.errors import Conflict
from app.services.search_strategies import rebuilt_study
from app.services.searches import SearchView

ImportanceMethod = Literal["fanova", "ped_anova"]
IMPORTANCE_METHODS: tuple[ImportanceMethod, ...] = ("fanova", "ped_anova")
MIN_TRIALS = 2


def _evaluator(method: ImportanceMethod, seed: int) -> Any:
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    if method == "fanova":
        return FanovaImportanceEvaluator(seed=seed)
    return PedAnovaImportanceEvaluator()


def varied_params(view: SearchView) -> list[str]:
    """The searched parameters that took more than one value in the succeeded trials; 409 with
    too few succeeded trials or none varied (cheap: no study is built)."""
    succeeded = [t for t in view.trials if t.status == "succeeded" and t.value is not None]
    if len(succeeded) < MIN_TRIALS:
        raise Conflict(
            f"importance needs at least {MIN_TRIALS} succeeded trials, the search has "
            f"{len(succeeded)}",
            code="too_few_trials",
        )
    paths = view.spec["space"]
    varied = [path for path in paths if len({repr(t.params.get(path)) for t in succeeded}) > 1]
    if not varied:
        raise Conflict(
            "no searched parameter took more than one value in the succeeded trials",
            code="nothing_varied",
        )
    return varied


def param_importances(view: SearchView, method: ImportanceMethod = "fanova") -> dict[str, Any]:
    """``{method, metric, n_trials, importances: [{param, importance}]}``, most important first
    (importances sum to 1 for fANOVA); 409 with too few succeeded trials or nothing varied."""
    import optuna

    varied = varied_params(view)
    succeeded = [t for t in view.trials if t.status == "succeeded" and t.value is not None]
    study, _, _ = rebuilt_study(view.spec, succeeded)
    values = optuna.importance.get_param_importances(
        study, evaluator=_evaluator(method, int(view.spec["seed"])), params=varied
    )
    return {
        "search_id": view.row.id,
        "method": method,
        "metric": view.spec["metric"],
        "n_trials": len(succeeded),
        "importances": [
            {"param": name, "importance": float(value)} for name, value in values.items()
        ],
    }
