"""What every benchmark shares: one measurement in its own process (time and peak memory),
repeated after a warm-up, and the results written to bench/results/."""

from __future__ import annotations

import json
import multiprocessing as mp
import queue as queues
import resource
import time
from pathlib import Path


def _child(fn, args, out):
    t0 = time.perf_counter()
    extra = fn(*args)
    out.put({"seconds": time.perf_counter() - t0,
             "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **(extra or {})})


def measure(fn, *args) -> dict:
    """Run ``fn(*args)`` in a forked process; its time, peak RSS and whatever it returns."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, out))
    proc.start()
    while True:  # a child that dies before reporting must not leave the parent waiting
        try:
            result = out.get(timeout=1)
            break
        except queues.Empty:
            if not proc.is_alive():
                proc.join()
                raise RuntimeError(f"{fn.__name__} failed (exit {proc.exitcode})") from None
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"{fn.__name__} failed (exit {proc.exitcode})")
    return result


def repeated(label: str, fn, args: tuple, repeat: int, describe) -> list[dict]:
    """One warm-up, then ``repeat`` measured runs; prints each with ``describe(result)``."""
    runs = []
    for i in range(repeat + 1):
        r = measure(fn, *args)
        print(f"  {label:16} {'warm-up' if not i else f'run {i}':8} {describe(r)}")
        if i:
            runs.append(r)
    return runs


def stats(runs: list[dict], key: str = "seconds") -> dict:
    """Median, min and max of ``key`` over the measured runs, and their peak memory."""
    import statistics

    values = [r[key] for r in runs]
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values),
            "peak_mb": max(r["peak_mb"] for r in runs)}


def write_results(res: dict, name: str) -> Path:
    path = Path("bench/results") / f"{res['date']}-{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))
    return path


def write_report(res: dict, name: str, text: str) -> Path:
    """The results as bench/results/<date>-<name>.json and .md (committed); prints the table."""
    out = Path(__file__).resolve().parent / "results" / f"{res['date']}-{name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2, default=str))
    out.with_suffix(".md").write_text(text)
    print()
    print(text)
    print(f"written {out}.json and .md")
    return out
