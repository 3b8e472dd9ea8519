"""The steward's feedback for one submission, in their language: an HTML report, a CSV of
every problem (row, column, value, rule, what to do) and a JSON receipt."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ideal import reference
from ideal.config import TEMPLATES_DIR
from ideal.i18n import translations
from ideal.validate.runner import rules

SEVERITY = {"error": "Error (blocks the file)", "warning": "Warning", "info": "Information"}
STATUS = {"accepted": "Accepted", "rejected": "Rejected", "failed": "Failed", "received": "Received"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: every such first character


def safe_cell(value) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection, OWASP): a text cell
    whose first character is =, +, -, @, a tab or a carriage return gets a leading apostrophe,
    "-1" from a steward's file included (#34: "-1+cmd|..." went through as a negative number);
    numbers the program wrote stay numbers."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def finding_rows(findings: pd.DataFrame, _) -> list[dict]:
    table = rules()
    out = []
    for f in findings.itertuples():
        rule = table.get(f.rule, {"title": f.rule, "fix": ""})
        detail = "" if f.message == rule["fix"] else f.message
        out.append({"row": "" if pd.isna(f.row) else int(f.row), "column": f.column or "",
                    "value": "" if f.value is None or pd.isna(f.value) else str(f.value),
                    "severity": f.severity, "severity_label": _(SEVERITY.get(f.severity, f.severity)),
                    "rule": f.rule, "title": _(rule["title"]), "fix": _(rule["fix"]) if rule["fix"] else "",
                    "detail": detail})
    return out


def summary_rows(counts: pd.DataFrame, _) -> list[dict]:
    """One line per severity and rule (columns severity, rule, count), translated."""
    table = rules()
    return [{"severity": c.severity, "severity_label": _(SEVERITY.get(c.severity, c.severity)),
             "rule": c.rule, "title": _(table.get(c.rule, {"title": c.rule})["title"]),
             "fix": _(table.get(c.rule, {"fix": ""})["fix"]) if table.get(c.rule, {}).get("fix") else "",
             "count": c.count} for c in counts.itertuples()]


@cache
def _template(language: str):
    """The feedback page's template in a language, compiled once per process (a Jinja2
    template renders safely from several threads at once)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR / "feedback")),
                      autoescape=select_autoescape(default=True), extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)
    return env.get_template("feedback.html.j2")


def write(receipt, folder: Path, language: str = "es") -> dict[str, Path]:
    """Write <id>.html, <id>.csv and <id>.receipt.json into ``folder``; returns their paths."""
    t = translations(language)
    _ = t.gettext
    folder.mkdir(parents=True, exist_ok=True)
    rows = finding_rows(receipt.findings, _)
    found = receipt.findings if "rows" in receipt.findings else receipt.findings.assign(rows=1)
    counts = (found.groupby(["severity", "rule"], sort=False)["rows"].sum()  # rows affected
              .reset_index(name="count") if not found.empty else pd.DataFrame())
    count_rows = summary_rows(counts, _)
    if receipt.status == "accepted":
        headline = _("%(rows)s rows accepted, %(warnings)s warnings.") % {
            "rows": receipt.rows_accepted, "warnings": receipt.n_warnings}
    else:
        headline = _("Nothing was loaded: fix the problems marked as errors and send the file again.")
    html = _template(language).render(
        r=receipt, language=language, rows=rows, counts=count_rows, headline=headline,
        status_label=_(STATUS.get(receipt.status, receipt.status)),
        country_name=reference.country_name(receipt.country, language))
    base = folder / receipt.submission_id
    paths = {"html": base.with_suffix(".html"), "csv": base.with_suffix(".csv"),
             "receipt": base.with_suffix(".receipt.json")}
    paths["html"].write_text(html, encoding="utf-8")
    csv_rows = pd.DataFrame([{"row": r["row"], "column": r["column"], "value": safe_cell(r["value"]),
                              "severity": r["severity"], "rule": r["rule"], "title": r["title"],
                              "what_to_do": r["fix"], "detail": safe_cell(r["detail"])} for r in rows],
                            columns=["row", "column", "value", "severity", "rule", "title",
                                     "what_to_do", "detail"])
    csv_rows.to_csv(paths["csv"], index=False, encoding="utf-8-sig")
    paths["receipt"].write_text(json.dumps({
        "submission_id": receipt.submission_id, "country": receipt.country,
        "filename": receipt.filename, "sha256": receipt.sha256, "status": receipt.status,
        "format": receipt.format, "rows_total": receipt.rows_total,
        "rows_accepted": receipt.rows_accepted, "rows_rejected": receipt.rows_rejected,
        "rows_superseded": receipt.rows_superseded, "errors": receipt.n_errors,
        "warnings": receipt.n_warnings, "assumptions": receipt.notes,
        "problems_by_rule": {c["rule"]: c["count"] for c in count_rows},
        "language": language,
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths
