#!/usr/bin/env python3
"""In-process scoring speed of the Python module on NAS-Bench-201 networks, against the CLI.

Usage: PYTHONPATH=build/python python3 bench/python_bench.py [--deepen build/deepen] [--work DIR] [-n N]

The networks come from `deepen zoo --nb201-csv` (the first N rows of the LatBench NAS-Bench-201
table, weights zeros: ~300 nodes each), as bench/nb201_predict_bench.sh makes them. Every file is
read into memory first; then, pinned to one core (the first this process may use):
  - predict(bytes) one model at a time in a Python loop,
  - predict_many(list of bytes) (the loop in C++), on one thread and on every allowed core,
  - the CLI over the same folder (`deepen predict -m FOLDER -f csv`, one process).
Each is timed 3 times; the best run's wall time and the CPU time (user+sys) of this process
(or the CLI's) are reported per model. The numbers are checked to be the CLI's. Reference:
nn-Meter takes 100-300 ms per model (the compass figures of issue 14).
Environment: PREDICTOR (default cortexA76cpu_tflite), PURPOSE (default latency), NB201_CSV
(default /work/shared/data/latbench/nb201_latency.csv).
"""
import argparse
import csv
import io
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

import deepen


def cpu_seconds(who=resource.RUSAGE_SELF):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(fn, runs=3):
    """Best wall time and the CPU time of that run, over `runs` runs."""
    best = None
    for _ in range(runs):
        c0, t0 = cpu_seconds(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deepen", default="build/deepen")
    ap.add_argument("--work", default=None, help="folder for the networks (default: a temporary one)")
    ap.add_argument("-n", type=int, default=2000, help="networks (default 2000)")
    args = ap.parse_args()
    binary = str(pathlib.Path(args.deepen).resolve())
    predictor = os.environ.get("PREDICTOR", "cortexA76cpu_tflite")
    purpose = os.environ.get("PURPOSE", "latency")
    table = os.environ.get("NB201_CSV", "/work/shared/data/latbench/nb201_latency.csv")
    if not os.path.exists(table):
        sys.exit(f"python_bench: {table} not found: set NB201_CSV to a NAS-Bench-201 table (LatBench's nb201_latency.csv)")

    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="deepen_pybench_"))
    nets = work / f"nets{args.n}"
    if len(list(nets.glob("*.onnx"))) != args.n:
        work.mkdir(parents=True, exist_ok=True)
        head = work / f"nb201_{args.n}.csv"
        with open(table) as src, open(head, "w") as dst:
            for i, line in enumerate(src):
                if i > args.n:
                    break
                dst.write(line)
        subprocess.run([binary, "zoo", "--nb201-csv", str(head), "--weights", "zeros", "--out", str(nets)],
                       check=True, stdout=subprocess.DEVNULL)
    files = sorted(nets.glob("*.onnx"))
    models = [f.read_bytes() for f in files]
    labels = [str(f) for f in files]
    mb = sum(map(len, models)) / 1e6
    print(f"networks: {len(models)} in {nets} ({mb:.1f} MB in memory); predictor {predictor}, purpose {purpose}; "
          f"deepen {deepen.__version__}, Python {sys.version.split()[0]}")

    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[0]})
    p = deepen.Predictor(predictor)
    p.predict_many(models[:50], purpose=purpose)  # warm up

    def loop():
        for m in models:
            p.predict(m, purpose=purpose)

    rows = []
    n = len(models)

    def report(what, wall, cpu):
        rows.append((what, wall, cpu))
        print(f"{what:<44} {wall / n * 1e3:7.3f} ms/model wall ({n / wall:7.0f}/s), "
              f"{cpu / n * 1e3:7.3f} ms/model CPU ({n / cpu:7.0f}/s)")

    report("predict(bytes), a Python loop, one core", *timed(loop))
    report("predict_many(bytes), one core", *timed(lambda: p.predict_many(models, purpose=purpose)))

    # The CLI over the folder: its CPU time is its own (children's rusage).
    def cli():
        subprocess.run(["taskset", "-c", str(cores[0]), binary, "predict", "-p", predictor, "--purpose", purpose,
                        "-m", str(nets), "-f", "csv"], check=True, stdout=subprocess.DEVNULL)

    cli()  # warm the page cache
    best = None
    for _ in range(3):
        c0, t0 = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
        cli()
        wall, cpu = time.perf_counter() - t0, cpu_seconds(resource.RUSAGE_CHILDREN) - c0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    report("the CLI on the folder (one process), one core", *best)

    if len(cores) > 1:
        os.sched_setaffinity(0, set(cores))
        wall, cpu = timed(lambda: p.predict_many(models, purpose=purpose, threads=len(cores)))
        report(f"predict_many(bytes, threads={len(cores)}), {len(cores)} cores", wall, cpu)

    # The same numbers as the CLI's.
    out = subprocess.run([binary, "predict", "-p", predictor, "--purpose", purpose, "-m", str(nets), "-f", "csv"],
                         check=True, capture_output=True, text=True).stdout
    field = {"latency": "latency_ms", "energy": "energy_mj", "power": "power_mw"}[purpose]
    cli_values = {row["model"]: row[field] for row in csv.DictReader(io.StringIO(out))}
    results = p.predict_many(models, purpose=purpose, labels=labels)
    differ = [r.model for r in results if f"{r.value:.6g}" != cli_values[r.model]]
    print(f"check: {len(results) - len(differ)} of {len(results)} values equal to the CLI's"
          + (f"; differ: {differ[:3]}" if differ else ""))
    print("reference: nn-Meter, 100-300 ms per model (issue 14's compass figures)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
