"""Settings from IDEAL_* variables: defaults, parsing, refusals naming the variable."""

from pathlib import Path

import pytest

from ideal.config import DEFAULT_MEMBERS, get_settings, member_codes
from ideal.errors import ConfigError


def test_defaults_live_under_the_home(monkeypatch, tmp_path):
    for name in ("IDEAL_DATABASE_URL", "IDEAL_MEMBERS", "IDEAL_SMTP_HOST", "IDEAL_AIRFLOW_URL",
                 "IDEAL_DISTRIBUTION", "IDEAL_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDEAL_HOME", str(tmp_path / "home"))
    s = get_settings()
    assert s.database_url == f"sqlite:///{tmp_path / 'home' / 'ideal.db'}"
    assert s.members == tuple(DEFAULT_MEMBERS) and len(s.members) == 18
    assert s.archive_dir == tmp_path / "home" / "data" / "archive"
    assert s.distribution_path == tmp_path / "home" / "distribution.yaml"
    assert s.smtp.host is None and s.smtp.port == 25 and s.airflow.url is None
    assert s.workers >= 1 and s.language == "es"


def test_values_are_parsed(monkeypatch):
    monkeypatch.setenv("IDEAL_MEMBERS", "mx, co  AR")
    monkeypatch.setenv("IDEAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("IDEAL_SMTP_PORT", "2525")
    monkeypatch.setenv("IDEAL_SMTP_STARTTLS", "1")
    monkeypatch.setenv("IDEAL_MAX_UPLOAD_MB", "2.5")
    monkeypatch.setenv("IDEAL_PUBLIC_URL", "https://ideal.example")
    monkeypatch.setenv("IDEAL_WORKERS", "3")
    s = get_settings()
    assert s.members == ("MX", "CO", "AR") and member_codes() == ["MX", "CO", "AR"]
    assert (s.smtp.host, s.smtp.port, s.smtp.starttls) == ("127.0.0.1", 2525, True)
    assert s.max_upload_bytes == int(2.5 * 2**20) and s.https and s.workers == 3


@pytest.mark.parametrize("name, value, says", [
    ("IDEAL_MEMBERS", "MX XX", "IDEAL_MEMBERS"),
    ("IDEAL_LANGUAGE", "fr", "IDEAL_LANGUAGE"),
    ("IDEAL_MAX_UPLOAD_MB", "lots", "IDEAL_MAX_UPLOAD_MB"),
    ("IDEAL_STALE_MINUTES", "-1", "IDEAL_STALE_MINUTES"),
    ("IDEAL_WORKERS", "1.5", "IDEAL_WORKERS"),
    ("IDEAL_SMTP_PORT", "smtp", "IDEAL_SMTP_PORT"),
])
def test_a_bad_value_names_the_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=says):
        get_settings()


def test_every_variable_is_documented():
    """The table at the top of ideal/config.py lists every IDEAL_* name the code reads."""
    import re

    source = Path(__file__).resolve().parent.parent / "ideal" / "config.py"
    text = source.read_text(encoding="utf-8")
    doc, code = text.split('"""', 2)[1], text.split('"""', 2)[2]
    read = set(re.findall(r'"(IDEAL_[A-Z_]+)"', code))
    documented = set(re.findall(r"IDEAL_[A-Z_]+", doc))
    for short in re.findall(r"(IDEAL_[A-Z]+)_HOST, (_[A-Z, _]+)", doc):
        documented |= {short[0] + s.strip() for s in short[1].split(",")}
    documented |= {"IDEAL_AIRFLOW_USER", "IDEAL_AIRFLOW_PASSWORD"}
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
