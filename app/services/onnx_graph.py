"""A small builder of ONNX graphs: nodes and constants with fresh names inside one scope.

A node asked for twice with the same inputs and attributes is built once (``IsNaN`` of a
column read by its encoder and by a derived feature, say), and equal constants are one
initializer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike


class GraphBuilder:
    """Nodes and initializers of a graph under construction; every name starts with ``scope``.

    ``onnx`` is the imported ``onnx`` package (an optional extra, imported by the caller).
    """

    def __init__(self, onnx: Any, scope: str) -> None:
        self.onnx = onnx
        self.scope = scope
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0
        self._built: dict[tuple[Any, ...], str] = {}

    def fresh(self, hint: str) -> str:
        """A new tensor name inside the scope."""
        self._count += 1
        return f"{self.scope}{hint}_{self._count}"

    def const(self, value: Any, dtype: DTypeLike) -> str:
        """The name of a constant tensor holding ``value`` as ``dtype``."""
        array = np.asarray(value, dtype=dtype)
        key = ("const", array.dtype.str, array.shape, array.tobytes())
        if key not in self._built:
            name = self.fresh("const")
            self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
            self._built[key] = name
        return self._built[key]

    def f64(self, value: Any) -> str:
        """A float64 constant."""
        return self.const(value, np.float64)

    def i64(self, value: Any) -> str:
        """An int64 constant."""
        return self.const(value, np.int64)

    def op(self, op_type: str, *inputs: str, domain: str = "", **attributes: Any) -> str:
        """The single output of node ``op_type`` on ``inputs`` (built once per distinct call)."""
        key = ("op", op_type, domain, inputs, repr(sorted(attributes.items())))
        if key not in self._built:
            output = self.fresh(op_type.lower())
            node = self.onnx.helper.make_node(
                op_type, list(inputs), [output], domain=domain or None, **attributes
            )
            self.nodes.append(node)
            self._built[key] = output
        return self._built[key]
