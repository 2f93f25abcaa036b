#!/usr/bin/env python3
"""Describe the ONNX test models: op histogram, per-node shapes, params, MACs.

Usage (from the repository root, Debian's Python with python3-onnx):

    /usr/bin/python3 test_models/describe.py                 # print markdown
    /usr/bin/python3 test_models/describe.py --write-readme  # refresh README.md
    /usr/bin/python3 test_models/describe.py --json out.json # machine-readable

Conventions (these are the numbers the C++ tests compare against):
  * Symbolic input dims (dynamic batch "batch", tf2onnx "unk__1") are
    resolved to 1 before shape inference.
  * Shapes come from onnx.shape_inference.  Shape-computing subgraphs that
    onnx's inference cannot see through (torch's chunk -> Shape/Gather/Add/
    Div/Mul -> Slice) are constant-folded here with numpy first, iterating
    until nothing changes.
  * params = sum of element counts of all graph initializers (Constant node
    payloads are NOT counted; they are reported separately).
  * MACs (batch 1):
      Conv         N * out_h * out_w * cout * (cin / group) * kh * kw
      Gemm         M * K * N   (rows * in_features * out_features)
      MatMul       prod(output shape) * K
    Bias additions, BN, activations, pooling are not counted.
"""

import argparse
import collections
import copy
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))

ORDER = [
    "mobilenetv1.onnx",
    "mobilenetv2.onnx",
    "resnet_basic.onnx",
    "squeezenet_fire.onnx",
    "shufflenet.onnx",
    "densenet.onnx",
    "mobilenetv3.onnx",
    "mobilenetv3_opset14.onnx",
    "tf_style_nhwc.onnx",
    "mlp_opset7.onnx",
]

DESCRIPTIONS = {
    "mobilenetv1.onnx":
        "MobileNetV1 at reduced width: conv3x3/s2-BN-ReLU stem (3->8), six depthwise-separable "
        "blocks (dw3x3-BN-ReLU + pw1x1-BN-ReLU; 8->16, 16->32/s2, 32->32, 32->64/s2, 64->64, "
        "64->128/s2), AdaptiveAvgPool(1) -> GlobalAveragePool, `x.view(x.size(0), -1)` "
        "(exported as Constant [1,-1] + Reshape), Linear 128->10 (Gemm). All BNs folded into Conv.",
    "mobilenetv2.onnx":
        "MobileNetV2 at reduced width, **dynamic batch** (`batch`): conv3x3/s2-BN-ReLU6 stem (3->16), "
        "inverted residuals (t,c,n,s) = (1,8,1,1), (6,12,2,2), (6,16,2,2), (6,24,2,2) with ReLU6 "
        "(Clip with Constant-node min/max inputs) and residual Add for the repeated blocks, "
        "1x1 conv 24->64, GlobalAveragePool, Flatten, Dropout (removed in eval) + Linear 64->10 (Gemm).",
    "resnet_basic.onnx":
        "ResNet with basic blocks, **dynamic batch** (`batch`): conv3x3/s2-BN-ReLU stem (3->16), "
        "MaxPool 3x3/s2/p1, identity basic block 16->16 (conv-BN-ReLU, conv-BN, Add, ReLU), "
        "stride-2 basic block 16->32 with 1x1/s2 conv+BN shortcut, GlobalAveragePool, Flatten, "
        "Linear 32->10.",
    "squeezenet_fire.onnx":
        "SqueezeNet-style at **opset 9**: conv3x3/s2 (no pad, with bias, no BN) 3->16, MaxPool 3x3/s2 "
        "(ceil_mode off: opset 9 MaxPool has no ceil_mode attribute), Fire(16; s4, e8+8) x2, MaxPool, "
        "Fire(16; s8, e16+16); each Fire = squeeze 1x1 + ReLU, expand 1x1 + ReLU and expand 3x3 + ReLU, "
        "Concat of the two expands. Classifier: Dropout (removed), conv1x1 32->10, ReLU, "
        "GlobalAveragePool, Flatten (graph output).",
    "shufflenet.onnx":
        "ShuffleNet mix at opset 11: conv3x3/s2-BN-ReLU stem (3->24), MaxPool; ShuffleNetV2 "
        "downsample unit (branch1: dw3x3/s2-BN, pw-BN-ReLU; branch2: pw, dw3x3/s2, pw; Concat); "
        "V2 unit with `x.chunk(2, 1)` (exported as Shape->Gather->Add->Div->Mul->Slice x2); V2 unit "
        "with `torch.split(x, [24, 24], 1)` (exported as one Split); every V2 unit ends with channel "
        "shuffle view-transpose-view = Reshape [1,2,24,8,8] -> Transpose perm [0,2,1,3,4] -> "
        "Reshape [1,-1,8,8]. ShuffleNetV1 unit: grouped 1x1 conv (group=4) 48->24, shuffle (g=4), "
        "dw3x3, grouped 1x1 (group=4) 24->48, residual Add, ReLU. Then a grouped 3x3/s2 conv "
        "(group=4) 48->64, 1x1 conv 64->128, `x.mean([2,3])` (ReduceMean keepdims=0), Linear 128->10.",
    "densenet.onnx":
        "DenseNet-style at opset 13: conv3x3/s2-BN-ReLU stem (3->16, BN folded), MaxPool; dense block "
        "of 4 layers (growth 8) where each layer does torch.cat(all previous features) then "
        "BN-ReLU-conv1x1 (->32) -BN-ReLU-conv3x3 (->8); so Concats with 1, 2, 3, 4 inputs inside the "
        "layers and a final 5-input Concat (48 channels). The pre-activation BNs stay as "
        "BatchNormalization nodes (not foldable: they precede the conv), the BN after conv1x1 is folded. "
        "Transition: BN-ReLU-conv1x1 48->24, AvgPool 2x2/s2 (exported as a zero Pad + AveragePool). "
        "Second dense block of 3 layers (24->48), final BN, ReLU, GlobalAveragePool, Flatten, Linear 48->10.",
    "mobilenetv3.onnx":
        "MobileNetV3-small style at **opset 13**: conv3x3/s2-BN-hardswish stem (3->16); block1: "
        "dw3x3/s2-BN-ReLU, SE (GlobalAveragePool -> conv1x1 16->8 -> ReLU -> conv1x1 8->16 -> "
        "HardSigmoid -> Mul), pw 16->16; block2: expand 16->48 ReLU, dw3x3/s2, project 48->24; "
        "block3: expand 24->72 hardswish, dw5x5 hardswish, SE (72->18->72), project 72->24, residual Add; "
        "conv1x1 24->96 hardswish; GlobalAveragePool, Flatten, Linear 96->128, hardswish, Dropout "
        "(removed), Linear 128->10, Softmax(axis=1). At opset 13 torch decomposes hardswish into "
        "HardSigmoid(alpha=1/6, beta=0.5 default) + Mul(x, hs).",
    "mobilenetv3_opset14.onnx":
        "Same network and weights as mobilenetv3.onnx, exported at **opset 14**: hardswish becomes a "
        "single HardSwish node; the SE gate stays HardSigmoid + Mul.",
    "tf_style_nhwc.onnx":
        "Hand-written (onnx.helper) imitation of tf2onnx output, opset 13, producer `tf2onnx`: NHWC "
        "input `input_1` [unk__1,64,64,3] (symbolic batch), Transpose perm [0,3,1,2], Conv3x3 3->16 "
        "with bias whose weight goes through an Identity node, Relu, depthwise Conv3x3/s2 (group 16) "
        "with bias and **asymmetric pads [0,0,1,1]** (TF 'SAME'), Relu6 as Clip with min/max "
        "scalar initializers (inputs 2 and 3), GlobalAveragePool, Reshape with shape [-1,16] from a "
        "Constant node, MatMul with 2-D weight [16,10] + Add bias, Softmax(axis=-1). Output `dense`.",
    "mlp_opset7.onnx":
        "Tiny MLP exported by torch at **opset 7** (IR version 3): Flatten, Gemm 64->32, Relu, "
        "Gemm 32->10. Because opset < 9, torch keeps the initializers also listed as graph inputs "
        "(`fc1.weight`, ... appear in graph.input) - a loader must not treat them as model inputs.",
}

REPORT_OPS = {"Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
              "GlobalMaxPool", "ReduceMean", "Concat"}

FOLDABLE = {"Shape", "Gather", "Add", "Sub", "Mul", "Div", "Unsqueeze", "Squeeze", "Concat",
            "Slice", "Cast", "Identity", "Reshape"}


# ----------------------------------------------------------------------------

def dims_of(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append("?")
    return out


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def fix_symbolic_inputs(model):
    """Return (copy with symbolic input dims set to 1, {input: declared dims})."""
    m = copy.deepcopy(model)
    inits = {i.name for i in m.graph.initializer}
    declared = {}
    for inp in m.graph.input:
        if inp.name in inits:
            continue
        declared[inp.name] = dims_of(inp)
        for d in inp.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.dim_value = 1
    # outputs / value_info may carry the symbolic name too; drop them so that
    # inference recomputes them from the (now static) input.
    for vi in list(m.graph.output):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param"):
                d.Clear()
    del m.graph.value_info[:]
    return m, declared


def _int_div(a, b):
    if np.issubdtype(a.dtype, np.integer):
        q = np.abs(a) // np.abs(b)
        return (np.sign(a) * np.sign(b) * q).astype(a.dtype)
    return (a / b).astype(a.dtype)


def fold_once(model):
    """Constant-fold shape subgraphs with numpy.  Returns number of folded nodes."""
    inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    shapes = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        shapes[vi.name] = dims_of(vi)
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(attr(n, "value"))

    folded = {}
    for n in model.graph.node:
        if n.op_type not in FOLDABLE:
            continue
        ins = list(n.input)
        try:
            if n.op_type == "Shape":
                s = shapes.get(ins[0])
                if s is None or not all(isinstance(d, int) for d in s):
                    continue
                val = np.array(s, dtype=np.int64)
            else:
                if not all((i == "" or i in consts) for i in ins):
                    continue
                v = [consts[i] if i else None for i in ins]
                if n.op_type == "Gather":
                    val = np.take(v[0], v[1], axis=attr(n, "axis", 0))
                elif n.op_type == "Add":
                    val = v[0] + v[1]
                elif n.op_type == "Sub":
                    val = v[0] - v[1]
                elif n.op_type == "Mul":
                    val = v[0] * v[1]
                elif n.op_type == "Div":
                    val = _int_div(v[0], v[1])
                elif n.op_type == "Unsqueeze":
                    axes = attr(n, "axes") if len(v) < 2 else v[1].tolist()
                    val = v[0]
                    for ax in sorted(a % (val.ndim + len(axes)) for a in axes):
                        val = np.expand_dims(val, ax)
                elif n.op_type == "Squeeze":
                    axes = attr(n, "axes") if len(v) < 2 else v[1].tolist()
                    val = np.squeeze(v[0], axis=tuple(axes) if axes is not None else None)
                elif n.op_type == "Concat":
                    val = np.concatenate(v, axis=attr(n, "axis"))
                elif n.op_type == "Cast":
                    val = v[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[attr(n, "to")])
                elif n.op_type == "Identity":
                    val = v[0]
                elif n.op_type == "Reshape":
                    continue  # only fold shape arithmetic, never data
                elif n.op_type == "Slice":
                    if len(v) < 2:   # opset < 10: attributes
                        starts, ends = attr(n, "starts"), attr(n, "ends")
                        axes = attr(n, "axes", list(range(len(starts))))
                        steps = [1] * len(starts)
                    else:
                        starts, ends = v[1].tolist(), v[2].tolist()
                        axes = v[3].tolist() if len(v) > 3 and v[3] is not None else list(range(len(starts)))
                        steps = v[4].tolist() if len(v) > 4 and v[4] is not None else [1] * len(starts)
                    sl = [slice(None)] * v[0].ndim
                    for s, e, a, st in zip(starts, ends, axes, steps):
                        sl[a] = slice(s, e, st)
                    val = v[0][tuple(sl)]
                else:
                    continue
        except Exception:
            continue
        # Only fold integer (shape) tensors; keep float data computations.
        if not np.issubdtype(np.asarray(val).dtype, np.integer):
            continue
        folded[n.output[0]] = np.asarray(val)
        consts[n.output[0]] = np.asarray(val)

    if not folded:
        return 0
    # Replace folded nodes by initializers.
    keep = [n for n in model.graph.node if not (len(n.output) == 1 and n.output[0] in folded)]
    del model.graph.node[:]
    model.graph.node.extend(keep)
    for name, val in folded.items():
        model.graph.initializer.append(numpy_helper.from_array(val, name))
    return len(folded)


def static_shapes(model):
    """Shapes of every tensor after resolving symbolic batch and folding shape math."""
    m, declared = fix_symbolic_inputs(model)
    work = copy.deepcopy(m)
    # Only fold when there is something that onnx inference cannot resolve.
    for _ in range(20):
        if not any(n.op_type == "Shape" for n in work.graph.node):
            break
        if fold_once(work) == 0:
            break
    inferred = shape_inference.infer_shapes(work, check_type=True, strict_mode=True, data_prop=True)
    shapes = {}
    for i in work.graph.initializer:
        shapes[i.name] = list(i.dims)
    for n in work.graph.node:
        if n.op_type == "Constant":
            shapes[n.output[0]] = list(attr(n, "value").dims)
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        shapes[vi.name] = dims_of(vi)
    return shapes, declared


def analyse(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    shape_inference.infer_shapes(model, check_type=True, strict_mode=True)

    shapes, declared = static_shapes(model)
    init_names = {i.name for i in model.graph.initializer}
    params = int(sum(int(np.prod(i.dims)) if len(i.dims) else 1 for i in model.graph.initializer))
    const_elems = 0
    for n in model.graph.node:
        if n.op_type == "Constant":
            t = attr(n, "value")
            const_elems += int(np.prod(t.dims)) if len(t.dims) else 1

    hist = collections.Counter(n.op_type for n in model.graph.node)
    rows = []
    total_macs = 0
    for n in model.graph.node:
        if n.op_type not in REPORT_OPS:
            continue
        out = shapes.get(n.output[0])
        if out is None or not all(isinstance(d, int) for d in out):
            raise RuntimeError("%s: unresolved shape for %s (%s): %s" % (path, n.name, n.op_type, out))
        row = {"name": n.name, "op": n.op_type, "output_shape": out}
        macs = 0
        if n.op_type == "Conv":
            w = shapes[n.input[1]]
            x = shapes[n.input[0]]
            group = attr(n, "group", 1)
            ks = attr(n, "kernel_shape", w[2:])
            row.update({
                "input_shape": x,
                "group": group,
                "kernel_shape": list(ks),
                "strides": list(attr(n, "strides", [1] * len(ks))),
                "pads": list(attr(n, "pads", [0] * (2 * len(ks)))),
                "dilations": list(attr(n, "dilations", [1] * len(ks))),
                "weight_shape": w,
                "bias": len(n.input) > 2 and n.input[2] != "",
            })
            cin = x[1]
            macs = out[0] * out[2] * out[3] * out[1] * (cin // group) * ks[0] * ks[1]
        elif n.op_type == "Gemm":
            a = shapes[n.input[0]]
            b = shapes[n.input[1]]
            ta, tb = attr(n, "transA", 0), attr(n, "transB", 0)
            m_ = a[1] if ta else a[0]
            k_ = a[0] if ta else a[1]
            n_ = b[0] if tb else b[1]
            row.update({"input_shape": a, "weight_shape": b, "transB": tb})
            macs = m_ * k_ * n_
        elif n.op_type == "MatMul":
            a = shapes[n.input[0]]
            b = shapes[n.input[1]]
            row.update({"input_shape": a, "weight_shape": b})
            macs = int(np.prod(out)) * a[-1]
        elif n.op_type in ("MaxPool", "AveragePool"):
            row.update({"kernel_shape": list(attr(n, "kernel_shape")),
                        "strides": list(attr(n, "strides", [])),
                        "pads": list(attr(n, "pads", []))})
        elif n.op_type == "Concat":
            row.update({"num_inputs": len(n.input), "axis": attr(n, "axis")})
        elif n.op_type == "ReduceMean":
            row.update({"axes": list(attr(n, "axes", [])), "keepdims": attr(n, "keepdims", 1)})
        row["macs"] = int(macs)
        total_macs += int(macs)
        rows.append(row)

    inputs = [{"name": i.name, "shape": declared[i.name]} for i in model.graph.input if i.name not in init_names]
    outputs = [{"name": o.name, "shape": dims_of(o), "static_shape": shapes.get(o.name)} for o in model.graph.output]
    return {
        "file": os.path.basename(path),
        "size_bytes": os.path.getsize(path),
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "ir_version": model.ir_version,
        "producer": "%s %s" % (model.producer_name, model.producer_version),
        "inputs": inputs,
        "outputs": outputs,
        "initializers_in_graph_inputs": sum(1 for i in model.graph.input if i.name in init_names),
        "num_nodes": len(model.graph.node),
        "op_histogram": dict(sorted(hist.items())),
        "num_initializers": len(model.graph.initializer),
        "params": params,
        "constant_node_elements": const_elems,
        "macs": total_macs,
        "nodes": rows,
    }


def fmt_shape(s):
    return "[" + ",".join(str(d) for d in s) + "]"


def markdown(info):
    L = []
    L.append("### %s" % info["file"])
    L.append("")
    L.append(DESCRIPTIONS.get(info["file"], ""))
    L.append("")
    L.append("| key | value |")
    L.append("|---|---|")
    L.append("| opset / IR version | %d / %d |" % (info["opset"], info["ir_version"]))
    L.append("| producer | %s |" % info["producer"].strip())
    L.append("| file size | %d bytes |" % info["size_bytes"])
    for i in info["inputs"]:
        L.append("| input | `%s` %s |" % (i["name"], fmt_shape(i["shape"])))
    for o in info["outputs"]:
        L.append("| output | `%s` %s (batch 1: %s) |" % (o["name"], fmt_shape(o["shape"] or []),
                                                       fmt_shape(o["static_shape"] or [])))
    if info["initializers_in_graph_inputs"]:
        L.append("| initializers also in graph.input | %d |" % info["initializers_in_graph_inputs"])
    L.append("| nodes | %d |" % info["num_nodes"])
    L.append("| initializers | %d |" % info["num_initializers"])
    L.append("| **params** (sum of initializer elements) | **%d** |" % info["params"])
    L.append("| Constant-node elements (not in params) | %d |" % info["constant_node_elements"])
    L.append("| **MACs** (Conv + Gemm + MatMul, batch 1) | **%d** |" % info["macs"])
    L.append("")
    L.append("Op histogram: " + ", ".join("%s %d" % kv for kv in info["op_histogram"].items()))
    L.append("")
    L.append("| # | node | op | output (batch 1) | details | MACs |")
    L.append("|---|---|---|---|---|---|")
    for k, r in enumerate(info["nodes"]):
        if r["op"] == "Conv":
            d = "in %s, W %s, group %d, k %s, s %s, pads %s%s%s" % (
                fmt_shape(r["input_shape"]), fmt_shape(r["weight_shape"]), r["group"],
                fmt_shape(r["kernel_shape"]), fmt_shape(r["strides"]), fmt_shape(r["pads"]),
                "" if r["dilations"] == [1, 1] else ", dil %s" % fmt_shape(r["dilations"]),
                ", bias" if r["bias"] else "")
        elif r["op"] == "Gemm":
            d = "in %s, W %s, transB %d" % (fmt_shape(r["input_shape"]), fmt_shape(r["weight_shape"]), r["transB"])
        elif r["op"] == "MatMul":
            d = "in %s, W %s" % (fmt_shape(r["input_shape"]), fmt_shape(r["weight_shape"]))
        elif r["op"] in ("MaxPool", "AveragePool"):
            d = "k %s, s %s, pads %s" % (fmt_shape(r["kernel_shape"]), fmt_shape(r["strides"]), fmt_shape(r["pads"]))
        elif r["op"] == "Concat":
            d = "%d inputs, axis %d" % (r["num_inputs"], r["axis"])
        elif r["op"] == "ReduceMean":
            d = "axes %s, keepdims %d" % (fmt_shape(r["axes"]), r["keepdims"])
        else:
            d = ""
        L.append("| %d | `%s` | %s | %s | %s | %s |" % (k, r["name"], r["op"], fmt_shape(r["output_shape"]),
                                                      d, r["macs"] if r["macs"] else ""))
    L.append("")
    return "\n".join(L)


def summary_table(infos):
    L = ["| file | opset | input | size (bytes) | nodes | params | MACs |",
         "|---|---|---|---|---|---|---|"]
    for i in infos:
        inp = ", ".join("`%s` %s" % (x["name"], fmt_shape(x["shape"])) for x in i["inputs"])
        L.append("| %s | %d | %s | %d | %d | %d | %d |" % (i["file"], i["opset"], inp, i["size_bytes"],
                                                         i["num_nodes"], i["params"], i["macs"]))
    L.append("")
    L.append("Total size of all .onnx files: %d bytes." % sum(i["size_bytes"] for i in infos))
    L.append("")
    return "\n".join(L)


BEGIN = "<!-- BEGIN GENERATED by describe.py: do not edit by hand -->"
END = "<!-- END GENERATED -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    files = args.files or [os.path.join(HERE, f) for f in ORDER]
    infos = [analyse(f) for f in files]
    md = summary_table(infos) + "\n" + "\n".join(markdown(i) for i in infos)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(infos, fh, indent=1)
            fh.write("\n")
    if args.write_readme:
        path = os.path.join(HERE, "README.md")
        text = open(path).read()
        a, b = text.index(BEGIN), text.index(END)
        text = text[:a + len(BEGIN)] + "\n\n" + md + "\n" + text[b:]
        with open(path, "w") as fh:
            fh.write(text)
    if not args.write_readme and not args.json:
        sys.stdout.write(md)


if __name__ == "__main__":
    main()
