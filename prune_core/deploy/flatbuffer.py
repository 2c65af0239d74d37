"""Reading a .tflite flatbuffer: every operator, and for each weighted op whether its weight runs sparse, through
a DENSIFY op, or dense (TensorFlow Lite's generated schema; no interpreter)."""

from __future__ import annotations

import re
from dataclasses import dataclass


WEIGHTED_OPS = {"FULLY_CONNECTED": 1, "CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "TRANSPOSE_CONV": 1}  # op → weight input


@dataclass(frozen=True)
class Kernel:
    """One weighted op of a .tflite file: its weight tensor, the Keras layer it came from, and how it runs:
    ``sparse`` (the sparse kernel reads the compressed weight), ``densified`` (a DENSIFY op expands it to
    dense first) or ``dense`` (stored and run dense)."""

    op: str
    tensor: str
    layer: str
    status: str


@dataclass(frozen=True)
class Operators:
    """The operator list of a .tflite file (execution order) and its weighted ops."""

    ops: tuple[str, ...]
    kernels: tuple[Kernel, ...]

    @property
    def densify(self) -> int:
        return self.ops.count("DENSIFY")

    @property
    def sparse(self) -> bool:
        """Whether any kernel runs sparse."""
        return any(k.status == "sparse" for k in self.kernels)

    def count(self, status: str) -> int:
        return sum(k.status == status for k in self.kernels)


def _schema():
    try:
        from tensorflow.lite.python import schema_py_generated as schema
    except ImportError:  # pragma: no cover - LiteRT ships the same generated schema
        from ai_edge_litert import schema_py_generated as schema
    return schema


def _layer_of(tensor: str, layer_names) -> str:
    parts = tensor.split(";")[0].split("/")
    for name in sorted(layer_names, key=len, reverse=True):
        pattern = re.compile(rf"^{re.escape(name)}(_\d+)?$")
        if any(pattern.match(p) for p in parts):
            return name
    return tensor


def operators(data: bytes, layer_names=()) -> Operators:
    """Read a .tflite flatbuffer: every operator by name, and for each weighted op whether its weight is
    read sparse, through a DENSIFY op, or dense. ``layer_names``: Keras layer names to map tensors to."""
    schema = _schema()
    model = schema.Model.GetRootAsModel(bytes(data), 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        codes.append(names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM"))
    ops, kernels = [], []
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        producer = {}
        nodes = [graph.Operators(j) for j in range(graph.OperatorsLength())]
        for node in nodes:
            for k in range(node.OutputsLength()):
                producer[node.Outputs(k)] = codes[node.OpcodeIndex()], node
        for node in nodes:
            op = codes[node.OpcodeIndex()]
            ops.append(op)
            slot = WEIGHTED_OPS.get(op)
            if slot is None or node.InputsLength() <= slot or node.Inputs(slot) < 0:
                continue
            index = node.Inputs(slot)
            status = "dense"
            made_by = producer.get(index)
            if made_by and made_by[0] == "DEQUANTIZE" and made_by[1].InputsLength():
                index = made_by[1].Inputs(0)
                made_by = producer.get(index)
            if made_by and made_by[0] == "DENSIFY":
                index, status = made_by[1].Inputs(0), "densified"
            elif index in producer:
                continue  # an activation-by-activation op (a matmul of two inputs): not a weight
            tensor = graph.Tensors(index)
            if status == "dense" and tensor.Sparsity() is not None:
                status = "sparse"
            name = (tensor.Name() or b"").decode(errors="replace")
            kernels.append(Kernel(op=op, tensor=name, layer=_layer_of(name, layer_names), status=status))
    return Operators(ops=tuple(ops), kernels=tuple(kernels))
