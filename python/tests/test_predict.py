"""Predictions from Python are the CLI's: the same JSON for every test model, from a path or from
bytes, serial or on threads."""
import concurrent.futures
import math

import pytest

import deepen
from conftest import PREDICTORS, TEST_MODELS, model_paths

# (predictor, purpose): the energy predictor of the CPU, a latency-only GPU predictor, and a
# predictor learned from whole networks (model-level terms) asked for power.
CASES = [("cortexA76cpu_tflite", "energy"), ("adreno640gpu_int8", "latency"), ("jetsontx2gpu", "power")]


@pytest.fixture(scope="module")
def predictors():
    return {name: deepen.Predictor(name, predictors_dir=str(PREDICTORS)) for name, _ in CASES}


def test_there_are_test_models():
    assert len(model_paths()) >= 10


@pytest.mark.parametrize("name,purpose", CASES)
def test_folder_json_is_the_clis_byte_for_byte(cli_json, predictors, name, purpose):
    # The CLI over the whole folder, and the module over the same files: the same document.
    expected, text, _ = cli_json("predict", "-p", name, "--purpose", purpose, "-m", TEST_MODELS, "-f", "json",
                                 "--per-kernel", "--predictors", PREDICTORS)
    paths = [str(p) for p in model_paths()]
    results = predictors[name].predict_many(paths, purpose=purpose, errors="keep")
    assert [r.model for r in results] == [m["model"] for m in expected["models"]]
    assert deepen.to_json(results, per_kernel=True) == text
    _, summary_text, _ = cli_json("predict", "-p", name, "--purpose", purpose, "-m", TEST_MODELS, "-f", "json",
                                  "--predictors", PREDICTORS)
    assert deepen.to_json(results) == summary_text


@pytest.mark.parametrize("name,purpose", CASES)
@pytest.mark.parametrize("path", model_paths(), ids=lambda p: p.stem)
def test_each_model_matches_cli(cli_json, predictors, name, purpose, path):
    expected, _, code = cli_json("predict", "-p", name, "--purpose", purpose, "-m", path, "-f", "json",
                                 "--per-kernel", "--all-purposes", "--predictors", PREDICTORS)
    model = expected["models"][0]
    p = predictors[name]
    if "error" in model:
        assert code != 0
        with pytest.raises(deepen.Error) as e:
            p.predict(str(path), purpose=purpose)
        assert model["error"] in str(e.value)
        return
    r = p.predict(str(path), purpose=purpose)
    assert r.to_dict(all_purposes=True) == model
    assert r.to_dict(per_kernel=False, all_purposes=True) == {k: v for k, v in model.items() if k != "kernel_list"}

    # The attributes say what the JSON says.
    field = {"latency": "latency_ms", "energy": "energy_mj", "power": "power_mw"}[purpose]
    assert r.purpose == purpose and r.unit == {"latency": "ms", "energy": "mJ", "power": "mW"}[purpose]
    assert r.value == model[field] and getattr(r, field) == model[field]
    assert r.latency_ms == model["latency_ms"] and r.energy_mj == model["energy_mj"]
    assert r.power_mw == model["power_mw"]
    assert r.coverage == model["coverage"]["kernels"]
    assert r.flop_coverage == model["coverage"]["flops"]
    assert r.uncovered_share == model["coverage"]["uncovered_kernels"]
    assert r.extrapolated_share == model["extrapolated_share"]
    assert (r.macs, r.flops, r.params, r.kernel_count) == (model["macs"], model["flops"], model["params"],
                                                            model["kernels"])
    assert r.predictor == expected["predictor"]["name"] and r.predictor_version == expected["predictor"]["version"]
    assert r.error is None
    assert len(r.kernels) == len(model["kernel_list"])
    for k, j in zip(r.kernels, model["kernel_list"]):
        assert (k.type, k.nodes, k.ops, k.config, k.scored_as) == (j["type"], j["nodes"], j["ops"], j["config"],
                                                                   j["scored_as"])
        assert (k.macs, k.flops, k.params, k.bytes) == (j["macs"], j["flops"], j["params"], j["bytes"])
        assert (k.latency_ms, k.energy_mj, k.power_mw) == (j["latency_ms"], j["energy_mj"], j["power_mw"])
        assert k.source == j["source"] and k.sources == j["sources"]
        assert k.extrapolated == j["extrapolated"]
        assert k.extrapolated_why == j.get("extrapolated_why", "")
        assert k.value == j[field]

    # Source shares: the kernels' numbers by source (and the per-inference constant) make the value.
    shares = r.source_shares
    if r.value:
        assert math.isclose(sum(shares.values()), 1.0, rel_tol=1e-9)
        weigh = "latency_ms" if purpose == "latency" else "energy_mj"
        trained = sum(getattr(k, weigh) or 0 for k in r.kernels if k.sources[purpose] == "trained")
        assert math.isclose(shares.get("trained", 0.0), trained / getattr(r, weigh), rel_tol=1e-9, abs_tol=1e-12)
        constant = model.get("per_inference", {}).get(weigh, 0)
        assert math.isclose(shares.get("per-inference", 0.0), constant / getattr(r, weigh))


@pytest.mark.parametrize("path", model_paths(), ids=lambda p: p.stem)
def test_bytes_give_what_the_path_gives(cpu, path):
    try:
        from_path = cpu.predict(str(path)).to_dict()
    except deepen.Error as e:
        with pytest.raises(type(e)):
            cpu.predict(path.read_bytes())
        return
    data = path.read_bytes()
    assert cpu.predict(data, label=str(path)).to_dict() == from_path
    for buffer in (bytearray(data), memoryview(data)):
        assert cpu.predict(buffer, label=str(path)).to_dict() == from_path
    unlabelled = cpu.predict(data).to_dict()
    assert unlabelled.pop("model") == "<bytes>"
    from_path.pop("model")
    assert unlabelled == from_path
    assert cpu.predict(path).to_dict()["model"] == str(path)  # a pathlib.Path works too


def test_input_shapes_as_tuple_or_text(cli_json, cpu):
    path = TEST_MODELS / "mobilenetv2.onnx"
    expected, _, _ = cli_json("predict", "-p", "cortexA76cpu_tflite", "-m", path, "-f", "json",
                              "--input-shape", "input:1x3x160x160", "--predictors", PREDICTORS)
    as_text = cpu.predict(str(path), input_shapes={"input": "1x3x160x160"})
    as_tuple = cpu.predict(str(path), input_shapes={"input": (1, 3, 160, 160)})
    assert as_text.to_dict(per_kernel=False) == expected["models"][0]
    assert as_tuple.to_dict() == as_text.to_dict()
    assert as_text.value != cpu.predict(str(path)).value


def test_no_fallback_as_the_cli(cli_json, cpu):
    path = TEST_MODELS / "mobilenetv3.onnx"
    expected, _, _ = cli_json("predict", "-p", "cortexA76cpu_tflite", "-m", path, "-f", "json", "--no-fallback",
                              "--per-kernel", "--predictors", PREDICTORS)
    r = cpu.predict(str(path), use_fallback=False)
    assert r.to_dict() == expected["models"][0]
    assert all(k.source != "fallback" for k in r.kernels)


def test_threads_give_the_serial_results(cpu):
    models = [p.read_bytes() for p in model_paths()] * 4
    labels = [f"m{i}" for i in range(len(models))]
    serial = [r.to_dict() for r in cpu.predict_many(models, labels=labels, errors="keep")]
    assert [d["model"] for d in serial] == labels
    for threads in (0, 2, 4):
        parallel = [r.to_dict() for r in cpu.predict_many(models, labels=labels, errors="keep", threads=threads)]
        assert parallel == serial

    # Python threads calling predict() at once (the GIL is released while C++ works).
    def one(i):
        try:
            return cpu.predict(models[i], label=labels[i]).to_dict()
        except deepen.Error as e:
            return str(e)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(one, range(len(models))))
    for got, want in zip(threaded, serial):
        if isinstance(got, str):
            assert want["error"] in got
        else:
            assert got == want


def test_predict_many_keeps_or_raises(cpu):
    good = (TEST_MODELS / "mobilenetv2.onnx").read_bytes()
    models = [good, b"not an onnx model", str(TEST_MODELS / "mobilenetv1.onnx")]
    kept = cpu.predict_many(models, errors="keep")
    assert [r.model for r in kept] == ["<bytes[0]>", "<bytes[1]>", str(TEST_MODELS / "mobilenetv1.onnx")]
    assert kept[0].error is None and kept[2].error is None
    assert "not a valid ONNX model" in kept[1].error and kept[1].value is None
    assert kept[0].to_dict() == dict(cpu.predict(good).to_dict(), model="<bytes[0]>")
    with pytest.raises(deepen.BadInputError, match=r"<bytes\[1\]>: not a valid ONNX model"):
        cpu.predict_many(models)
    assert cpu.predict_many([]) == []
    assert [r.model for r in cpu.predict_many(iter([good]), labels=["a"])] == ["a"]
    with pytest.raises(deepen.BadInputError, match="labels: 1 given for 2 models"):
        cpu.predict_many([good, good], labels=["a"])
    with pytest.raises(deepen.BadInputError, match="errors="):
        cpu.predict_many([good], errors="ignore")
    with pytest.raises(deepen.BadInputError, match="threads"):
        cpu.predict_many([good], threads=-1)


def test_result_repr_and_kernels_module_function(cpu):
    r = cpu.predict(str(TEST_MODELS / "mobilenetv2.onnx"))
    assert repr(r).startswith("deepen.Result(") and "energy_mj=" in repr(r)
    assert repr(r.kernels[0]).startswith("deepen.Kernel(")
    assert "cortexA76cpu_tflite" in repr(cpu)
    d = r.kernels[0].to_dict()
    assert d["type"] == r.kernels[0].type and d["energy_mj"] == r.kernels[0].energy_mj
