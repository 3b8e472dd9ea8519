"""Soak: `ideal serve` (two processes, SQLite) under steady uploads and assessment runs for
ten minutes; the server's memory at the end must be within 10 % of its value after the
warm-up, and no request may fail. Loopback only, bounded in time. Not part of CI.

    make soak                      # 10 minutes
    python -m bench.soak --minutes 2
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.load import Server, send_api, uploads

STEWARDS = 6          # concurrent uploaders
RUN_EVERY = 60        # seconds between assessment runs
WARM_UP = 60          # seconds before the reference memory reading


def fresh_copy(up, n: int):
    """The file with the status of two rows (chosen by n) set to E: new bytes each round."""
    lines = up.data.split(b"\n")
    rows = len(lines) - 2  # header and the empty string after the last newline
    for i in (1 + n % rows, 1 + (n // rows) % rows):
        if lines[i].endswith(b",A"):
            lines[i] = lines[i][:-1] + b"E"
    return type(up)(up.country, f"r{n}-{up.name}", b"\n".join(lines), up.channel, up.valid)


def soak(minutes: float, db: str = "sqlite") -> dict:
    from ideal.config import DEFAULT_MEMBERS

    members = list(DEFAULT_MEMBERS)
    files = uploads(members, per_country=10)
    server = Server(db, Path(tempfile.mkdtemp(prefix="ideal-soak-")), members)
    stop = threading.Event()
    failures: list[str] = []
    sent, loaded = [0], [0]
    lock = threading.Lock()
    # later rounds alternate: the same bytes again (answered as duplicates, nothing loaded),
    # and fresh copies with two rows' status changed to E, different in every round (read,
    # validated and loaded, superseding the earlier values)

    def uploader(k: int) -> None:
        http = requests.Session()
        for n in itertools.count():
            if stop.is_set():
                return
            up = files[(k + n * STEWARDS) % len(files)]
            if n % 2:
                up = fresh_copy(up, n)
            out = send_api(server, up, http)
            with lock:
                sent[0] += 1
                loaded[0] += bool(out.verdict and out.status_code in (201, 422))
                if out.status_code >= 500 or out.verdict is None:
                    failures.append(f"{up.country}:{up.name} HTTP {out.status_code}")

    def analyst() -> None:
        auth = {"Authorization": f"Bearer {server.tokens['analyst']}"}
        while not stop.wait(RUN_EVERY):
            r = requests.post(f"{server.base}/api/v1/runs", json={"note": "soak"}, headers=auth, timeout=120)
            if r.status_code >= 500:
                failures.append(f"run HTTP {r.status_code}")

    threads = [threading.Thread(target=uploader, args=(k,)) for k in range(STEWARDS)]
    threads.append(threading.Thread(target=analyst))
    t0 = time.time()
    try:
        for t in threads:
            t.start()
        time.sleep(WARM_UP)
        after_warm_up = server.rss_kb()
        samples = [(round(time.time() - t0), after_warm_up)]
        while time.time() - t0 < minutes * 60:
            time.sleep(30)
            samples.append((round(time.time() - t0), server.rss_kb()))
        stop.set()
        for t in threads:
            t.join(timeout=180)
        end = server.rss_kb()
    finally:
        stop.set()
        server.stop()
    growth = (end - after_warm_up) / after_warm_up
    return {"minutes": minutes, "uploads": sent[0], "validated": loaded[0], "failures": failures,
            "rss_after_warm_up_mb": after_warm_up / 1024, "rss_end_mb": end / 1024,
            "growth": growth, "samples": samples}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    r = soak(args.minutes, args.db)
    print(f"soak {r['minutes']} min on {args.db}: {r['uploads']} uploads ({r['validated']} read, validated "
          f"and loaded or refused; the rest answered as duplicates), {len(r['failures'])} failures")
    print(f"server memory: {r['rss_after_warm_up_mb']:.0f} MB after warm-up -> {r['rss_end_mb']:.0f} MB "
          f"at the end ({r['growth']:+.1%}; target within 10 %)")
    print("samples (s, MB): " + ", ".join(f"{s}:{kb / 1024:.0f}" for s, kb in r["samples"]))
    for f in r["failures"][:20]:
        print("  failure:", f)
    ok = not r["failures"] and abs(r["growth"]) <= 0.10
    print("SOAK OK" if ok else "SOAK FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
