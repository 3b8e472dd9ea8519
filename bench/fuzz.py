"""Fuzzing the reading, a submission and a running server with files made from real ones (#46).

Seeds: the IDEAL template (CSV and XLSX), SDMX-CSV 2.0, and the first lines of every shared real
export (../shared/data/real/). Mutants: truncated, bytes flipped, random bytes, a huge field, a
huge row, a row with a field in front, deep nesting, other encodings, another separator, gzip and
bzip2, compression bombs (gzip and XLSX), a stale or lying workbook, an empty file. Three
targets, each with its figures:

* the reading: ``ideal.pipeline.bounded`` around ``read_submission``, as a submission reads a
  file (the mass of the run: every mutant);
* ``submit_bytes`` on a fresh SQLite warehouse: archive, read, validate, load or quarantine;
* the API of a running ``ideal serve`` (two processes), as a steward with a token sends files.

Each file must get a verdict (accepted, or rejected naming a reason) within VERDICT_SECONDS; no
exception but a refusal may leave the reading; no answer may be a 5xx; no server process may die;
no submission may stay 'received'; every rejection keeps its raw file in quarantine.

    python -m bench.fuzz --files 100000 --submit 2000 --api 2000   # `make fuzz`
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import os
import random
import statistics
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
VERDICT_SECONDS = 5.0
HEADER = "country,region,period,crime_type,indicator,value,obs_status\n"


def _template_rows(n: int = 120) -> str:
    regions = ["MX-JAL", "MX-CMX", "MX-NLE", "MX-GUA", "MX-OAX", "MX-SON"]
    rows = [f"MX,{regions[i % 6]},{2019 + i // 24},{'0101' if i % 2 else '0401'},incidents,{(i * 37) % 900},A"
            for i in range(n)]
    return HEADER + "\n".join(rows) + "\n"


def _xlsx(text: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for line in text.splitlines():
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", c)[:30000] for c in line.split(",")[:200]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def seeds() -> list[tuple[str, bytes]]:
    """(file name, bytes) of the files mutants are made from."""
    template = _template_rows()
    out = [("template.csv", template.encode()), ("template.xlsx", _xlsx(template)),
           ("sdmx.csv", ("STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,CRIME_TYPE,INDICATOR,TIME_PERIOD,OBS_VALUE\n"
                         + "".join(f"dataflow,IDEAL:CRIME_IND(1.0),I,MX-JAL,0101,incidents,{y},{y - 1900}\n"
                                   for y in range(2015, 2025))).encode())]
    if REAL.is_dir():
        for path in sorted(REAL.glob("*/*")):
            if path.suffix == ".md":
                continue
            raw = path.read_bytes()
            if path.suffix == ".bz2":
                raw = bz2.decompress(raw)
            head = b"\n".join(raw.splitlines()[:300]) + b"\n"
            out.append((path.name.removesuffix(".bz2"), head))
    return out


# --- mutants ----------------------------------------------------------------------------------

def _truncate(rng, name, data):
    return name, data[:rng.randrange(len(data) + 1)]


def _flip(rng, name, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return name, bytes(b)


def _random(rng, name, data):
    return rng.choice(["x.csv", "x.xlsx", "x.csv.gz", "x"]), rng.randbytes(rng.randint(0, 4000))


def _huge_field(rng, name, data):
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + b"," + b"9" * rng.choice([10**5, 10**6, 3 * 10**6])
    return name, b"\n".join(lines)


def _huge_row(rng, name, data):
    lines = data.split(b"\n")
    lines.insert(min(len(lines), rng.randint(1, 5)), b",".join([b"1"] * rng.choice([3000, 10**5, 10**6])))
    return name, b"\n".join(lines)


def _field_in_front(rng, name, data):
    lines = data.split(b"\n")
    return name, b"\n".join([lines[0]] + [b"JUNK," + ln for ln in lines[1:] if ln])


def _nesting(rng, name, data):
    n = rng.choice([100, 10**4, 10**5])
    return rng.choice([name, "x.yaml", "x.json"]), rng.choice([b"[" * n, b"{\"a\":" * n, data + b"[" * n])


def _encoding(rng, name, data):
    text = data.decode("utf-8", "replace")
    enc = rng.choice(["utf-16", "utf-16-be", "cp1252", "latin-1", "utf-8-sig", "cp500"])
    return name, text.encode(enc, "replace")


def _separator(rng, name, data):
    return name, data.replace(b",", rng.choice([b";", b"\t", b"|", b" ", b";;"]))


def _compressed(rng, name, data):
    if rng.random() < 0.5:
        return name + ".gz", gzip.compress(data, compresslevel=1)
    return name + ".bz2", bz2.compress(data, compresslevel=1)


_BOMBS: dict[str, bytes] = {}


def _bomb(rng, name, data):
    kind = rng.choice(["gzip", "xlsx", "bzip2"])
    if kind not in _BOMBS:
        if kind == "gzip":  # 1 GB of zeros in about 1 MB
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as fh:
                block = b"0" * (1 << 20)
                for _ in range(1024):
                    fh.write(block)
            _BOMBS[kind] = buf.getvalue()
        elif kind == "bzip2":
            _BOMBS[kind] = bz2.compress(b"1," * (50 * 2**20), compresslevel=1)
        else:  # a workbook whose sheet unpacks to 2 GB
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("[Content_Types].xml", "<Types/>")
                info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=True) as fh:
                    block = b"<row>" + b"0" * (1 << 20) + b"</row>"
                    for _ in range(2048):
                        fh.write(block)
            _BOMBS[kind] = buf.getvalue()
    return {"gzip": "bomb.csv.gz", "bzip2": "bomb.csv.bz2", "xlsx": "bomb.xlsx"}[kind], _BOMBS[kind]


def _workbook(rng, name, data):
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()[:200]
    book = _xlsx("\n".join(lines))
    if rng.random() < 0.5:  # a stale <dimension>, or a sheet cut off in the middle
        book = book.replace(b'<dimension ref="', b'<dimension ref="A1:B2" x="')
    else:
        book = book[:rng.randrange(len(book))]
    return name.rsplit(".", 1)[0] + ".xlsx", book


def _empty(rng, name, data):
    return name, rng.choice([b"", b"\n", b"\xef\xbb\xbf", HEADER.encode(), b" \r\n \r\n"])


def _crlf_and_bom(rng, name, data):
    return name, b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")


def _kept(rng, name, data):
    return name, data


MUTATORS = [_truncate, _flip, _random, _huge_field, _huge_row, _field_in_front, _nesting, _encoding,
            _separator, _compressed, _bomb, _workbook, _empty, _crlf_and_bom, _kept]
WEIGHTS = [8, 10, 6, 3, 3, 4, 3, 6, 6, 5, 1, 4, 2, 4, 4]


def mutant(rng: random.Random, pool: list[tuple[str, bytes]]) -> tuple[str, str, bytes]:
    """(the mutator's name, file name, bytes): one or two mutations of a seed."""
    name, data = rng.choice(pool)
    how = rng.choices(MUTATORS, WEIGHTS, k=1 if rng.random() < 0.8 else 2)
    for m in how:
        name, data = m(rng, name, data)
    return "+".join(m.__name__.strip("_") for m in how), name, data


# --- figures ----------------------------------------------------------------------------------

@dataclass
class Tally:
    files: int = 0
    verdicts: dict = field(default_factory=dict)  # outcome -> count
    by_mutator: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)
    slowest: tuple = (0.0, "")
    peak_kb: int = 0
    unhandled: list = field(default_factory=list)  # (mutator, file, error)
    late: list = field(default_factory=list)  # verdicts after VERDICT_SECONDS
    status_5xx: int = 0
    deaths: int = 0

    def add(self, outcome: str, how: str, name: str, seconds: float, peak_kb: int = 0) -> None:
        self.files += 1
        self.verdicts[outcome] = self.verdicts.get(outcome, 0) + 1
        self.by_mutator.setdefault(how, {}).setdefault(outcome, 0)
        self.by_mutator[how][outcome] += 1
        self.seconds.append(seconds)
        self.peak_kb = max(self.peak_kb, peak_kb)
        if seconds > self.slowest[0]:
            self.slowest = (seconds, f"{how} {name}")
        if seconds > VERDICT_SECONDS:
            self.late.append((how, name, round(seconds, 2)))

    def summary(self) -> dict:
        qs = statistics.quantiles(self.seconds, n=100) if len(self.seconds) > 1 else [0.0] * 99
        return {"files": self.files, "verdicts": self.verdicts, "median_s": round(statistics.median(self.seconds), 4)
                if self.seconds else 0, "p99_s": round(qs[98], 3), "slowest_s": round(self.slowest[0], 3),
                "slowest_file": self.slowest[1], "late": self.late[:20], "n_late": len(self.late),
                "peak_mb": round(self.peak_kb / 1024, 1), "unhandled": self.unhandled[:20],
                "n_unhandled": len(self.unhandled), "status_5xx": self.status_5xx, "deaths": self.deaths,
                # a reading that failed unexpectedly or died: rejected cleanly, but a bug to find
                "n_unexpected": self.verdicts.get("limit:failed", 0) + self.verdicts.get("limit:died", 0)}


def fuzz_reading(n: int, rng: random.Random, pool, tally: Tally, every: int = 5000, checkpoint=None) -> None:
    """Every mutant read as a submission reads it: in a child under the reading limits."""
    from ideal.errors import ReadingLimit, SubmissionError
    from ideal.ingest.formats import read_submission
    from ideal.pipeline import bounded as bounded_module

    t0 = time.time()
    for i in range(n):
        how, name, data = mutant(rng, pool)
        started = time.perf_counter()
        try:
            bounded_module.bounded(read_submission, data, name, None, filename=name)
            outcome = "read"
        except ReadingLimit as exc:
            outcome = f"limit:{exc.limit}"
        except SubmissionError:
            outcome = "refused"
        except Exception as exc:  # noqa: BLE001 - what the fuzz looks for
            outcome = "unhandled"
            tally.unhandled.append((how, name, f"{type(exc).__name__}: {exc}"[:300]))
        tally.add(outcome, how, name, time.perf_counter() - started, int(bounded_module.LAST.get("extra_kb", 0)))
        if every and (i + 1) % every == 0:
            print(f"  reading: {i + 1:>7} files, {time.time() - t0:6.0f} s, {tally.verdicts}", flush=True)
            if checkpoint:
                checkpoint({**tally.summary(), "wall_s": round(time.time() - t0, 1), "partial": i + 1 < n})


def _reading_share(args) -> Tally:
    n, seed, pool, every = args
    tally = Tally()
    fuzz_reading(n, random.Random(seed), pool, tally, every=every)
    return tally


def fuzz_reading_parallel(n: int, seed: int, pool, workers: int, checkpoint=None) -> Tally:
    """fuzz_reading on ``workers`` processes (each its own share and seed), merged; in rounds of
    5,000 files so that the figures so far are written between rounds."""
    import multiprocessing as mp

    total, done, round_no = Tally(), 0, 0
    with mp.get_context("fork").Pool(workers) as workers_pool:
        while done < n:
            size = min(5000, n - done)
            shares = [size // workers + (i < size % workers) for i in range(workers)]
            parts = workers_pool.map(_reading_share, [(k, seed * 1000 + round_no * workers + i, pool, 0)
                                                      for i, k in enumerate(shares) if k])
            for t in parts:
                total.files += t.files
                for k, v in t.verdicts.items():
                    total.verdicts[k] = total.verdicts.get(k, 0) + v
                for how, outcomes in t.by_mutator.items():
                    mine = total.by_mutator.setdefault(how, {})
                    for k, v in outcomes.items():
                        mine[k] = mine.get(k, 0) + v
                total.seconds += t.seconds
                total.slowest = max(total.slowest, t.slowest)
                total.peak_kb = max(total.peak_kb, t.peak_kb)
                total.unhandled += t.unhandled
                total.late += t.late
            done += size
            round_no += 1
            print(f"  reading: {done:>7} files, {total.verdicts}", flush=True)
            if checkpoint:
                checkpoint({**total.summary(), "partial": done < n})
    return total


def fuzz_submissions(n: int, rng: random.Random, pool, tally: Tally, home: Path) -> dict:
    """Mutants through submit_bytes on a fresh SQLite warehouse; afterwards, what was stored."""
    os.environ.update(IDEAL_HOME=str(home / "var"), IDEAL_REPORTS_DIR=str(home / "reports"))
    os.environ.pop("IDEAL_DATABASE_URL", None)
    from ideal.config import get_settings
    from ideal.errors import IdealError
    from ideal.pipeline.submission import submit_bytes
    from ideal.store import make_engine, upgrade

    engine = make_engine()
    upgrade(engine)
    settings = get_settings()
    for i in range(n):
        how, name, data = mutant(rng, pool)
        name = f"{i:06d}-{name}"  # one archive entry each, whatever the bytes
        started = time.perf_counter()
        try:
            receipt = submit_bytes(data, name, "MX", engine, language="en")
            outcome = receipt.status + (" (duplicate)" if receipt.duplicate else "")
            if receipt.status == "rejected" and not receipt.message.strip():
                tally.unhandled.append((how, name, "rejected without a reason"))
        except IdealError as exc:
            outcome = "refused"
            tally.unhandled.append((how, name, f"IdealError: {exc}"[:300]))
        except Exception as exc:  # noqa: BLE001
            outcome = "unhandled"
            tally.unhandled.append((how, name, f"{type(exc).__name__}: {exc}"[:300]))
        tally.add(outcome, how, name, time.perf_counter() - started)
        if (i + 1) % 500 == 0:
            print(f"  submit_bytes: {i + 1:>6} files, {tally.verdicts}", flush=True)
    return stored_check(engine, settings)


def stored_check(engine, settings) -> dict:
    """No submission left 'received'; every rejection with its reason and its raw file kept."""
    from sqlalchemy import select

    from ideal.store.models import Submission

    with engine.connect() as conn:
        rows = conn.execute(select(Submission.id, Submission.country, Submission.status, Submission.message,
                                   Submission.sha256)).all()
    quarantined = {p.name.split(".")[0] for p in (settings.quarantine_dir / "MX").glob("*")} \
        if (settings.quarantine_dir / "MX").is_dir() else set()
    received = [r.id for r in rows if r.status == "received"]
    rejected = [r for r in rows if r.status == "rejected"]
    unkept = [r.id for r in rejected if r.sha256 not in quarantined]
    silent = [r.id for r in rejected if not (r.message or "").strip()]
    return {"stored": len(rows), "received": len(received), "rejected": len(rejected),
            "rejected_without_raw_file": len(unkept), "rejected_without_reason": len(silent),
            "examples": (received + unkept + silent)[:10]}


def fuzz_api(n: int, rng: random.Random, pool, tally: Tally, home: Path) -> dict:
    """Mutants sent to a running `ideal serve` (two processes) by a steward with a token."""
    import requests

    from bench.load import Server, _tree

    server = Server("sqlite", home / "server", ["MX", "CO"], workers=2)
    workers = set(_tree(server.proc.pid)[1:])
    peak: dict[int, int] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in list(workers):
                try:
                    rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
                    peak[pid] = max(peak.get(pid, 0), rss)
                except (OSError, IndexError, ValueError):
                    pass
            stop.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    http = requests.Session()
    try:
        for i in range(n):
            how, name, data = mutant(rng, pool)
            name = f"{i:06d}-{name}"
            started = time.perf_counter()
            try:
                r = http.post(f"{server.base}/api/v1/submissions", timeout=120,
                              headers={"Authorization": f"Bearer {server.tokens['MX']}"},
                              files={"file": (name, data, "application/octet-stream")})
                code = r.status_code
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                outcome = f"{code} {body.get('status', '')}".strip()
                if code == 422 and not (body.get("message") or body.get("detail")):
                    tally.unhandled.append((how, name, "422 without a reason"))
            except requests.RequestException as exc:
                code, outcome = 599, "no answer"
                tally.unhandled.append((how, name, f"{type(exc).__name__}"))
                http = requests.Session()
            if code >= 500:
                tally.status_5xx += 1
            tally.add(outcome, how, name, time.perf_counter() - started)
            if (i + 1) % 500 == 0:
                print(f"  api: {i + 1:>6} files, {tally.verdicts}", flush=True)
        alive = set(_tree(server.proc.pid)[1:])
        tally.deaths = len(workers - alive)
    finally:
        stop.set()
        watcher.join(timeout=5)
        server.stop()
    from ideal.config import get_settings
    from ideal.store import make_engine

    os.environ.update(IDEAL_HOME=str(home / "server" / "var"))
    engine = make_engine(server.url)
    out = stored_check(engine, get_settings())
    engine.dispose()
    out["peak_mb_per_worker"] = {str(pid): round(kb / 1024, 1) for pid, kb in peak.items()}
    return out


def _write(res: dict) -> Path:
    path = ROOT / "bench" / "results" / f"{res['date']}-fuzz.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2, default=str))
    return path


def run(files: int, submit: int, api: int, seed: int, workers: int = 1) -> dict:
    pool = seeds()
    res: dict = {"date": date.today().isoformat(), "seed": seed, "seeds": [n for n, _ in pool],
                 "verdict_limit_s": VERDICT_SECONDS}
    with tempfile.TemporaryDirectory(prefix="ideal-fuzz-") as tmp:
        home = Path(tmp)
        if submit:
            print(f"{submit} mutants through submit_bytes ...", flush=True)
            tally = Tally()
            t0 = time.time()
            stored = fuzz_submissions(submit, random.Random(seed + 1), pool, tally, home / "submit")
            res["submit_bytes"] = {**tally.summary(), "wall_s": round(time.time() - t0, 1), **stored}
            _write(res)
        if api:
            print(f"{api} mutants through the API of ideal serve ...", flush=True)
            tally = Tally()
            t0 = time.time()
            stored = fuzz_api(api, random.Random(seed + 2), pool, tally, home / "api")
            res["api"] = {**tally.summary(), "wall_s": round(time.time() - t0, 1), **stored}
        if files:
            print(f"reading {files} mutants under the reading limits ...", flush=True)
            t0 = time.time()
            if workers > 1:
                tally = fuzz_reading_parallel(files, seed, pool, workers,
                                              checkpoint=lambda part: _write({**res, "reading": part}))
            else:
                tally = Tally()
                fuzz_reading(files, random.Random(seed), pool, tally,
                             checkpoint=lambda part: _write({**res, "reading": part}))
            res["reading"] = {**tally.summary(), "wall_s": round(time.time() - t0, 1),
                              "by_mutator": tally.by_mutator}
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000, help="mutants read under the reading limits")
    parser.add_argument("--submit", type=int, default=2000, help="mutants through submit_bytes")
    parser.add_argument("--api", type=int, default=2000, help="mutants through a running server's API")
    parser.add_argument("--seed", type=int, default=46)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes reading mutants at once (default: every core)")
    args = parser.parse_args()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    res = run(args.files, args.submit, args.api, args.seed, args.workers)
    _write(res)
    print(json.dumps({k: v for k, v in res.items() if k not in ("seeds",)}, indent=2, default=str)[:6000])
    bad = sum(res.get(k, {}).get("n_unhandled", 0) + res.get(k, {}).get("n_late", 0)
              + res.get(k, {}).get("n_unexpected", 0)
              + res.get(k, {}).get("status_5xx", 0) + res.get(k, {}).get("deaths", 0)
              + res.get(k, {}).get("received", 0) + res.get(k, {}).get("rejected_without_raw_file", 0)
              for k in ("reading", "submit_bytes", "api"))
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
