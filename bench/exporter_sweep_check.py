#!/usr/bin/env python3
"""Run deepen on every model bench/exporter_sweep.py wrote, and say what went wrong.

    /usr/bin/python3 bench/exporter_sweep_check.py DEEPEN_BINARY MODELDIR [--predictors DIR]

For each model, under DEEPEN_SHAPE_INFERENCE unset, =onnx and =deepen: `deepen predict
--predictor cortexA76cpu_tflite --purpose energy --per-kernel --format json` (with `--input-shape`
of the static export's size for an export whose height and width are dynamic). Reports a crash
(signal), an exit code other than 0, kernels detected as other:/unknown, uncovered kernels, and
a model whose energy or kernel types differ from its net's opset-13 static export (every export
of one net must give the same prediction).
"""

import collections
import json
import os
import re
import subprocess
import sys


def run(binary, model, mode, predictors, extra=()):
    env = dict(os.environ)
    env.pop("DEEPEN_SHAPE_INFERENCE", None)
    if mode != "auto":
        env["DEEPEN_SHAPE_INFERENCE"] = mode
    cmd = [binary, "predict", "--predictor", "cortexA76cpu_tflite", "--purpose", "energy",
           "--modelpath", model, "--per-kernel", "--format", "json"]
    if predictors:
        cmd += ["--predictors", predictors]
    cmd += list(extra)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    res = {"rc": p.returncode, "err": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""}
    if p.returncode == 0:
        m = json.loads(p.stdout)["models"][0]
        kl = m.get("kernel_list", [])
        res["energy"] = m["energy_mj"]
        res["types"] = [k["type"] for k in kl if k["source"] != "zero-cost"]
        res["odd"] = sorted({k["type"] for k in kl if k["type"].startswith(("other", "unknown"))})
        res["uncovered"] = sorted({k["type"] for k in kl if k["source"] == "uncovered"})
    return res


def main():
    binary, folder = sys.argv[1], sys.argv[2]
    predictors = sys.argv[sys.argv.index("--predictors") + 1] if "--predictors" in sys.argv else None
    models = sorted(f for f in os.listdir(folder) if f.endswith(".onnx"))
    results = {}
    problems = collections.defaultdict(list)
    for f in models:
        path = os.path.join(folder, f)
        extra = input_shape(folder, f) if "_spatial" in f else ()
        r = {mode: run(binary, path, mode, predictors, extra) for mode in ("auto", "onnx", "deepen")}
        results[f] = r
        for mode, x in r.items():
            if x["rc"] < 0 or x["rc"] > 2:
                problems[f].append("%s: CRASH rc=%d %s" % (mode, x["rc"], x["err"]))
            elif x["rc"] != 0:
                problems[f].append("%s: rc=%d %s" % (mode, x["rc"], x["err"]))
        a = r["auto"]
        if a["rc"] == 0:
            if a["odd"]:
                problems[f].append("odd kernels: " + " ".join(a["odd"]))
            if a["uncovered"]:
                problems[f].append("uncovered: " + " ".join(a["uncovered"]))
            for mode in ("onnx", "deepen"):
                b = r[mode]
                if b["rc"] == 0 and (b["types"] != a["types"] or not close(a["energy"], b["energy"])):
                    problems[f].append("%s differs from auto: %s vs %s mJ" % (mode, b["energy"], a["energy"]))
    # the same net exported differently must give the same prediction
    for f in models:
        net = f.split("_op")[0]
        ref = "%s_op13_static.onnx" % net
        if f == ref or ref not in results or results[ref]["auto"]["rc"] != 0:
            continue
        a, b = results[ref]["auto"], results[f]["auto"]
        if b["rc"] == 0 and (b["types"] != a["types"] or not close(a["energy"], b["energy"])):
            problems[f].append("differs from %s: %s vs %s mJ; kernels %s" % (
                ref, b["energy"], a["energy"], diff(a["types"], b["types"])))
    ok = sum(1 for f in models if not problems[f])
    for f in models:
        for p in problems[f]:
            print("%-40s %s" % (f, p))
    print("%d models, %d without a finding" % (len(models), ok))
    with open(os.path.join(folder, "results.json"), "w") as out:
        json.dump(results, out)


def input_shape(folder, f):
    """Height and width of a spatially dynamic export: those of the same net's static export."""
    import onnx
    static = os.path.join(folder, f.replace("_spatial", "_static"))
    if not os.path.exists(static):
        return ()
    dims = [d.dim_value for d in onnx.load(static).graph.input[0].type.tensor_type.shape.dim]
    return ("--input-shape", "input:" + "x".join(str(d) for d in dims))


def close(x, y):
    if x is None or y is None:
        return x == y
    return abs(x - y) <= 1e-6 + 1e-4 * abs(x)


def diff(a, b):
    ca, cb = collections.Counter(a), collections.Counter(b)
    return "-%s +%s" % (dict(ca - cb), dict(cb - ca))


if __name__ == "__main__":
    main()
