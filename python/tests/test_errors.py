"""Every bad input raises a deepen.Error subclass carrying deepen's message; none crashes."""
import pathlib

import pytest

import deepen
from conftest import PREDICTORS, TEST_MODELS

GOOD = TEST_MODELS / "mobilenetv2.onnx"
BAD_INPUTS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "bad_inputs"


def test_the_classes():
    for cls in (deepen.BadInputError, deepen.UnknownPredictorError, deepen.UnsupportedError,
                deepen.PredictionError, deepen.RegistryError):
        assert issubclass(cls, deepen.Error) and cls.__module__ == "deepen" and cls.__doc__
    assert issubclass(deepen.Error, Exception)
    assert issubclass(deepen.BadInputError, ValueError)
    assert issubclass(deepen.UnknownPredictorError, LookupError)


@pytest.mark.parametrize("data,message", [
    (b"", "the file is empty"),
    (b"not an onnx model at all", "not a valid ONNX model"),
    (GOOD.read_bytes()[:1000], "not a valid ONNX model"),
])
def test_bad_bytes(cpu, data, message):
    with pytest.raises(deepen.BadInputError, match=message) as e:
        cpu.predict(data)
    assert str(e.value).startswith("<bytes>: ")
    with pytest.raises(deepen.BadInputError, match=message):
        deepen.kernels(data)


def test_every_broken_model_of_the_cli_suite(cpu):
    # tests/bad_inputs/: the files the CLI's robustness tests read; from a path and from bytes.
    files = sorted(BAD_INPUTS.rglob("*.onnx"))
    if not files:
        pytest.skip(f"no .onnx files under {BAD_INPUTS}")
    for f in files:
        for model in (str(f), f.read_bytes()):
            try:
                cpu.predict(model)
            except deepen.Error as e:
                assert str(e)
                assert type(e) is not deepen.Error, f"{f}: {e!r} has no class"


def test_missing_file(cpu, tmp_path):
    with pytest.raises(deepen.BadInputError, match="cannot open the file"):
        cpu.predict(str(tmp_path / "absent.onnx"))
    with pytest.raises(deepen.BadInputError):
        cpu.predict(str(tmp_path))  # a folder
    with pytest.raises(deepen.BadInputError, match="empty path"):
        cpu.predict("")


def test_unknown_predictor():
    with pytest.raises(deepen.UnknownPredictorError, match="cortexA76cpu_tflite") as e:
        deepen.Predictor("cortexA76cpu_tfllite", predictors_dir=str(PREDICTORS))  # says "did you mean"
    assert isinstance(e.value, LookupError)
    with pytest.raises(deepen.UnknownPredictorError):
        deepen.Predictor("cortexA76cpu_tflite", version="9.9", predictors_dir=str(PREDICTORS))
    with pytest.raises(deepen.UnknownPredictorError):
        deepen.kernels(str(GOOD), predictor="nonesuch", predictors_dir=str(PREDICTORS))


def test_bad_registry(tmp_path):
    with pytest.raises(deepen.RegistryError):
        deepen.Predictor("cortexA76cpu_tflite", predictors_dir=str(tmp_path))
    (tmp_path / "predictors.yaml").write_text("- name: [this is not\n")
    with pytest.raises(deepen.RegistryError):
        deepen.list_predictors(predictors_dir=str(tmp_path))


def test_a_predictors_broken_files_are_a_registry_error(tmp_path, cli):
    # The error's kind, not where it was caught, decides the class: fusion rules that do not read
    # are the predictor's (RegistryError), as a booster that is not one; the CLI exits 2 on both.
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "rules.yaml").write_text("chains: 3\n")
    (tmp_path / "p" / "garbage.ubj").write_bytes(b"\x01\x02 not a booster")
    kernels = "  kernels: {conv-bn-relu: {energy: garbage.ubj}}\n"
    (tmp_path / "predictors.yaml").write_text(
        "- name: rules\n  version: 1\n  folder: p\n  fusion_rules: rules.yaml\n" + kernels +
        "- name: booster\n  version: 1\n  folder: p\n" + kernels)
    for name, words in (("rules", "rules.yaml: "), ("booster", "not an XGBoost booster")):
        with pytest.raises(deepen.RegistryError, match=words) as e:
            deepen.Predictor(name, predictors_dir=str(tmp_path))
        code, _, err = cli("kernels", "-p", name, GOOD, "--predictors", tmp_path)
        assert code == 2 and err == f"deepen: error: {e.value}\n"


def test_a_model_deepen_cannot_handle_is_bad_input(cpu, tmp_path):
    # Unsupported (an opset deepen does not read) is a BadInputError, a ValueError, as it always was.
    model = tmp_path / "opset99.onnx"
    model.write_bytes(_with_opset(GOOD.read_bytes(), 99))
    with pytest.raises(deepen.BadInputError, match="ONNX opset 99 is not supported"):
        cpu.predict(str(model))


def _varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        value |= (b & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if b < 0x80:
            return value, i


def _encode_varint(value):
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _with_opset(data, opset):
    """The model's bytes with its opset_import (ModelProto field 8) replaced by the default domain
    at `opset` (OperatorSetIdProto field 2), written with protobuf's wire format by hand."""
    out, i = bytearray(), 0
    while i < len(data):
        start = i
        key, i = _varint(data, i)
        wire = key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:  # length-delimited
            n, i = _varint(data, i)
            i += n
        if key >> 3 != 8:
            out += data[start:i]
    opset_id = b"\x10" + _encode_varint(opset)  # version = opset, domain "" (the default)
    return bytes(out) + b"\x42" + _encode_varint(len(opset_id)) + opset_id


def test_bad_purpose(cpu):
    with pytest.raises(deepen.BadInputError, match="thrust"):
        cpu.predict(str(GOOD), purpose="thrust")
    with pytest.raises(deepen.BadInputError):
        cpu.predict_many([str(GOOD)], purpose="")
    with pytest.raises(deepen.BadInputError):
        cpu.supports("speed")
    assert cpu.predict(str(GOOD), purpose="ENERGY").purpose == "energy"  # any letter case, as the CLI


def test_unsupported_purpose(cli):
    # A predictor that can give no number for a purpose says why, as the CLI does (exit 2).
    for entry in deepen.list_predictors(predictors_dir=str(PREDICTORS)):
        p = deepen.Predictor(entry["name"], version=entry["version"], predictors_dir=str(PREDICTORS))
        for purpose in ("latency", "energy", "power"):
            if p.supports(purpose):
                continue
            code, _, err = cli("predict", "-p", entry["name"], "--predictor-version", entry["version"],
                               "--purpose", purpose, "-m", GOOD, "--predictors", PREDICTORS)
            assert code == 2
            with pytest.raises(deepen.UnsupportedError) as e:
                p.predict(str(GOOD), purpose=purpose)
            assert str(e.value) in err
            return
    pytest.skip("every shipped predictor supports every purpose")


def test_prediction_error(cli, tmp_path):
    # Nothing scored: the CLI fails the model (exit 3); Python raises PredictionError, or keeps it.
    for entry in deepen.list_predictors(predictors_dir=str(PREDICTORS)):
        for purpose in entry["purposes"]:
            code, _, err = cli("predict", "-p", entry["name"], "--predictor-version", entry["version"],
                               "--purpose", purpose, "-m", TEST_MODELS / "mlp_opset7.onnx", "--no-fallback",
                               "-f", "json", "--predictors", PREDICTORS)
            if code == 0:
                continue
            p = deepen.Predictor(entry["name"], version=entry["version"], predictors_dir=str(PREDICTORS))
            with pytest.raises(deepen.PredictionError, match="could be predicted") as e:
                p.predict(str(TEST_MODELS / "mlp_opset7.onnx"), purpose=purpose, use_fallback=False)
            assert str(e.value).split(": ", 1)[1] in err
            kept = p.predict_many([str(TEST_MODELS / "mlp_opset7.onnx")], purpose=purpose, use_fallback=False,
                                  errors="keep")
            assert kept[0].error and kept[0].value is None
            return
    pytest.skip("every predictor scores the MLP without its fallback")


@pytest.mark.parametrize("shapes", [{"input": "1xax3"}, {"input": (1, "a")}, {"input": 3}, {"input": (1, -3)},
                                    {"input": "0x3x224x224"}])
def test_bad_input_shapes(cpu, shapes):
    with pytest.raises(deepen.BadInputError):
        cpu.predict(str(GOOD), input_shapes=shapes)


def test_wrong_types(cpu):
    with pytest.raises(TypeError, match="path .* or the bytes of an ONNX model, not int"):
        cpu.predict(42)
    with pytest.raises(TypeError):
        cpu.predict(b"x".decode().encode(), purpose=3)
    with pytest.raises(TypeError):
        cpu.predict_many(5)
    for one_model in (str(GOOD), GOOD, GOOD.read_bytes()):
        with pytest.raises(TypeError, match="for one model, call predict"):
            cpu.predict_many(one_model)
    with pytest.raises(TypeError):
        deepen.to_json([1])
    with pytest.raises(TypeError):
        deepen.kernels(str(GOOD), predictor=7)
    with pytest.raises(deepen.BadInputError):
        deepen.to_json([])


def test_to_json_refuses_mixed_purposes(cpu):
    a = cpu.predict(str(GOOD), purpose="energy")
    with pytest.raises(deepen.BadInputError, match="different predictors or purposes"):
        deepen.to_json([a, cpu.predict(str(GOOD), purpose="latency")])
