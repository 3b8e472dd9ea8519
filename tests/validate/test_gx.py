"""Great Expectations under concurrency (ideal.validate.gx): validations in threads at once
give exactly the verdicts they give alone, and remembered verdicts equal fresh ones."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd

from ideal.config import DEFAULT_MEMBERS
from ideal.ingest.demo import country_frame
from ideal.ingest.formats import read_submission
from ideal.validate import gx
from ideal.validate.runner import validate_submission

TODAY = date(2026, 11, 28)
MEMBERS = tuple(DEFAULT_MEMBERS)


def _frames() -> list[tuple[str, pd.DataFrame]]:
    out = []
    for i, cc in enumerate(["GT", "MX", "CO", "AR", "PE", "SV", "BR", "CL"]):
        f = country_frame(cc)
        f = f[f["period"] == f["period"].max()].head(150 + 40 * i).reset_index(drop=True)
        if i % 3 == 1:
            f.loc[3, "value"] = -1
        if i % 3 == 2:
            f.loc[5, "region"] = "MX-JAL"  # a region of another country
        data = f.to_csv(index=False).encode()
        out.append((cc, read_submission(data, f"{cc}.csv").frame))
    return out


def _verdict(cc: str, frame: pd.DataFrame):
    report = validate_submission(frame, cc, MEMBERS, today=TODAY)
    return report.ok, sorted(report.unexpected.items()), report.findings.to_csv(index=False)


def test_concurrent_validations_get_the_verdicts_they_get_alone():
    frames = _frames()
    alone = [_verdict(cc, f) for cc, f in frames]
    assert [a[0] for a in alone] == [True, False, False, True, False, False, True, False]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            together = list(pool.map(lambda item: _verdict(*item), frames * 2))
            assert together == alone * 2


def test_remembered_verdicts_equal_fresh_ones(monkeypatch):
    frames = _frames()
    remembered = [_verdict(cc, f) for cc, f in frames]
    monkeypatch.setattr(gx, "VERDICTS", gx.Verdicts())
    import ideal.validate.runner as runner

    monkeypatch.setattr(runner, "VERDICTS", gx.VERDICTS)
    fresh = [_verdict(cc, f) for cc, f in frames]
    assert fresh == remembered
