"""Write tests/durations.json: seconds each test file took (setup, calls and teardown) in a
run of the suite, read from its JUnit XML. `make test` hands the files to its workers longest
first, so that no long file starts last while the other worker has nothing left (#33). The XML
read is the suite's own JUnit report, not input from outside (bandit B405 and B314 accepted).

    .venv/bin/python -m pytest -q -n auto --dist loadfile --junitxml=var/junit.xml
    .venv/bin/python scripts/test_durations.py var/junit.xml
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree  # nosec B405

ROOT = Path(__file__).resolve().parent.parent


def file_seconds(junit: Path) -> dict[str, float]:
    seconds: Counter[str] = Counter()
    for case in ElementTree.parse(junit).iter("testcase"):  # nosec B314
        parts = case.get("classname", "").split(".")
        module = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        seconds["/".join(parts[:module + 1]) + ".py"] += float(case.get("time") or 0)
    return {name: round(s, 1) for name, s in seconds.most_common() if s >= 1}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/test_durations.py JUNIT.xml")
    out = ROOT / "tests" / "durations.json"
    out.write_text(json.dumps(file_seconds(Path(sys.argv[1])), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
