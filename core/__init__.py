"""annserve core: the pure-numpy neural-network engine (the course notes ANN, generalized).

``import core`` loads numpy only; matplotlib is imported lazily by :mod:`core.plots`.
"""

from core.architecture import Architecture
from core.errors import ConfigurationError, CoreError, DivergenceError, ShapeError, StopTraining
from core.network import ANN
from core.training import train
from core.training_options import TrainingOptions
from core.training_state import History, Progress, TrainingResult, TrainingState

__all__ = [
    "ANN",
    "Architecture",
    "ConfigurationError",
    "CoreError",
    "DivergenceError",
    "History",
    "Progress",
    "ShapeError",
    "StopTraining",
    "TrainingOptions",
    "TrainingResult",
    "TrainingState",
    "train",
]
