"""deepen from Python: latency (ms), energy (mJ) and power (mW) of a model on an edge device.

A thin binding over the C++ library the ``deepen`` command line tool uses (deepen._core), so that
a NAS loop or a notebook scores models in-process, from a path or from ONNX bytes in memory::

    import deepen
    p = deepen.Predictor("cortexA76cpu_tflite")
    r = p.predict("model.onnx", purpose="energy")      # or the bytes of an ONNX model
    r.value, r.unit, r.coverage, r.flop_coverage, r.source_shares
    for k in r.kernels:
        k.type, k.config, k.energy_mj, k.source, k.extrapolated
    p.predict_many(list_of_paths_or_bytes, purpose="energy", threads=4)
    deepen.predict_torch(module, example_input, predictor="cortexA76cpu_tflite", purpose="energy")
    deepen.list_predictors(); deepen.kernels("model.onnx")

Errors raise deepen.Error or one of its subclasses (BadInputError, UnknownPredictorError,
UnsupportedError, PredictionError, RegistryError) with deepen's message. See docs/python.md.
"""

import functools as _functools
import io as _io
import os as _os

from . import _core
from ._core import (
    BadInputError,
    Error,
    Kernel,
    PredictionError,
    Predictor,
    RegistryError,
    Result,
    UnknownPredictorError,
    UnsupportedError,
    __version__,
    default_predictors_dir,
    kernels,
    list_predictors,
    to_json,
)

__all__ = [
    "BadInputError",
    "Error",
    "Kernel",
    "PredictionError",
    "Predictor",
    "RegistryError",
    "Result",
    "UnknownPredictorError",
    "UnsupportedError",
    "__version__",
    "default_predictors_dir",
    "kernels",
    "list_predictors",
    "predict_torch",
    "to_frame",
    "to_json",
]

# The registry shipped with the package (pip install) or installed beside it (cmake --install).
_core._set_package_dir(_os.path.dirname(_os.path.abspath(__file__)))


@_functools.lru_cache(maxsize=16)
def _predictor(name, version, predictors_dir):
    return Predictor(name, version=version, predictors_dir=predictors_dir)


def predict_torch(module, example_input, *, predictor, purpose="energy", version=None, predictors_dir=None,
                  opset_version=13, label=None, input_shapes=None, **export_kwargs):
    """Predicts a PyTorch module: exported to ONNX in memory (torch.onnx.export), then scored.

    example_input: a tensor, or a tuple of them, as torch.onnx.export takes it. predictor: a name
    (loaded once and kept) or a deepen.Predictor. Further keyword arguments go to
    torch.onnx.export. Returns a deepen.Result; its model is `label`, else the module's class name.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("deepen.predict_torch needs PyTorch (Debian: apt install python3-torch)") from None
    if isinstance(predictor, Predictor):
        p = predictor
    elif isinstance(predictor, str):
        p = _predictor(predictor, version, None if predictors_dir is None else _os.fspath(predictors_dir))
    else:
        raise TypeError("deepen.predict_torch: predictor is a name or a deepen.Predictor")
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    buffer = _io.BytesIO()
    try:
        torch.onnx.export(module, args, buffer, opset_version=opset_version, **export_kwargs)
    except Exception as e:  # the exporter's own failures: name them as deepen's bad input
        raise BadInputError(f"torch.onnx.export could not export {type(module).__name__}: {e}") from e
    return p.predict(buffer.getvalue(), purpose=purpose, input_shapes=input_shapes,
                     label=label or type(module).__name__)


def to_frame(results, per_kernel=False):
    """A pandas DataFrame of results: one row per model, or (per_kernel) one per kernel.

    Model columns: model, predictor, predictor_version, purpose, unit, value, latency_ms,
    energy_mj, power_mw, coverage, flop_coverage, uncovered_share, extrapolated_share, kernels,
    macs, flops, params, error. Kernel columns: model, index, type, scored_as, config, nodes,
    macs, flops, params, bytes, latency_ms, energy_mj, power_mw, value, source, extrapolated.
    """
    try:
        import pandas
    except ImportError:
        raise ImportError("deepen.to_frame needs pandas (Debian: apt install python3-pandas)") from None
    results = list(results)
    for r in results:
        if not isinstance(r, Result):
            raise TypeError(f"deepen.to_frame: give deepen.Result objects, not {type(r).__name__}")
    if per_kernel:
        rows = []
        for r in results:
            for i, k in enumerate(r.kernels):
                rows.append({
                    "model": r.model, "index": i + 1, "type": k.type, "scored_as": k.scored_as,
                    "config": k.config, "nodes": k.nodes, "macs": k.macs, "flops": k.flops, "params": k.params,
                    "bytes": k.bytes, "latency_ms": k.latency_ms, "energy_mj": k.energy_mj, "power_mw": k.power_mw,
                    "value": k.value, "source": k.source, "extrapolated": k.extrapolated,
                })
        columns = ["model", "index", "type", "scored_as", "config", "nodes", "macs", "flops", "params", "bytes",
                   "latency_ms", "energy_mj", "power_mw", "value", "source", "extrapolated"]
        return pandas.DataFrame(rows, columns=columns)
    columns = ["model", "predictor", "predictor_version", "purpose", "unit", "value", "latency_ms", "energy_mj",
               "power_mw", "coverage", "flop_coverage", "uncovered_share", "extrapolated_share", "kernels", "macs",
               "flops", "params", "error"]
    rows = []
    for r in results:
        row = {c: getattr(r, c) for c in columns if c != "kernels"}
        row["kernels"] = r.kernel_count
        rows.append(row)
    return pandas.DataFrame(rows, columns=columns)
