"""What a second core gives on this machine: the same pandas work (a groupby, a merge and a
string column over 3 million rows, the kinds of operation an upload's checks do) in one process
alone, then in two processes at once. The ratio of work done per second, two against one, is
the ceiling for any "together against one by one" figure here (bench/load.py, #33): 2.0 if the
cores were independent. Usage: python -m bench.cores [--repeat 3]."""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

ROWS = 3_000_000


def work(rounds: int = 3) -> float:
    """Seconds for ``rounds`` rounds of the work, on a frame built before the clock starts."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"key": (np.arange(ROWS) % 9973).astype(str), "value": rng.random(ROWS)})
    t0 = time.perf_counter()
    for _ in range(rounds):
        sums = df.groupby("key")["value"].sum().rename("total").reset_index()
        joined = df.merge(sums, on="key")
        joined["key"].str.len().sum()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    alone, both = [], []
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool.submit(work, 1).result()  # warm-up: imports in the worker processes
        pool.submit(work, 1).result()
        for _ in range(args.repeat):
            alone.append(pool.submit(work).result())
            pair = [pool.submit(work) for _ in range(2)]
            both.append(max(f.result() for f in pair))
    one, two = statistics.median(alone), statistics.median(both)
    ratio = 2 * one / two
    res = {"date": date.today().isoformat(), "rows": ROWS, "repeat": args.repeat,
           "alone_s": alone, "two_at_once_s": both, "ratio": ratio}
    from bench.harness import write_report

    write_report(res, "cores",
                 "# Two cores against one (`python -m bench.cores`)\n\n"
                 f"| | seconds (median of {args.repeat}) |\n| --- | ---: |\n"
                 f"| the work in one process alone | {one:.2f} |\n"
                 f"| the same work in each of two processes at once (the slower) | {two:.2f} |\n\n"
                 f"Work per second, two processes against one: {ratio:.2f}x (2.0 if the cores were "
                 "independent).\n")


if __name__ == "__main__":
    main()
