"""A network as an ONNX graph that onnxruntime runs with the same outputs as ``/predict``.

ONNX inputs are rows, ``input`` of shape ``[batch, n_x]``, while the notes' weights are
``W (n_out, n_in)`` acting on columns; ``Gemm(A, W, b, transB=1)`` computes
``A W^T + b = (W A^T + b)^T``, the notes' ``Z = W X + b`` in rows, without copying ``W``.

A model with a preprocessing stage takes its raw columns instead, one input per column (see
:mod:`app.services.onnx_preprocessing`), and a regressor's ``values`` are then mapped back to
the targets' units (``A s_y + mu_y``, as :meth:`core.pipeline.Preprocessor.decode_outputs`).

Outputs: a classifier gives ``probabilities`` ``[batch, k]`` in the order of its classes (a
binary model's sigmoid ``p`` becomes ``[1 - p, p]``, as ``/predict`` answers) and
``class_index`` ``[batch]`` (int64, the arg-max); a regressor gives ``values`` ``[batch, n_y]``.
The graph computes in the model's dtype (float32 or float64). The ``onnx`` package is an
optional extra (``annserve[onnx]``), imported only here and only when an export is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.errors import NotAcceptable
from app.services.onnx_preprocessing import NETWORK_SCOPE, stage_graph
from core.activations import ACTIVATIONS
from core.network import ANN
from core.pipeline import Preprocessor

OPSET = 17
IR_VERSION = 8  # the lowest IR for opset 17, so older onnxruntime releases load the file too


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise NotAcceptable(
            "ONNX export needs the optional extra: pip install 'annserve[onnx]'",
            code="onnx_unavailable",
        ) from error
    return onnx


def to_onnx(
    ann: ANN,
    classes: Sequence[int | str] | None,
    *,
    stage: Preprocessor | None = None,
    graph_name: str = "annserve",
    metadata: dict[str, str] | None = None,
) -> bytes:
    """The serialized ONNX model of ``ann`` (``classes`` None for a regressor), after
    ``stage`` when the model has one."""
    onnx = _onnx()
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    dtype = ann.dtype
    elem = onnx.TensorProto.FLOAT if dtype == np.float32 else onnx.TensorProto.DOUBLE
    arch = ann.spec
    batch = "batch"
    opsets = {"": OPSET}
    if stage is None:
        inputs = [helper.make_tensor_value_info("input", elem, [batch, arch.n_x])]
        nodes: list[Any] = []
        initializers: list[Any] = []
        previous, scope = "input", ""
    else:
        part = stage_graph(onnx, stage, dtype)
        inputs, nodes, initializers = part.inputs, list(part.nodes), list(part.initializers)
        previous, scope = part.output, NETWORK_SCOPE
        opsets |= part.opsets
    for l, activation in enumerate(arch.activations, start=1):
        W, b, Z, A = (f"{scope}{name}{l}" for name in "WbZA")
        initializers.append(numpy_helper.from_array(np.asarray(getattr(ann, f"W{l}"), dtype), W))
        initializers.append(
            numpy_helper.from_array(np.asarray(getattr(ann, f"b{l}"), dtype).ravel(), b)
        )
        nodes.append(helper.make_node("Gemm", [previous, W, b], [Z], transB=1))
        op = ACTIVATIONS[activation]
        attributes = dict(op.onnx_attributes)
        if op.onnx_float64 or elem == onnx.TensorProto.FLOAT:
            nodes.append(helper.make_node(op.onnx_op, [Z], [A], **attributes))
        else:
            single = onnx.TensorProto.FLOAT
            nodes.append(helper.make_node("Cast", [Z], [f"{Z}_f32"], to=single))
            nodes.append(helper.make_node(op.onnx_op, [f"{Z}_f32"], [f"{A}_f32"], **attributes))
            nodes.append(helper.make_node("Cast", [f"{A}_f32"], [A], to=elem))
        previous = A
    if classes is None:
        target = stage.target if stage is not None else None
        if target is None:
            nodes.append(helper.make_node("Identity", [previous], ["values"]))
        else:
            scale, center = f"{scope}target_scale", f"{scope}target_center"
            initializers.append(numpy_helper.from_array(np.asarray(target.scale, dtype), scale))
            initializers.append(numpy_helper.from_array(np.asarray(target.center, dtype), center))
            nodes.append(helper.make_node("Mul", [previous, scale], [f"{scope}scaled"]))
            nodes.append(helper.make_node("Add", [f"{scope}scaled", center], ["values"]))
        outputs = [helper.make_tensor_value_info("values", elem, [batch, arch.n_y])]
    else:
        if arch.n_y == 1:
            one, negative = f"{scope}one", f"{scope}negative"
            initializers.append(numpy_helper.from_array(np.ones((1, 1), dtype), one))
            nodes.append(helper.make_node("Sub", [one, previous], [negative]))
            nodes.append(
                helper.make_node("Concat", [negative, previous], ["probabilities"], axis=1)
            )
        else:
            nodes.append(helper.make_node("Identity", [previous], ["probabilities"]))
        nodes.append(
            helper.make_node("ArgMax", ["probabilities"], ["class_index"], axis=1, keepdims=0)
        )
        outputs = [
            helper.make_tensor_value_info("probabilities", elem, [batch, len(classes)]),
            helper.make_tensor_value_info("class_index", onnx.TensorProto.INT64, [batch]),
        ]
    graph = helper.make_graph(nodes, graph_name, inputs, outputs, initializer=initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets.items()],
        producer_name="annserve",
        ir_version=IR_VERSION,
    )
    props = {"architecture": json.dumps(ann.architecture())} | (metadata or {})
    if classes is not None:
        props["classes"] = json.dumps(list(classes))
    if stage is not None:
        props["preprocessing"] = json.dumps(stage.to_dict())
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data
