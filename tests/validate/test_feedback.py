import json

import pandas as pd
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from ideal.config import TEMPLATES_DIR
from ideal.contracts import FINDING_COLUMNS
from ideal.i18n import catalog_path, translations
from ideal.pipeline.submission import Receipt
from ideal.validate import feedback
from ideal.validate.plausibility import checks_config
from ideal.validate.runner import load_suite, rules


def receipt(findings):
    r = Receipt("MX-1", "MX", "datos.csv", "ab" * 32, "rejected", rows_total=3, rows_rejected=3,
                n_errors=1, format="template-csv", notes=["separator: semicolon"])
    r.findings = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    return r


@pytest.mark.parametrize("language, words", [
    ("es", ["Informe de validación", "Valor negativo", "Los conteos y cantidades no pueden ser negativos", "Fila"]),
    ("pt", ["Relatório de validação", "Valor negativo", "Contagens e quantidades não podem ser negativas", "Linha"]),
    ("en", ["IDEAL submission feedback", "Negative value", "Counts and quantities cannot be negative", "Row"]),
])
def test_feedback_in_three_languages(tmp_path, language, words):
    fix = rules()["value_non_negative"]["fix"]
    paths = feedback.write(receipt([("error", "value_non_negative", "value", 7, "-3", fix),
                                    ("warning", "value_not_estimated", "obs_status", 9, "E",
                                     rules()["value_not_estimated"]["fix"])]), tmp_path, language)
    html = paths["html"].read_text()
    for w in words:
        assert w in html
    rows = pd.read_csv(paths["csv"], dtype=str)
    assert rows.loc[0, "row"] == "7" and rows.loc[0, "value"] == "'-3"  # OWASP: a cell starting with - is neutralised and rows.loc[0, "column"] == "value"
    data = json.loads(paths["receipt"].read_text())
    assert data["sha256"] == "ab" * 32 and data["problems_by_rule"] == {"value_non_negative": 1,
                                                                        "value_not_estimated": 1}


def test_feedback_escapes_and_neutralises_formulas(tmp_path):
    paths = feedback.write(receipt([("error", "region_code_known", "region", 2,
                                     '=HYPERLINK("http://x")<script>', "x")]), tmp_path, "es")
    assert "<script>" not in paths["html"].read_text()
    assert pd.read_csv(paths["csv"], dtype=str).loc[0, "value"].startswith("'=")


def test_every_rule_has_a_title_and_fix_and_every_message_is_translated():
    used = {e["rule"] for e in load_suite()["expectations"]} | set(checks_config())
    assert used <= set(rules())
    msgids = {t for r in rules().values() for t in (r["title"], r["fix"])}
    msgids |= {m[1] for m in extract_from_file("jinja2", str(TEMPLATES_DIR / "feedback" / "feedback.html.j2"))}
    msgids |= set(feedback.SEVERITY.values()) | set(feedback.STATUS.values())
    # the briefing: its template, the sentences written from the data, the level names
    from ideal.report.context import LEVELS

    for template in ("briefing.html.j2", "annex.html.j2"):
        msgids |= {m[1] for m in extract_from_file("jinja2", str(TEMPLATES_DIR / "report" / template))}
    for module in ("ideal/report/context.py", "ideal/report/render.py", "ideal/report/annex.py"):
        msgids |= {m[1] for m in extract_from_file("python", str(TEMPLATES_DIR.parent / module))}
    msgids |= set(LEVELS.values())
    for lang in ("es", "pt"):
        with catalog_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        missing = [m for m in msgids if not (catalog.get(m) and catalog.get(m).string)]
        assert not missing, (lang, missing)
        assert translations(lang).gettext("Row") != "Row"


def test_every_rule_written_while_reading_has_a_title_and_fix():
    import re
    from pathlib import Path

    source = "\n".join(p.read_text(encoding="utf-8") for p in
                       sorted((Path(__file__).resolve().parents[2] / "ideal" / "ingest").glob("*.py")))
    written = set(re.findall(r'\(\s*"(?:error|warning|info)",\s*"(\w+)"', source))
    written |= set(re.findall(r'"rule":\s*"(\w+)"', source))
    assert {"period_partial", "region_unknown", "region_other_country"} <= written
    assert written <= set(rules()), sorted(written - set(rules()))


def test_every_message_written_while_processing_a_submission_is_translated():
    """Every tr() message (readers, profiles, checks, receipts, the console) exists in es and
    pt with the same placeholders, so a steward reads every detail in their language."""
    import re
    from pathlib import Path

    from babel.messages.extract import extract_from_file

    root = Path(__file__).resolve().parents[2] / "ideal"
    msgids = {m[1] for f in sorted(root.rglob("*.py"))
              for m in extract_from_file("python", str(f), keywords={"tr": None})}
    msgids |= {"comma", "semicolon", "tab", "pipe", "error", "warning", "info", "year", "month",
               "quarter", "accepted", "rejected", "superseded", "failed", "received"}  # dynamic
    assert len(msgids) > 120

    def holes(text):
        return sorted(re.findall(r"%\(\w+\)[sr]|%%", text))

    for lang in ("es", "pt"):
        with catalog_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        missing = sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string))
        assert not missing, (lang, missing)
        wrong = [m for m in msgids if holes(m) != holes(catalog.get(m).string)]
        assert not wrong, (lang, wrong)


def test_messages_follow_the_stewards_language():
    from ideal.i18n import speaking
    from ideal.ingest.formats import read_submission

    data = b"Delito;Fecha\nHOMICIDIO;01/01/2023\n"
    for lang, word in (("es", "formato no reconocido"), ("pt", "formato não reconhecido"),
                       ("en", "format not recognised")):
        with speaking(lang), pytest.raises(Exception) as exc:
            read_submission(data, "x.csv")
        assert word in str(exc.value)
