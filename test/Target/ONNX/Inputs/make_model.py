#!/usr/bin/python3
"""Writes small ONNX models for the importer's lit tests: make_model.py OUT NAME."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def tensor(name, shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def model(nodes, inputs, outputs, inits=(), opset=13, domains=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, opset_imports=ops, producer_name="qc-tests")


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def conv_net():
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], name="bn1"),
        helper.make_node("Relu", ["n"], ["r"], name="relu1"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fcw", "fcb"], ["y"], name="fc", transB=1),
    ]
    inits = [tensor("w", [16, 3, 3, 3]), tensor("b", [16]), tensor("s", [16]),
             tensor("bb", [16]), tensor("m", [16]),
             numpy_helper.from_array(np.ones(16, np.float32), "v"),
             tensor("fcw", [10, 16]), tensor("fcb", [10])]
    return model(nodes, [vi("x", ["N", 3, 8, 8])], [vi("y", ["N", 10])], inits)


def shape_subgraph():
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as PyTorch exports a flatten.
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "axes0"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    return model(nodes, [vi("x", [2, 3, 4, 4])], [vi("y", None)], inits)


def opset_forms(opset):
    # Squeeze axes and Clip bounds moved from attributes to inputs in opsets 13 and 11.
    if opset < 13:
        sq = helper.make_node("Squeeze", ["x"], ["s"], axes=[1])
        inits = []
    else:
        sq = helper.make_node("Squeeze", ["x", "axes"], ["s"])
        inits = [numpy_helper.from_array(np.array([1], np.int64), "axes")]
    if opset < 11:
        clip = helper.make_node("Clip", ["s"], ["c"], min=0.0, max=6.0)
    else:
        clip = helper.make_node("Clip", ["s", "lo", "hi"], ["c"])
        inits += [numpy_helper.from_array(np.array(0, np.float32), "lo"),
                  numpy_helper.from_array(np.array(6, np.float32), "hi")]
    sm = helper.make_node("Softmax", ["c"], ["y"], axis=1)
    return model([sq, clip, sm], [vi("x", [2, 1, 3, 4])], [vi("y", [2, 3, 4])], inits, opset)


def external_data(out):
    m = conv_net()
    onnx.save_model(m, os.path.join(out, "external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="external.bin", size_threshold=0)


def unknown_op():
    return model([helper.make_node("FancyConv", ["x"], ["y"], name="mystery")],
                 [vi("x", [4])], [vi("y", [4])])


def unknown_domain():
    return model([helper.make_node("Relu", ["x"], ["y"], name="custom", domain="com.example")],
                 [vi("x", [4])], [vi("y", [4])], domains=["com.example"])


def training_bn():
    n = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn_train",
                         training_mode=1)
    inits = [tensor(k, [3]) for k in "sbmv"]
    return model([n], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 3, 2, 2])], inits, opset=15)


def missing_initializer():
    return model([helper.make_node("Add", ["x", "bias"], ["y"], name="add_bias")],
                 [vi("x", [4])], [vi("y", [4])])


def shape_contradiction():
    n = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    return model([n], [vi("a", [2, 3]), vi("b", [4, 5])], [vi("y", [2, 5])])


def sequence_input():
    seq = helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, [2])
    n = helper.make_node("SequenceLength", ["xs"], ["y"], name="len")
    return model([n], [seq], [vi("y", [], TensorProto.INT64)], opset=13)


def qdq():
    # ONNX Runtime's QDQ form: float -> QuantizeLinear -> DequantizeLinear around ops,
    # per-tensor activations (uint8) and per-channel weights (int8, axis 0).
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xzp"], ["xq"], name="q_x"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xzp"], ["xd"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wzp"], ["wd"], name="dq_w", axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["y"], name="conv"),
    ]
    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "xs"),
             numpy_helper.from_array(np.array(128, np.uint8), "xzp"),
             numpy_helper.from_array(rng.integers(-127, 128, (2, 3, 3, 3)).astype(np.int8), "wq"),
             numpy_helper.from_array(np.array([0.01, 0.02], np.float32), "ws"),
             numpy_helper.from_array(np.array([0, 0], np.int8), "wzp")]
    return model(nodes, [vi("x", [1, 3, 5, 5])], [vi("y", [1, 2, 3, 3])], inits)


def qoperator():
    # QOperator form: QLinearMatMul with a per-column weight scale, QLinearConv with bias.
    f = lambda v, name, t=np.float32: numpy_helper.from_array(np.array(v, t), name)
    nodes = [
        helper.make_node("QLinearMatMul", ["a", "as", "azp", "b", "bs", "bzp", "ys", "yzp"],
                         ["y"], name="qmm"),
        helper.make_node("QLinearConv", ["x", "as", "azp", "w", "as", "azp", "ys", "yzp", "bias"],
                         ["z"], name="qconv", pads=[1, 1, 1, 1]),
    ]
    inits = [f(0.5, "as"), f(3, "azp", np.uint8),
             numpy_helper.from_array(rng.integers(0, 255, (4, 2)).astype(np.uint8), "b"),
             f([0.25, 0.75], "bs"), f([0, 0], "bzp", np.uint8),
             f(1.0, "ys"), f(10, "yzp", np.uint8),
             numpy_helper.from_array(rng.integers(0, 255, (2, 1, 3, 3)).astype(np.uint8), "w"),
             f([1, -2], "bias", np.int32)]
    return model(nodes, [vi("a", [3, 4], TensorProto.UINT8), vi("x", [1, 1, 4, 4], TensorProto.UINT8)],
                 [vi("y", [3, 2], TensorProto.UINT8), vi("z", [1, 2, 4, 4], TensorProto.UINT8)],
                 inits, opset=10)


def if_model(const_cond):
    # Branch on the batch size (a shape test exporters emit, constant once the
    # shape is static) or on a runtime flag.
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"], name="then_relu")],
                               "then", [], [vi("t", [2, 3])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="else_neg")],
                               "else", [], [vi("e", [2, 3])])
    nodes = []
    inputs = [vi("x", [2, 3])]
    inits = []
    if const_cond:
        nodes += [helper.make_node("Shape", ["x"], ["s"]),
                  helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
                  helper.make_node("Equal", ["n", "two"], ["cond"])]
        inits += [numpy_helper.from_array(np.array(0, np.int64), "zero"),
                  numpy_helper.from_array(np.array(2, np.int64), "two")]
    else:
        inputs.append(vi("cond", [], TensorProto.BOOL))
    nodes.append(helper.make_node("If", ["cond"], ["y"], name="branch",
                                  then_branch=then_g, else_branch=else_g))
    return model(nodes, inputs, [vi("y", [2, 3])], inits)


def opset18():
    # Opset 18 moved Reduce* axes into an input and gave Split num_outputs.
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=0, name="mean"),
             helper.make_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2, name="split")]
    inits = [numpy_helper.from_array(np.array([1], np.int64), "axes")]
    m = model(nodes, [vi("x", [2, 4])], [vi("m", None), vi("a", None), vi("b", None)], inits, 18)
    m.ir_version = 8
    return m


def opset21():
    m = model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [vi("x", [2, 4])],
              [vi("y", None)], opset=21)
    m.ir_version = 8
    return m


def missing_input():
    # A required input left empty: ONNX's checker would reject this model.
    return model([helper.make_node("Gemm", ["x", ""], ["y"], name="gemm_no_b")],
                 [vi("x", [2, 2])], [vi("y", [2, 2])])


def no_outputs():
    return model([helper.make_node("Relu", ["x"], [], name="relu_nowhere"),
                  helper.make_node("Identity", ["x"], ["y"], name="id")],
                 [vi("x", [2])], [vi("y", [2])])


def neg_input():
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [-2, 3])],
                 [vi("y", None)])


def attr_kind():
    # LeakyRelu's alpha given as an INT where ONNX (and the op) take a FLOAT.
    n = helper.make_node("LeakyRelu", ["x"], ["y"], name="lrelu_int_alpha")
    n.attribute.append(helper.make_attribute("alpha", 3))
    return model([n], [vi("x", [4])], [vi("y", None)])


def legacy_broadcast():
    # Opset 6: B aligned from axis 1 of A only with broadcast=1; a 1-d PRelu
    # slope is per channel.
    nodes = [helper.make_node("Add", ["x", "b"], ["s"], name="add_axis", broadcast=1, axis=1),
             helper.make_node("PRelu", ["s", "slope"], ["y"], name="prelu_c")]
    inits = [tensor("b", [3]), tensor("slope", [3])]
    return model(nodes, [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])], inits, opset=6)


def bn_training():
    n = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
                         name="bn_train", training_mode=1, momentum=0.8)
    inits = [tensor(k, [3]) for k in "sbmv"]
    return model([n], [vi("x", [2, 3, 2, 2])],
                 [vi("y", [2, 3, 2, 2]), vi("rm", [3]), vi("rv", [3])], inits, opset=15)


def bad_axis(op):
    """`op` with axis 2^40 on a [2, 3] input (ONNX 1.12's inference casts it
    to an int and accepts the model)."""
    big = 1 << 40
    ins, inits, extra = ["x"], [], {}
    if op == "Concat":
        ins = ["x", "x"]
    elif op == "Gather":
        ins = ["x", "i"]
        inits = [helper.make_tensor("i", TensorProto.INT64, [2], [0, 1])]
    elif op == "ScatterElements":
        ins = ["x", "i", "u"]
        inits = [helper.make_tensor("i", TensorProto.INT64, [2, 3], [0] * 6), tensor("u", [2, 3])]
    n = helper.make_node(op, ins, ["y"], name=f"bad_{op.lower()}", axis=big, **extra)
    return model([n], [vi("x", [2, 3])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                 inits)


def conv_attr(**attrs):
    """A 3x3 Conv on [1, 2, 6, 6] with `attrs` (strides 0 crashed ONNX 1.12's
    shape inference with SIGFPE)."""
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv_bad", **attrs)
    return model([n], [vi("x", [1, 2, 6, 6])], [vi("y", None)], [tensor("w", [4, 2, 3, 3])])


def bad_raw_length():
    # An int64 Reshape shape whose raw_data holds 12 bytes for dims [2] (16
    # needed): ONNX 1.12's ParseData read past it (a heap overflow).
    shape = TensorProto()
    shape.name, shape.data_type = "shape", TensorProto.INT64
    shape.dims.append(2)
    shape.raw_data = np.array([3, 2, 0], np.int32).tobytes()
    n = helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_raw")
    return model([n], [vi("x", [2, 3])], [vi("y", None)], [shape])


def bad_typed_count():
    w = TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([2, 3])
    w.float_data.extend([1.0] * 5)
    n = helper.make_node("Add", ["x", "w"], ["y"], name="add_short")
    return model([n], [vi("x", [2, 3])], [vi("y", None)], [w])


def conv_rank_mismatch(op):
    """A rank-3 input with a rank-4 weight (found by scripts/fuzz.sh: ONNX
    1.12's inference read past the input's dims, a SEGV)."""
    if op == "QLinearConv":
        ins = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"]
        inits = [helper.make_tensor(n, TensorProto.FLOAT, [], [1.0]) for n in ("xs", "ws", "ys")]
        inits += [helper.make_tensor(n, TensorProto.UINT8, [], [0]) for n in ("xz", "wz", "yz")]
        inits.append(helper.make_tensor("w", TensorProto.UINT8, [1, 1, 1, 1], [1]))
        x = vi("x", [1, 7, 7], TensorProto.UINT8)
    else:
        ins, inits, x = ["x", "w"], [tensor("w", [1, 1, 1, 1])], vi("x", [1, 7, 7])
    n = helper.make_node(op, ins, ["y"], name="conv_rank")
    return model([n], [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                 inits, opset=10)


def gemm_rank1():
    """Opset 6 Gemm with a rank-1 B (found by scripts/fuzz.sh: ONNX 1.12's
    inference read B's second dim past its end)."""
    n = helper.make_node("Gemm", ["a", "b", "c"], ["y"], name="gemm_rank1", broadcast=1)
    return model([n], [vi("a", [2, 3]), vi("b", [4])], [vi("y", [2, 4])],
                 [tensor("c", [4])], opset=6)


def untyped_input():
    """A graph input without an element type at opset 77 (found by
    scripts/fuzz.sh: ONNX 1.12's inference dereferenced its null type)."""
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")]
    x = helper.make_tensor_value_info("x", TensorProto.UNDEFINED, None)
    return model(nodes, [x], [vi("y", None)], opset=77)


def dup_output():
    # Two nodes define 'y': the first was silently dropped.
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="first"),
             helper.make_node("Neg", ["x"], ["y"], name="second")]
    return model(nodes, [vi("x", [3])], [vi("y", [3])])


def dup_graph_output():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [vi("x", [3])],
                 [vi("y", [3]), vi("y", [3])])


def unsorted():
    # Valid but for the order: 'b' is used before the node producing it.
    nodes = [helper.make_node("Neg", ["a"], ["y"], name="second"),
             helper.make_node("Relu", ["x"], ["a"], name="first")]
    return model(nodes, [vi("x", [3])], [vi("y", [3])])


def cycle():
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
             helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
             helper.make_node("Identity", ["a"], ["y"], name="out")]
    return model(nodes, [vi("x", [3])], [vi("y", [3])])


def unknown_attr():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu_extra", flavour=3)],
                 [vi("x", [3])], [vi("y", [3])])


def bn_epsilon(eps):
    n = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                         name="bn_eps", epsilon=eps)
    return model([n], [vi("x", [1, 3, 2, 2])], [vi("y", None)],
                 [tensor(k, [3]) for k in "sbmv"])


def gru_direction():
    n = helper.make_node("GRU", ["x", "w", "r"], ["y"], name="gru_sideways",
                         hidden_size=2, direction="sideways")
    return model([n], [vi("x", [4, 1, 3])], [vi("y", None)],
                 [tensor("w", [1, 6, 3]), tensor("r", [1, 6, 2])])


def depth_to_space(blocksize):
    n = helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s", blocksize=blocksize)
    return model([n], [vi("x", [1, 4, 2, 2])], [vi("y", None)])


def external_at(out, name, location):
    """external_data's model with its tensor's location replaced."""
    external_data(out)
    m = onnx.load(os.path.join(out, "external.onnx"), load_external_data=False)
    for t in m.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = location
    onnx.save(m, os.path.join(out, name + ".onnx"))


def huge_input():
    """A graph input declaring 2^40 floats (4 TiB)."""
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [1 << 40])], [vi("y", [1 << 40])])


def huge_expand():
    """A small input expanded by a constant shape to 2^20 x 2^20 floats: the
    size comes from shape inference, not from a declaration."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1 << 20, 1 << 20])
    return model([helper.make_node("Expand", ["x", "shape"], ["y"], name="expand")],
                 [vi("x", [1, 1])], [vi("y", None)], [shape])


def deep_chain(n):
    """Relu and Neg alternating, n nodes deep."""
    nodes = [helper.make_node("Relu" if i % 2 == 0 else "Neg",
                              ["x" if i == 0 else "v%d" % (i - 1)],
                              ["y" if i == n - 1 else "v%d" % i])
             for i in range(n)]
    return model(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])])


MODELS = {
    **{f"bad_axis_{op.lower()}": (lambda op=op: bad_axis(op))
       for op in ("Softmax", "Concat", "Gather", "Split", "Flatten", "ScatterElements")},
    "strides_zero": lambda: conv_attr(strides=[0, 0]),
    "dilations_zero": lambda: conv_attr(dilations=[1, 0]),
    "kernel_shape_zero": lambda: conv_attr(kernel_shape=[0, 3]),
    "pads_negative": lambda: conv_attr(pads=[0, -1, 0, 0]),
    "group_zero": lambda: conv_attr(group=0),
    "maxpool_strides_zero": lambda: model(
        [helper.make_node("MaxPool", ["x"], ["y"], name="pool_bad", kernel_shape=[2, 2],
                          strides=[0, 1])], [vi("x", [1, 2, 6, 6])], [vi("y", None)]),
    "d2s_huge": lambda: depth_to_space(1 << 31),
    "bad_raw_length": bad_raw_length, "bad_typed_count": bad_typed_count,
    "qlinearconv_rank": lambda: conv_rank_mismatch("QLinearConv"),
    "conv_rank": lambda: conv_rank_mismatch("Conv"),
    "gemm_rank1": gemm_rank1,
    "untyped_input": untyped_input,
    "huge_input": huge_input, "huge_expand": huge_expand,
    "deep_chain": lambda: deep_chain(100000),
    "dup_output": dup_output, "dup_graph_output": dup_graph_output,
    "unsorted": unsorted, "cycle": cycle, "unknown_attr": unknown_attr,
    "bn_eps_negative": lambda: bn_epsilon(-1.0), "bn_eps_nan": lambda: bn_epsilon(float("nan")),
    "gru_direction": gru_direction,
    "legacy_broadcast": legacy_broadcast, "bn_training": bn_training,
    "attr_kind": attr_kind,
    "neg_input": neg_input,
    "missing_input": missing_input, "no_outputs": no_outputs,
    "opset18": opset18, "opset21": opset21,
    "if_const": lambda: if_model(True), "if_runtime": lambda: if_model(False),
    "qdq": qdq, "qoperator": qoperator,
    "conv_net": conv_net, "shape_subgraph": shape_subgraph,
    "opset9": lambda: opset_forms(9), "opset13": lambda: opset_forms(13),
    "unknown_op": unknown_op, "unknown_domain": unknown_domain,
    "training_bn": training_bn, "missing_initializer": missing_initializer,
    "shape_contradiction": shape_contradiction, "sequence_input": sequence_input,
}

if __name__ == "__main__":
    out, name = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if name == "external":
        external_data(out)
    elif name == "bad_offset":
        # External data whose offset is not a number.
        external_data(out)
        m = onnx.load(os.path.join(out, "external.onnx"), load_external_data=False)
        for t in m.graph.initializer:
            for kv in t.external_data:
                if kv.key == "offset":
                    kv.value = "abc"
            if not any(kv.key == "offset" for kv in t.external_data):
                e = t.external_data.add()
                e.key, e.value = "offset", "abc"
        onnx.save(m, os.path.join(out, "bad_offset.onnx"))
    elif name in ("neg_dim", "huge_dim"):
        # Initializers whose dims are negative, or whose element count
        # overflows 64 bits (2^80), holding no data.
        w = TensorProto()
        w.name, w.data_type = "w", TensorProto.FLOAT
        w.dims.extend([-3] if name == "neg_dim" else [1 << 40, 1 << 40])
        m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [3])],
                  [vi("y", [3])], [w])
        open(os.path.join(out, name + ".onnx"), "wb").write(m.SerializeToString())
    elif name in ("ext_huge_length", "ext_huge_offset", "ext_huge_dims"):
        # External data claiming 2^62 bytes, starting at 2^62, or dims of
        # 2^40 floats over the file's bytes.
        external_data(out)
        m = onnx.load(os.path.join(out, "external.onnx"), load_external_data=False)
        t = m.graph.initializer[0]
        if name == "ext_huge_dims":
            # ReduceSum of an initializer of 2^20 x 2^20 floats whose
            # external data holds 16 bytes: inference passes, the tensor
            # is not read.
            c = TensorProto()
            c.name, c.data_type = "c", TensorProto.FLOAT
            c.dims.extend([1 << 20, 1 << 20])
            c.data_location = TensorProto.EXTERNAL
            for k, v in (("location", "external.bin"), ("offset", "0"), ("length", "16")):
                e = c.external_data.add()
                e.key, e.value = k, v
            m = model([helper.make_node("ReduceSum", ["c"], ["y"], keepdims=0)],
                      [], [vi("y", [])], [c])
        else:
            key = "length" if name == "ext_huge_length" else "offset"
            for kv in t.external_data:
                if kv.key == key:
                    kv.value = str(1 << 62)
            if not any(kv.key == key for kv in t.external_data):
                e = t.external_data.add()
                e.key, e.value = key, str(1 << 62)
        onnx.save(m, os.path.join(out, name + ".onnx"))
    elif name == "ext_parent":
        external_at(out, name, "../external.bin")
    elif name == "ext_absolute":
        external_at(out, name, os.path.abspath(os.path.join(out, "external.bin")))
    elif name == "ext_symlink":
        # A link in the model's directory to a file outside it.
        external_data(out)
        outside = os.path.abspath(os.path.join(out, "..", os.path.basename(out) + "-out.bin"))
        os.replace(os.path.join(out, "external.bin"), outside)
        link = os.path.join(out, "link.bin")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(outside, link)
        m = onnx.load(os.path.join(out, "external.onnx"), load_external_data=False)
        for t in m.graph.initializer:
            for kv in t.external_data:
                if kv.key == "location":
                    kv.value = "link.bin"
        onnx.save(m, os.path.join(out, "ext_symlink.onnx"))
    elif name == "truncated":
        data = conv_net().SerializeToString()
        open(os.path.join(out, "truncated.onnx"), "wb").write(data[: len(data) // 2])
    elif name == "garbage":
        open(os.path.join(out, "garbage.onnx"), "wb").write(b"this is not a protobuf \xff\xfe" * 8)
    else:
        onnx.save(MODELS[name](), os.path.join(out, name + ".onnx"))
