"""The registry and kernels from Python, as deepen list and deepen kernels give them; where the
module finds the shipped predictors, in a build tree and after cmake --install."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import deepen
from conftest import PREDICTORS, REPO, TEST_MODELS, model_paths


def test_list_predictors_is_deepen_list(cli_json):
    expected, _, _ = cli_json("list", "-f", "json", "--predictors", PREDICTORS)
    got = deepen.list_predictors(predictors_dir=str(PREDICTORS))
    assert got == expected["predictors"]
    names = {p["name"] for p in got}
    assert {"cortexA76cpu_tflite", "adreno640gpu_int8"} <= names


@pytest.mark.parametrize("path", model_paths(), ids=lambda p: p.stem)
def test_kernels_are_deepen_kernels(cli_json, path):
    for predictor in (None, "adreno640gpu_int8"):
        args = ["kernels", path, "-f", "json", "--predictors", PREDICTORS]
        if predictor:
            args += ["-p", predictor]
        code, expected = None, None
        try:
            expected, _, code = cli_json(*args)
        except AssertionError:  # the CLI refused the model: so does the module
            with pytest.raises(deepen.Error):
                deepen.kernels(str(path), predictor=predictor, predictors_dir=str(PREDICTORS))
            continue
        got = deepen.kernels(str(path), predictor=predictor, predictors_dir=str(PREDICTORS))
        assert len(got) == len(expected["kernels"])
        for k, j in zip(got, expected["kernels"]):
            d = k.to_dict()
            for key in ("type", "scored_as", "zero_cost", "nodes", "ops", "config", "features", "macs", "flops",
                        "params", "bytes"):
                assert d[key] == j[key], (key, k)
            assert k.value is None and k.source is None and k.latency_ms is None
        assert deepen.kernels(path.read_bytes(), predictor=predictor,
                              predictors_dir=str(PREDICTORS))[0].to_dict() == got[0].to_dict()


def test_kernels_with_a_predictor_object(cpu):
    path = str(TEST_MODELS / "mobilenetv2.onnx")
    assert [k.type for k in deepen.kernels(path, predictor=cpu)] == [
        k.type for k in deepen.kernels(path, predictor="cortexA76cpu_tflite", predictors_dir=str(PREDICTORS))]


def test_predictor_properties(cpu):
    assert cpu.name == "cortexA76cpu_tflite" and cpu.version
    assert "energy" in cpu.purposes and cpu.supports("energy")
    assert pathlib.Path(cpu.registry).resolve() == PREDICTORS.resolve()
    assert cpu.device and cpu.framework
    newest = deepen.Predictor("cortexa76cpu_tflite", predictors_dir=str(PREDICTORS))  # any letter case
    older = [p["version"] for p in deepen.list_predictors(str(PREDICTORS)) if p["name"] == "cortexA76cpu_tflite"]
    assert newest.version == max(older, key=lambda v: [int(x) for x in v.split(".")])


def run_python(code, env_extra, cwd):
    env = {k: v for k, v in os.environ.items() if k != "DEEPEN_PREDICTORS"}
    env.update(env_extra)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_default_registry_in_the_build_tree(tmp_path):
    package_parent = pathlib.Path(deepen.__file__).resolve().parents[1]
    code = "import deepen; print(deepen.default_predictors_dir()); print(deepen.Predictor('cortexA76cpu_tflite').registry)"
    out = run_python(code, {"PYTHONPATH": str(package_parent)}, tmp_path).splitlines()
    assert pathlib.Path(out[0]).resolve() == PREDICTORS.resolve()
    assert pathlib.Path(out[1]).resolve() == PREDICTORS.resolve()
    # $DEEPEN_PREDICTORS wins, as for the CLI.
    out = run_python(code.split(";")[0] + "; print(deepen.default_predictors_dir())",
                     {"PYTHONPATH": str(package_parent), "DEEPEN_PREDICTORS": str(tmp_path)}, tmp_path)
    assert out == str(tmp_path)


def test_cmake_install_finds_the_installed_registry(tmp_path):
    build = pathlib.Path(deepen._core.__file__).resolve().parents[2]
    cmake = shutil.which("cmake")
    if not (build / "CMakeCache.txt").exists() or not cmake:
        pytest.skip("not a CMake build tree (or no cmake)")
    prefix = tmp_path / "prefix"
    p = subprocess.run([cmake, "--install", str(build), "--prefix", str(prefix)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    packages = list(prefix.rglob("deepen/__init__.py"))
    assert len(packages) == 1, packages
    installed_registry = prefix / "share" / "deepen" / "predictors"
    assert (installed_registry / "predictors.yaml").exists()
    # A copy of the source tree's registry, and the package finds it from wherever it is imported.
    code = ("import deepen; print(deepen.__file__); print(deepen.default_predictors_dir()); "
            "print(deepen.Predictor('cortexA76cpu_tflite').predict(%r).value)" % str(TEST_MODELS / "mobilenetv2.onnx"))
    out = run_python(code, {"PYTHONPATH": str(packages[0].parents[1])}, tmp_path).splitlines()
    assert pathlib.Path(out[0]).resolve().parent == packages[0].parent.resolve()
    assert pathlib.Path(out[1]).resolve() == installed_registry.resolve()
    cpu = deepen.Predictor("cortexA76cpu_tflite", predictors_dir=str(PREDICTORS))
    assert float(out[2]) == cpu.predict(str(TEST_MODELS / "mobilenetv2.onnx")).value
    # The installed CLI reads the installed registry too.
    binary = prefix / "bin" / "deepen"
    p = subprocess.run([str(binary), "list", "-f", "json"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "DEEPEN_PREDICTORS"})
    assert p.returncode == 0 and str(installed_registry) in p.stdout
