"""The house rules of docs/architecture.md, checked on the source: stages import only
downwards, every IDEAL_* setting is read in ideal/config.py, SQL is written only in
ideal/store/, and the portal and the CLI reach the stages through ideal.pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IDEAL = Path(__file__).resolve().parent.parent / "ideal"

# rooms and their floors: a module may import its own room and rooms on lower floors only
FLOOR = {
    "errors": 0,
    "config": 1, "contracts": 1, "frames": 1, "safe_load": 1,
    "i18n": 2,
    "reference": 3,
    "ingest": 4, "validate": 4, "scoring": 4, "store": 4,
    "report": 5,     # renders what scoring computed
    "services": 5,   # the engine (store), the mailer, the Airflow client
    "pipeline": 6,   # the only room that combines stages
    "cli": 7, "web": 7,
}


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "ideal" or len(parts) == 1:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(IDEAL.parent).with_suffix("").parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            if name == "ideal":  # from ideal import reference (not: __version__)
                found += [(node.lineno, f"ideal.{a.name}") for a in node.names
                          if not a.name.startswith("_")]
    return found


def _modules():
    for path in sorted(IDEAL.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path


def test_every_room_has_a_floor():
    rooms = {p.relative_to(IDEAL).parts[0].removesuffix(".py") for p in _modules()}
    rooms.discard("__init__")
    assert rooms <= set(FLOOR), f"rooms without a floor in this test: {rooms - set(FLOOR)}"


def test_stages_import_only_downwards():
    wrong = []
    for path in _modules():
        here = path.relative_to(IDEAL).parts[0].removesuffix(".py")
        if here == "__init__":
            continue
        for line, name in _imports(path):
            there = _room(name)
            if there is None or there == here:
                continue
            if FLOOR[there] >= FLOOR[here]:
                wrong.append(f"{path.relative_to(IDEAL.parent)}:{line} ({here}) imports {name} ({there})")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (IDEAL / rel).with_suffix(".py").is_file() or (IDEAL / rel / "__init__.py").is_file()


def test_no_import_aliases_of_ideal_functions():
    """One verb per layer: no function or class of IDEAL imported under another name (a
    short name for a module of the same room, like ``normalise as nz``, is allowed)."""
    wrong = []
    for path in _modules():
        here = path.relative_to(IDEAL).parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or ""
                for a in node.names:
                    full = a.name if isinstance(node, ast.Import) else f"{module}.{a.name}"
                    if not (a.asname and full.startswith("ideal.")):
                        continue
                    if _is_module(full) and _room(full) == here:
                        continue
                    wrong.append(f"{path.relative_to(IDEAL.parent)}:{node.lineno} {full} as {a.asname}")
    assert not wrong, "\n".join(wrong)


def test_the_environment_is_read_in_config_only():
    """Every IDEAL_* setting comes from ideal.config; the only other use of the environment
    is the report renderer's SOURCE_DATE_EPOCH (reproducible PDF font subsets)."""
    wrong = []
    for path in _modules():
        rel = path.relative_to(IDEAL.parent).as_posix()
        if rel == "ideal/config.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "os.environ" in line or "getenv(" in line:
                if rel == "ideal/report/render.py" and "SOURCE_DATE_EPOCH" in line:
                    continue
                wrong.append(f"{rel}:{n}: {line.strip()}")
            elif "envvar=" in line and rel != "ideal/cli.py":  # cli: `--token` from IDEAL_TOKEN
                wrong.append(f"{rel}:{n}: {line.strip()}")
    assert not wrong, "environment read outside ideal/config.py:\n" + "\n".join(wrong)


@pytest.mark.parametrize("needle", ["from sqlalchemy import", "import sqlalchemy"])
def test_sql_is_written_in_the_store_only(needle):
    """Queries are built in ideal/store/ (and the engine is made in ideal/services.py); other
    rooms only pass an Engine along (typing)."""
    wrong = []
    for path in _modules():
        rel = path.relative_to(IDEAL.parent).as_posix()
        if rel.startswith("ideal/store/") or rel == "ideal/services.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line and line.strip() not in ("from sqlalchemy import Engine",):
                wrong.append(f"{rel}:{n}: {line.strip()}")
    assert not wrong, "SQL built outside ideal/store/:\n" + "\n".join(wrong)


def test_exception_classes_live_in_errors():
    wrong = []
    for path in _modules():
        rel = path.relative_to(IDEAL.parent).as_posix()
        if rel == "ideal/errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception"))
                    for b in node.bases):
                wrong.append(f"{rel}:{node.lineno} class {node.name}")
    assert not wrong, "\n".join(wrong)


def test_a_server_process_starts_without_the_assessment_and_report_modules(tmp_path):
    """#33: `ideal serve` answered 8 s after start, 1.7 s of each process's start spent importing
    the assessment and report modules (scipy, matplotlib) that only a run's pages need. They are
    imported when used, or by the server's background warm-up."""
    import os
    import subprocess
    import sys

    heavy = ["scipy", "matplotlib", "weasyprint", "great_expectations", "ideal.pipeline.assessment",
             "ideal.report.context", "ideal.scoring.score"]
    out = subprocess.run([sys.executable, "-c", "import sys, ideal.web.server; "
                          f"print(','.join(m for m in {heavy!r} if m in sys.modules))"],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "IDEAL_HOME": str(tmp_path / "var"), "IDEAL_DATABASE_URL": ""})
    assert out.stdout.strip() == "", f"imported at a server's start: {out.stdout.strip()}"
