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
from ideal.contracts import LANGUAGES
from ideal.i18n import parts_of, said_in, translations
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
        said = getattr(f, "said", None)
        detail = "" if _is_fix(f.message, said, rule["fix"]) else said_in(
            said if isinstance(said, list) else None, _, f.message)
        out.append({"row": "" if pd.isna(f.row) else int(f.row), "column": f.column or "",
                    "value": "" if f.value is None or pd.isna(f.value) else str(f.value),
                    "severity": f.severity, "severity_label": _(SEVERITY.get(f.severity, f.severity)),
                    "rule": f.rule, "title": _(rule["title"]), "fix": _(rule["fix"]) if rule["fix"] else "",
                    "detail": detail})
    return out


def _is_fix(message: str, said, fix: str) -> bool:
    """Whether a finding's message only repeats its rule's "what to do" (said in any language)."""
    if not fix:
        return False
    if isinstance(said, list) and len(said) == 1 and isinstance(said[0], dict):
        return said[0].get("msg") == fix
    return message in _fix_in_every_language(fix)


@cache
def _fix_in_every_language(fix: str) -> frozenset[str]:
    return frozenset(translations(language).gettext(fix) for language in LANGUAGES)


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


def _documents(receipt, language: str) -> tuple[str, pd.DataFrame, list[dict]]:
    """The feedback page, the CSV of every problem and the lines per rule, in ``language``."""
    _ = translations(language).gettext
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
    notes = [said_in(parts_of(n), _, str(n)) for n in receipt.notes]
    html = _template(language).render(
        r=receipt, notes=notes, language=language, rows=rows, counts=count_rows, headline=headline,
        status_label=_(STATUS.get(receipt.status, receipt.status)),
        country_name=reference.country_name(receipt.country, language))
    csv_rows = pd.DataFrame([{"row": r["row"], "column": r["column"], "value": safe_cell(r["value"]),
                              "severity": r["severity"], "rule": r["rule"], "title": r["title"],
                              "what_to_do": r["fix"], "detail": safe_cell(r["detail"])} for r in rows],
                            columns=["row", "column", "value", "severity", "rule", "title",
                                     "what_to_do", "detail"])
    return html, csv_rows, count_rows


def in_language(path: Path, language: str) -> Path:
    """The copy of a feedback file (<id>.html, <id>.csv) in another language: <id>.<language>.html."""
    return path.with_name(f"{path.stem}.{language}{path.suffix}")


def write(receipt, folder: Path, language: str = "es") -> dict[str, Path]:
    """Write <id>.html, <id>.csv (in the steward's ``language``) and <id>.receipt.json into
    ``folder``, and the page and CSV in each other language (<id>.pt.html ...) for readers of
    the portal who read another; returns the paths of the steward's."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / receipt.submission_id
    paths = {"html": base.with_suffix(".html"), "csv": base.with_suffix(".csv"),
             "receipt": base.with_suffix(".receipt.json")}
    for other in [language, *(lang for lang in LANGUAGES if lang != language)]:
        html, csv_rows, counts = _documents(receipt, other)
        own = other == language
        (paths["html"] if own else in_language(paths["html"], other)).write_text(html, encoding="utf-8")
        csv_rows.to_csv(paths["csv"] if own else in_language(paths["csv"], other), index=False,
                        encoding="utf-8-sig")
        if own:
            count_rows = counts
    paths["receipt"].write_text(json.dumps({
        "submission_id": receipt.submission_id, "country": receipt.country,
        "filename": receipt.filename, "sha256": receipt.sha256, "status": receipt.status,
        "format": receipt.format, "rows_total": receipt.rows_total,
        "rows_accepted": receipt.rows_accepted, "rows_rejected": receipt.rows_rejected,
        "rows_superseded": receipt.rows_superseded, "errors": receipt.n_errors,
        "warnings": receipt.n_warnings, "assumptions": receipt.notes,
        # how each assumption was said (i18n.Said.parts), to show it in a reader's language
        "assumptions_said": [parts_of(n) for n in receipt.notes],
        "problems_by_rule": {c["rule"]: c["count"] for c in count_rows},
        "language": language,
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths
