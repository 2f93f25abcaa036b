"""predict_torch (PyTorch) and to_frame (pandas): tested where those are installed, skipped
cleanly where they are not."""
import io

import pytest

import deepen
from conftest import PREDICTORS, TEST_MODELS, model_paths


def test_to_frame(cpu):
    pandas = pytest.importorskip("pandas", reason="pandas is not installed (Debian: python3-pandas)")
    results = cpu.predict_many([str(p) for p in model_paths()], errors="keep")
    frame = deepen.to_frame(results)
    assert isinstance(frame, pandas.DataFrame) and len(frame) == len(results)
    assert list(frame["model"]) == [r.model for r in results]
    ok = [r for r in results if r.error is None]
    row = frame[frame["model"] == ok[0].model].iloc[0]
    assert row["value"] == ok[0].value and row["coverage"] == ok[0].coverage and row["unit"] == "mJ"
    assert row["kernels"] == ok[0].kernel_count
    kernels = deepen.to_frame(ok[:2], per_kernel=True)
    assert len(kernels) == len(ok[0].kernels) + len(ok[1].kernels)
    assert list(kernels["energy_mj"][: len(ok[0].kernels)]) == [k.energy_mj for k in ok[0].kernels]
    with pytest.raises(TypeError):
        deepen.to_frame([1])


def test_to_frame_without_pandas(cpu, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="deepen.to_frame needs pandas"):
        deepen.to_frame([cpu.predict(str(TEST_MODELS / "mobilenetv2.onnx"))])


def test_predict_torch_matches_the_exported_bytes(cpu):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, stride=2, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=1, groups=16), torch.nn.BatchNorm2d(16), torch.nn.ReLU6(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 10))
    x = torch.randn(1, 3, 64, 64)
    r = deepen.predict_torch(net, x, predictor="cortexA76cpu_tflite", purpose="energy",
                             predictors_dir=str(PREDICTORS))
    assert r.model == "Sequential" and r.value > 0 and r.unit == "mJ"
    # The exporter folds each BatchNorm into its conv (eval mode).
    assert {"conv-relu", "dwconv-relu6", "fc"} <= {k.type for k in r.kernels}
    buffer = io.BytesIO()
    torch.onnx.export(net, (x,), buffer, opset_version=13)
    assert r.to_dict() == cpu.predict(buffer.getvalue(), label="Sequential").to_dict()
    again = deepen.predict_torch(net, x, predictor=cpu, purpose="latency", label="net")
    assert again.model == "net" and again.purpose == "latency"
    with pytest.raises(deepen.UnknownPredictorError):
        deepen.predict_torch(net, x, predictor="nonesuch", predictors_dir=str(PREDICTORS))


def test_predict_torch_without_torch(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="deepen.predict_torch needs PyTorch"):
        deepen.predict_torch(object(), None, predictor="cortexA76cpu_tflite")
