"""Shared fixtures of the Python module's tests: the repository's test models and registry, and
the deepen binary of the same build (for comparisons with the CLI)."""
import json
import os
import pathlib
import subprocess

import pytest

import deepen

REPO = pathlib.Path(__file__).resolve().parents[2]
TEST_MODELS = REPO / "test_models"
PREDICTORS = REPO / "predictors"


def deepen_binary():
    """The CLI built beside the module: $DEEPEN_BINARY (set by ctest), else <build>/deepen."""
    if os.environ.get("DEEPEN_BINARY"):
        return pathlib.Path(os.environ["DEEPEN_BINARY"])
    return pathlib.Path(deepen._core.__file__).resolve().parents[2] / "deepen"


@pytest.fixture(scope="session")
def cli():
    """Runs the deepen CLI; returns (exit code, stdout, stderr). Skips when there is no binary."""
    binary = deepen_binary()
    if not binary.exists():
        pytest.skip(f"no deepen binary at {binary} to compare with (set DEEPEN_BINARY)")

    def run(*args):
        env = dict(os.environ)
        env.pop("DEEPEN_PREDICTORS", None)
        p = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO)
        return p.returncode, p.stdout, p.stderr

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    def run(*args):
        code, out, err = cli(*args)
        assert out, f"deepen {' '.join(map(str, args))} wrote nothing (exit {code}): {err}"
        return json.loads(out), out, code

    return run


def model_paths():
    return sorted(TEST_MODELS.glob("*.onnx"))


@pytest.fixture(scope="session")
def cpu():
    return deepen.Predictor("cortexA76cpu_tflite", predictors_dir=str(PREDICTORS))
