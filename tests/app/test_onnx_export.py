"""The ONNX graph of every activation and output runs in onnxruntime like the inference entry
point answers."""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime
import pytest

from app.services.onnx_export import to_onnx
from core.activations import HIDDEN_ACTIVATIONS
from core.inference import Inference
from core.network import ANN

OUTPUTS = {"sigmoid": ("no", "yes"), "softmax": ("a", "b", "c"), "linear": None, "relu": None}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS)))
def test_onnx_matches_the_inference_entry_point(hidden: str, output: str, dtype: str) -> None:
    classes = OUTPUTS[output]
    n_y = 1 if output in ("sigmoid", "linear", "relu") else 3
    ann = ANN(3, [5, 4], n_y, hidden_activation=hidden, output_activation=output, seed=3,
              dtype=dtype)  # fmt: skip
    rows = np.random.default_rng(1).normal(scale=2.0, size=(16, 3))
    expected = Inference(ann, classes).predict(rows)
    session = onnxruntime.InferenceSession(to_onnx(ann, classes))
    results = session.run(None, {"input": rows.astype(dtype)})
    # The documented contract: within 1e-6 (ONNX attributes such as LeakyRelu's alpha are
    # float32 even in a float64 graph).
    tolerance = 1e-6
    if classes is None:
        np.testing.assert_allclose(results[0], expected.outputs, rtol=tolerance, atol=tolerance)
    else:
        probabilities, class_index = results
        np.testing.assert_allclose(probabilities, expected.probabilities, atol=tolerance)
        assert class_index.tolist() == np.asarray(expected.indices).tolist()
