"""Reading a submitted file under limits of time and memory that no file can exceed.

The reading (ideal.ingest.formats.read_submission, or a profile draft) runs in a child process
forked from the caller: it shares what the caller has loaded (libraries, reference data, a
profile being tried) and nothing it does can take the caller with it. The child gets an
address-space limit of what it inherited plus IDEAL_READ_MEMORY_MB and a CPU-time limit; the
caller waits at most IDEAL_READ_SECONDS for its answer, then kills it. Past a limit, or if the
child dies, the reading is refused with a ReadingLimit that names the limit and what to change:
the submission is rejected with that reason, its raw file stays in quarantine, the server
worker lives, and the same bytes may be sent again.

Where a process cannot fork (not POSIX), the reading runs in the caller, bounded only by the
readers' own limits (ideal.ingest.decode).
"""

from __future__ import annotations

import logging
import os

# pickle: our own child's answer, over a pipe it alone writes
import pickle  # nosec B403
import resource
import select
import signal
import time
from collections.abc import Callable

from ideal.config import Settings, get_settings
from ideal.errors import ReadingLimit, SubmissionError
from ideal.i18n import speaking, spoken, tr

log = logging.getLogger("ideal.bounded")


def _status_kb(key: str) -> int:
    """A figure of this process's /proc status, in kB (VmSize: its address space, what a forked
    child starts with; VmRSS: its resident memory)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _vm_bytes() -> int:
    return _status_kb("VmSize") * 1024


def _child(fn: Callable, args: tuple, memory_mb: int, seconds: float, language: str, out: int) -> None:
    """In the child: limits, then the call; its answer pickled to ``out``."""
    code = 0
    try:
        if memory_mb:
            limit = _vm_bytes() + memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = int(seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        with speaking(language):
            try:
                answer = ("ok", fn(*args))
            except SubmissionError as exc:
                answer = ("refused", exc)
            except MemoryError:
                answer = ("memory", None)
            except RecursionError:
                answer = ("error", "RecursionError")
            except Exception as exc:  # noqa: BLE001 - said to the caller, which logs it
                answer = ("error", f"{type(exc).__name__}: {exc}"[:2000])
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None))
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be sent is an error
            payload = pickle.dumps(("error", f"answer not sent: {type(exc).__name__}"))
        view = memoryview(payload)
        while view:
            view = view[os.write(out, view[:1 << 20]):]
    except BaseException:  # noqa: BLE001 - the child never returns into the caller's code
        code = 70
    finally:
        os._exit(code)


def _wait(pid: int, fd: int, seconds: float) -> tuple[bytes, bool, int, int]:
    """(what the child wrote, whether it outlived ``seconds``, its wait status, its peak
    resident memory in kB)."""
    chunks, deadline, late = [], time.monotonic() + seconds, False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            late = True
            break
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    if late:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status, usage = os.wait4(pid, 0)
    return b"".join(chunks), late, status, usage.ru_maxrss


# the last reading of this process: the child's peak resident memory and how much of it is more
# than its parent had (kB), and its wall-clock seconds (bench/fuzz.py reports them)
LAST: dict[str, float] = {}


def bounded(fn: Callable, *args, filename: str, settings: Settings | None = None):
    """``fn(*args)`` in a child process under the reading limits; its result, or the
    SubmissionError it raised, or a ReadingLimit when it outlived a limit or died."""
    settings = settings or get_settings()
    seconds, memory = settings.read_seconds, settings.read_memory_mb
    if not hasattr(os, "fork"):
        return fn(*args)
    read_fd, write_fd = os.pipe()
    resident = _status_kb("VmRSS")
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        log.error("could not fork to read %s (%s); reading it here", filename, exc)
        return fn(*args)
    if pid == 0:  # the child
        os.close(read_fd)
        _child(fn, args, memory, seconds, spoken(), write_fd)
    os.close(write_fd)
    t0 = time.monotonic()
    try:
        payload, late, status, peak = _wait(pid, read_fd, seconds)
    finally:
        os.close(read_fd)
    LAST.update(peak_kb=peak, extra_kb=max(0, peak - resident), seconds=time.monotonic() - t0)
    if late:
        raise _limit("time", filename, seconds=seconds)
    try:
        # the child's own answer (see the import)
        kind, value = pickle.loads(payload) if payload else ("died", None)  # nosec B301
    except Exception:  # noqa: BLE001 - a cut answer: the child died writing it
        kind, value = "died", None
    if kind == "ok":
        return value
    if kind == "refused":
        raise value
    if kind == "memory":
        raise _limit("memory", filename, memory=memory)
    if kind == "died":
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
            raise _limit("time", filename, seconds=seconds)
        log.error("the reading of %s died (wait status %s)", filename, status)
        raise _limit("died", filename)
    log.error("the reading of %s failed: %s", filename, value)
    raise _limit("failed", filename)


def _limit(kind: str, filename: str, **values) -> ReadingLimit:
    if kind == "time":
        text = tr("%(file)s: reading the file took longer than %(seconds)s s, the limit of one "
                  "file (IDEAL_READ_SECONDS); nothing was loaded. Split the file by year or "
                  "region, or send it in the IDEAL template, and send it again.", file=filename,
                  seconds=f"{values['seconds']:g}")
    elif kind == "memory":
        text = tr("%(file)s: reading the file needed more than %(mb)s MB of memory, the limit of "
                  "one file (IDEAL_READ_MEMORY_MB); nothing was loaded. Split the file by year or "
                  "region, or send it in the IDEAL template, and send it again.", file=filename,
                  mb=values["memory"])
    elif kind == "died":
        text = tr("%(file)s: the reading of the file stopped before it ended; nothing was loaded. "
                  "Send it again; if it stops again, send it in the IDEAL template.", file=filename)
    else:
        text = tr("%(file)s: the file could not be read because of an unexpected problem, which "
                  "the secretariat can see in the server's log; nothing was loaded. Send it again, "
                  "or send it in the IDEAL template.", file=filename)
    return ReadingLimit(text, limit=kind)
