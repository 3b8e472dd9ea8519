"""`ideal` command line (Typer): arguments -> ideal.pipeline -> printed result. Exit 0 on
success, 1 when a command fails or refuses (a rejected submission too), so scripts and
Airflow tasks see it. Tracebacks only with --debug.

Each command imports what it calls inside its body: `ideal --help` and a mistyped command
answer at once instead of loading pandas, Great Expectations and SQLAlchemy first."""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ideal.errors import IdealError

app = typer.Typer(help="IDEAL: crime-indicator submissions in, threat-assessment briefings out.",
                  no_args_is_help=True, add_completion=False)
STATE = {"debug": False}


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    STATE["debug"] = debug
    if not debug:  # a library's warnings are for developers, not on a steward's console (#47)
        import warnings

        for kind in (RuntimeWarning, FutureWarning, DeprecationWarning, UserWarning):
            warnings.filterwarnings("ignore", category=kind)


def handled(fn):
    """Turn IdealError (and unexpected errors) into a message and exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except BrokenPipeError:
            # the reader closed the pipe (`ideal runs | head`): end quietly, as the Python docs
            # advise (signal module, "Note on SIGPIPE"), the rest of the output to /dev/null
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(1) from None
        except IdealError as exc:
            if STATE["debug"]:
                raise
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:  # noqa: BLE001 - last resort: a message, not a traceback
            if STATE["debug"]:
                raise
            typer.secho(f"unexpected error: {type(exc).__name__}: {exc} "
                        "(run again with --debug for the traceback)", fg="red", err=True)
            raise typer.Exit(1) from None
    return wrapper


def _engine(initialise: bool = False):
    from ideal import services

    return services.engine(migrate=initialise)


@app.command()
@handled
def init(marking: str = typer.Option(None, "--marking", help="The classification marking printed on "
                                     "every page of the briefings (e.g. 'USO OFICIAL - RESERVADO'); asked "
                                     "when not given and none is set")) -> None:
    """Create or migrate the warehouse and the data folders; set the briefings' marking."""
    import sys

    from ideal.config import get_settings, set_marking
    from ideal.pipeline import inbox

    s = get_settings()
    if marking is None and not s.classification and sys.stdin.isatty():
        marking = typer.prompt("Classification marking of the briefings (e.g. USO OFICIAL - RESERVADO)",
                               default="", show_default=False) or None
    if marking:
        set_marking(s.home, marking)
    s, engine, revision = inbox.initialise()
    typer.echo(f"warehouse ready at {engine.url.render_as_string(hide_password=True)} "
               f"(schema {revision}); data folders under {s.data_dir}")
    typer.echo(f"briefings are marked: {s.classification}" if s.classification else
               "no classification marking is set: briefings say so on every page; set it with "
               "`ideal init --marking TEXT` (or IDEAL_CLASSIFICATION)")


def _print_receipt(receipt, max_rows: int = 20) -> None:
    """The receipt, its findings and assumptions, in the receipt's language."""
    from ideal.i18n import speaking, tr

    color = "green" if receipt.ok else ("yellow" if receipt.duplicate else "red")
    typer.secho(receipt.summary(), fg=color)
    if receipt.duplicate:
        return
    with speaking(receipt.language):
        for f in receipt.findings.head(max_rows).itertuples():
            where = (tr("row %(n)s", n=f.row) if f.row is not None and str(f.row) != "<NA>"
                     else tr("file"))
            value = (" " + tr("value %(value)r", value=f.value)
                     if f.value not in (None, "") and str(f.value) != "nan" else "")
            typer.echo(f"  {tr(f.severity):8} {where:10} {f.column or '':11} [{f.rule}]{value}: {f.message}")
        if len(receipt.findings) > max_rows:
            typer.echo("  " + tr("... %(n)s more findings in %(path)s",
                                 n=len(receipt.findings) - max_rows, path=receipt.feedback_path))
        elif receipt.feedback_path:
            typer.echo("  " + tr("feedback: %(html)s (rows: %(csv)s)", html=receipt.feedback_path,
                                 csv=receipt.feedback_csv))
        for note in receipt.notes:
            typer.echo("  " + tr("assumed: %(note)s", note=note))


@app.command()
@handled
def submit(file: Path = typer.Argument(..., help="The file to submit: IDEAL template (CSV/XLSX), "
                                            "SDMX-CSV, or a national export with a profile."),
           country: str = typer.Option(..., "--country", "-c", help="Your country (ISO alpha-2)."),
           profile: Optional[str] = typer.Option(None, help="Crosswalk profile of a national export "
                                                 "(default: detected from the columns)."),
           encoding: Optional[str] = typer.Option(None, help="Text encoding, e.g. cp1252 (default: detected)."),
           separator: Optional[str] = typer.Option(None, help="comma, semicolon, tab or pipe (default: detected)."),
           decimal: Optional[str] = typer.Option(None, help="Decimal mark: . or , (default: detected)."),
           sheet: Optional[str] = typer.Option(None, help="XLSX sheet (default: 'data' or the first)."),
           language: Optional[str] = typer.Option(None, help="Feedback language: es, pt or en."),
           token: Optional[str] = typer.Option(None, envvar="IDEAL_TOKEN", show_default=False,
                                               help="Act as the account of this API token (a "
                                                    "steward may submit only for their country).")) -> None:
    """Submit one file for a country; prints the receipt and every problem found."""
    from ideal.ingest.sniff import ReadOptions
    from ideal.pipeline import submission

    engine = _engine()
    actor = None
    if token:
        actor = _token_actor(engine, token, country)
    options = ReadOptions.named(encoding, separator, decimal, sheet, profile)
    receipt = submission.submit_file(file, country, engine, channel="cli", options=options, language=language,
                          actor=actor)
    _print_receipt(receipt)
    if receipt.status not in ("accepted", "superseded"):  # a file received and refused before, too
        raise typer.Exit(1)


def _token_actor(engine, token: str, country: str) -> str:
    """The audit name of the token's account; refuses (and audits) a steward's file for
    another country."""
    from ideal.store import accounts

    user = accounts.user_for_token(engine, token)
    if user is None:
        raise IdealError("the token is unknown, revoked or of a disabled account; ask an admin "
                         "for a new one (`ideal user token NAME`).")
    if not user.may_see(country.upper()):
        accounts.record_refusal(engine, f"cli:{user.username}", "submission.upload", country.upper(),
                       f"cli submit by steward of {user.country}")
        raise IdealError(f"your account is the steward of {user.country}: it cannot submit data "
                         f"for {country.upper()}.")
    return f"cli:{user.username}"


@app.command()
@handled
def retry(submission: str = typer.Argument(..., help="The failed submission's id.")) -> None:
    """Process a failed or interrupted submission again from its archived raw file."""
    from ideal.pipeline import recover

    receipt = recover.retry(_engine(), submission)
    _print_receipt(receipt)
    if not receipt.ok and not receipt.duplicate:
        raise typer.Exit(1)


@app.command("recover")
@handled
def recover_command(older_than: float = typer.Option(None, help="Minutes a submission may stay "
                                                        "'received' (default IDEAL_STALE_MINUTES, 30).")) -> None:
    """Mark submissions a crashed process left half-way as failed, and retry them."""
    from datetime import timedelta

    from ideal.pipeline.recover import recover

    receipts = recover(_engine(), timedelta(minutes=older_than) if older_than is not None else None)
    if not receipts:
        typer.echo("no interrupted submissions.")
    for r in receipts:
        _print_receipt(r, max_rows=5)
    if any(not r.ok and not r.duplicate for r in receipts):
        raise typer.Exit(1)


@app.command()
@handled
def ingest() -> None:
    """Process every file waiting in the landing folder (inbox/<CC>/)."""

    from ideal.pipeline import inbox

    receipts = list(inbox.ingest_inbox(_engine(), progress=_heard))
    if not receipts:
        typer.echo("inbox is empty: nothing to ingest.")
    if any(r.status == "rejected" and not r.duplicate for r in receipts):
        raise typer.Exit(1)


def _heard(i: int, total: int, receipt) -> None:
    typer.echo(f"[{i}/{total}] {receipt.country} ", nl=False)
    _print_receipt(receipt, max_rows=5)


@app.command()
@handled
def assess(period: Optional[str] = typer.Option(
               None, help="Reference year (default: the latest year in which any member has complete data)."),
           country: Optional[list[str]] = typer.Option(None, "--country", "-c",
                                                       help="Limit to these countries (repeat)."),
           crime_type: Optional[list[str]] = typer.Option(None, "--crime-type",
                                                          help="Limit to these ICCS codes (repeat)."),
           profile: str = typer.Option("default", help="Methodology profile name or YAML path."),
           note: Optional[str] = typer.Option(None, help="Why this run was made.")) -> None:
    """Score threats by region and crime type; stores an immutable assessment run."""
    from ideal.contracts import AssessmentRequest
    from ideal.pipeline import assessment

    request = AssessmentRequest.from_mapping({"period": period, "countries": country or [],
                                              "crime_types": crime_type or [], "profile": profile,
                                              "note": note})
    result = assessment.assess(_engine(), request)
    verb = "already assessed as" if result.reused else "stored as"
    typer.echo(f"assessment as of {result.period}: {result.n_scores} region x crime scores from "
               f"{result.n_observations} observations, {verb} run {result.run_id}")
    _print_countries(result.countries, int(result.period))
    for other in result.other_years:
        typer.echo(f"  {other['year']} would also assess {', '.join(other['adds'])}"
                   + (f" and leave out {', '.join(other['leaves_out'])}" if other["leaves_out"] else "")
                   + f" ({other['assessed']} members)")
    if len(result.unscored):
        typer.secho(f"  {len(result.unscored)} region x crime units not scored:", fg="yellow")
        by = result.unscored.groupby(["country", "reason"]).size().reset_index(name="n")
        for r in by.itertuples():
            typer.echo(f"    {r.country}: {r.n} - {r.reason}")


def _print_countries(countries: list[dict], year: int | None = None) -> None:
    """Each member in scope: the years its scored units' data come from (carried forward when
    older than the run's year; its later data), or why it is not assessed."""
    done = [c for c in countries if c.get("status") == "assessed"]
    if done:
        typer.echo("  assessed: " + "; ".join(
            f"{c['country']} {', '.join(f'{y} ({n})' for y, n in c.get('data_years', {}).items())}"
            + (", carried forward" if year and c.get("data_years")
               and max(int(y) for y in c["data_years"]) < year else "")
            + (f", {c['nowcast']} nowcast" if c.get("nowcast") else "")
            + (f", {c['annualised']} annualised" if c.get("annualised") else "")
            + (f", later data {c['later']}" if c.get("later") else "") for c in done))
    others = [c for c in countries if c.get("status") != "assessed"]
    if others:
        typer.secho(f"  {len(others)} members not assessed:", fg="yellow")
        for c in others:
            typer.echo(f"    {c['country']}: {c.get('reason')}")


@app.command("trigger")
@handled
def trigger_command(period: Optional[str] = typer.Option(
                        None, help="Reference year (default: the latest year in which any member has complete data)."),
            countries: Optional[str] = typer.Option(None, help="Comma-separated members, e.g. MX,CO."),
            crime_types: Optional[str] = typer.Option(None, help="Comma-separated ICCS codes."),
            profile: str = typer.Option("default", help="Methodology profile."),
            note: Optional[str] = typer.Option(None, help="Why this run is made.")) -> None:
    """Trigger a reassessment: through Airflow's REST API when IDEAL_AIRFLOW_URL is set,
    else locally (assess + briefing)."""
    from ideal.contracts import AssessmentRequest
    from ideal.pipeline.trigger import trigger

    request = AssessmentRequest.from_mapping({"period": period, "countries": countries,
                                              "crime_types": crime_types, "profile": profile,
                                              "note": note})
    done = trigger(_engine(initialise=True), request, audit_actor())
    typer.echo(f"run {done.run_id} ({done.where}, {done.state or 'queued'})")
    if done.link:
        typer.echo(f"  {done.link}")


@app.command()
@handled
def runs(limit: int = typer.Option(10, help="How many, newest first.")) -> None:
    """Recent assessment runs, newest first: started, state, assessment id, period, countries,
    crime types, note, and the link to the run (Airflow's when configured, else the portal's)."""
    from ideal.pipeline.trigger import recent_runs

    rows = recent_runs(_engine(initialise=True), limit)
    if not rows:
        typer.echo("no runs yet.")
        return
    typer.echo(f"{'started':19}  {'state':9}  {'assessment':22}  {'period':6}  {'countries':14}  "
               f"{'crime types':14}  note")

    def listed(conf: dict, key: str) -> str:
        items = list(conf.get(key) or [])
        return (",".join(items[:3]) + (f",+{len(items) - 3}" if len(items) > 3 else "")) or "all"

    for r in rows:
        conf = r.get("conf") or {}
        typer.echo(f"{str(r['started'] or '')[:19].replace('T', ' '):19}  {r['state'] or '':9}  "
                   f"{r.get('assessment') or '-':22}  {conf.get('period') or 'latest':6}  "
                   f"{listed(conf, 'countries'):14}  {listed(conf, 'crime_types'):14}  {conf.get('note') or ''}")
        if r.get("link"):
            typer.echo(f"  {r['link']}")


@app.command()
@handled
def compare(run_a: str = typer.Argument(..., help="The earlier run."),
            run_b: str = typer.Argument(..., help="The later run."),
            limit: int = typer.Option(20, help="How many changes to list, largest rank change first.")) -> None:
    """Score, level and rank changes between two runs, and whether data or method caused them."""
    from ideal.pipeline import assessment

    same, d = assessment.compare_runs(_engine(), run_a, run_b)
    changed = d[d["cause"] != "none"]
    typer.echo(f"{run_a} -> {run_b}: profile {'unchanged' if same else 'changed'}; "
               f"{len(changed)} of {len(d)} units changed "
               f"({', '.join(f'{k}: {v}' for k, v in changed['cause'].value_counts().items()) or 'none'})")
    for r in changed.head(limit).itertuples():
        moved = [(p, getattr(r, f"change_{p}")) for p in ("magnitude", "trend", "harm", "spread")]
        why = ("; by pillar " + " ".join(f"{p[:4]} {v:+.2f}" for p, v in moved if v == v)
               + f" (most: {r.driver})") if r.driver else ""
        typer.echo(f"  {r.country} {r.region:8} {r.crime_type:7} score {r.score_a!s:>7} -> {r.score_b!s:7} "
                   f"rank {r.rank_a!s:>6} -> {r.rank_b!s:6} level {r.level_a} -> {r.level_b} [{r.cause}{why}]")


@app.command()
@handled
def report(run: Optional[str] = typer.Option(None, help="Run id (default: newest run)."),
           language: str = typer.Option("es", help="Language: es, en or pt."),
           annex: bool = typer.Option(False, "--annex", help="Also the full annex (PDF/A-3a with "
                                                            "the scores attached).")) -> None:
    """Render the briefing PDF (PDF/UA-1) of an assessment run into reports/<period>/."""
    from ideal.pipeline import assessment

    engine = _engine()
    path = assessment.render_report(engine, run, "briefing", language)
    typer.echo(f"briefing written: {path}")
    if annex:
        typer.echo(f"annex written: {assessment.render_report(engine, run, 'annex', language)}")


@app.command()
@handled
def deliver(run: Optional[str] = typer.Option(None, help="Run id (default: newest run)."),
            distribution_list: Optional[Path] = typer.Option(None, "--distribution", help="Distribution list YAML "
                                                        "(default: IDEAL_DISTRIBUTION).")) -> None:
    """Send the run's briefing to each recipient of the distribution list (SMTP), once."""
    from ideal.pipeline import delivery
    from ideal.report.delivery import distribution
    from ideal.store import runs

    engine = _engine()
    run_id = runs.load(engine, run)[0]["id"]
    outcomes = delivery.deliver(engine, run_id, distribution(distribution_list))
    for o in outcomes:
        typer.echo(f"  {o.status:12} {o.recipient} ({o.language}) {o.detail}")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command()
@handled
def template(out: Path = typer.Argument(Path("ideal-template.csv"),
                                        help="Where to write the template: .csv, or .xlsx with "
                                             "the code lists on their own sheets.")) -> None:
    """Write the IDEAL template (CSV, or XLSX with code lists)."""
    from ideal.config import TEMPLATES_DIR, get_settings
    from ideal.ingest.template import xlsx_template

    if out.suffix.lower() == ".xlsx":
        s = get_settings()
        out.write_bytes(xlsx_template(s.members, s.language))
    else:
        out.write_bytes((TEMPLATES_DIR / "submission" / "ideal-template.csv").read_bytes())
    typer.echo(f"template written: {out}")


@app.command()
@handled
def audit(submission: Optional[str] = typer.Option(None, help="Only this submission."),
          country: Optional[str] = typer.Option(None, "--country", "-c", help="Only this country."),
          limit: int = typer.Option(50, help="How many events, newest first.")) -> None:
    """Show the audit log: who did what, when, with what outcome and why."""
    from ideal.store.audit import events

    found = events(_engine(), submission, country.upper() if country else None, limit)
    if found.empty:
        typer.echo("no audit events.")
    for e in found.itertuples():
        typer.echo(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:18} {e.action:24} {e.outcome:8} "
                   f"{e.object_id or '':30} {e.detail or ''}")


contrib_app = typer.Typer(help="Structured contributions on criminal markets: the template, the spread "
                                "between rounds. Send a filled-in file with `ideal submit FILE --country CC`.",
                           no_args_is_help=True)
app.add_typer(contrib_app, name="contributions")


@contrib_app.command("template")
@handled
def contributions_template(
        out: Path = typer.Argument(Path("ideal-contributions.xlsx"),
                                   help="Where to write it: .xlsx (with the markets, the anchors and "
                                        "instructions) or .csv (header and an example row)."),
        country: str = typer.Option("", help="Your country (ISO alpha-2), for the example row."),
        language: str = typer.Option("", help="es, pt or en (default IDEAL_LANGUAGE)."),
) -> None:
    """Write the template of structured contributions (one row per market x year x assessor)."""
    from ideal.config import get_settings
    from ideal.ingest.contributions import csv_template, xlsx_template

    s = get_settings()
    cc = country.upper() or (s.members[0] if s.members else "MX")
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(xlsx_template(s.members, language or s.language, cc))
    else:
        out.write_bytes(csv_template(cc))
    typer.echo(f"contributions template written: {out}")


@contrib_app.command("spread")
@handled
def contributions_spread(
        country: str = typer.Option(..., help="The member (ISO alpha-2)."),
        year: int = typer.Option(0, help="The year assessed (default: the latest with contributions)."),
        round_: int = typer.Option(1, "--round", help="The round whose spread to show."),
        out: Path | None = typer.Option(None, help="Write it as CSV here instead of printing it."),
) -> None:
    """The anonymised spread of a round per market (no assessor, no role) beside IDEAL's data
    track for the same markets: what the assessors see before the next round."""
    from ideal import services
    from ideal.config import get_settings
    from ideal.pipeline.contributions import spread

    s = get_settings()
    table = spread(services.engine(s), country.upper(), year or None, round_, s.language)
    if out:
        table.to_csv(out, index=False)
        typer.echo(f"spread of round {round_} written: {out} ({len(table)} markets)")
    else:
        typer.echo(table.drop(columns=["run"]).to_string(index=False))


profile_app = typer.Typer(help="Crosswalk profiles: how a national export maps to IDEAL's "
                          "observations (see README, 'Onboarding a new national export').",
                          no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("list")
@handled
def profile_list() -> None:
    """The installed (IDEAL_PROFILES_DIR) and shipped profiles."""
    from ideal.ingest import registry

    for p in registry.listing():
        if p["problem"]:
            typer.secho(f"{p['name']:28} BROKEN, not used: {p['problem']}", fg="red")
        else:
            typer.echo(f"{p['name']:28} {p['country']}  v{p['version']:<3} {p['origin']:9} {p['shape']:6} {p['title']}")


@profile_app.command("show")
@handled
def profile_show(name: str = typer.Argument(..., help="Profile name.")) -> None:
    """Print a profile's YAML."""
    from ideal.pipeline import profiles

    typer.echo(profiles.show(name), nl=False)


@profile_app.command("new")
@handled
def profile_new(file: Path = typer.Argument(..., help="A national export (CSV or XLSX)."),
                country: str = typer.Option(..., "--country", "-c", help="Its country (ISO alpha-2)."),
                output: Optional[Path] = typer.Option(None, "--output", "-o",
                                                      help="Write the profile here (default: print it).")) -> None:
    """Write a starting profile from a file: sheet, header row, guessed columns, every
    category and region value listed for mapping, TODOs for what could not be guessed."""
    from ideal.pipeline import profiles

    if not file.is_file():
        raise IdealError(f"{file}: no such file.")
    text = profiles.new(file.read_bytes(), file.name, country)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"profile draft written to {output}; settle its TODOs, then "
                   f"`ideal profile check {file} --profile {output} --country {country.upper()}`.")
    else:
        typer.echo(text, nl=False)


@profile_app.command("check")
@handled
def profile_check(file: Path = typer.Argument(..., help="A national export to try the profile on."),
                  profile: str = typer.Option(..., "--profile", "-p", help="An installed profile's "
                                              "name, or a YAML file being written (checked, not installed)."),
                  country: str = typer.Option(..., "--country", "-c", help="Its country (ISO alpha-2)."),
                  sheet: Optional[str] = typer.Option(None, help="Read only this sheet of a workbook."),
                  rows: int = typer.Option(10, help="Canonical rows to show."),
                  language: Optional[str] = typer.Option(None, help="Messages in es, pt or en "
                                                         "(default IDEAL_LANGUAGE).")) -> None:
    """Dry run: what the file would become with the profile. Loads nothing; exits 0 only when
    the file would be accepted."""
    from ideal.pipeline import profiles

    if not file.is_file():
        raise IdealError(f"{file}: no such file.")
    engine = _engine(initialise=True)  # the history a file is compared with; nothing is written
    name = profile
    if profile.endswith((".yaml", ".yml")):
        path = Path(profile)
        if not path.is_file():
            raise IdealError(f"{path}: no such profile file.")
        with profiles.trying(path.read_text(encoding="utf-8"), path.name, language) as name:
            result = profiles.check(file.read_bytes(), file.name, name, country, engine, sheet=sheet,
                                    language=language)
    else:
        result = profiles.check(file.read_bytes(), file.name, name, country, engine, sheet=sheet,
                                language=language)
    _print_dry_run(result, rows, language)
    if not result.accepted:
        raise typer.Exit(1)


@profile_app.command("install")
@handled
def profile_install(file: Path = typer.Argument(..., help="The profile (YAML) to install.")) -> None:
    """Check a profile and install it in IDEAL_PROFILES_DIR, where submissions find it by name
    (an installed profile hides a shipped one of the same name)."""
    from ideal.pipeline import profiles

    if not file.is_file():
        raise IdealError(f"{file}: no such file.")
    prof, path = profiles.install(file.read_text(encoding="utf-8"), file.name)
    typer.secho(f"installed profile {prof.name} ({prof.country}, v{prof.version}) as {path}; "
                f"submit with `ideal submit FILE --country {prof.country} --profile {prof.name}`.",
                fg="green")


def _print_dry_run(r, rows: int, language: str | None) -> None:
    from ideal.config import get_settings
    from ideal.i18n import speaking, tr

    with speaking(language or get_settings().language):
        typer.echo(tr("profile %(name)s: %(format)s", name=r.profile, format=r.format or tr("not read")))
        if r.columns:
            typer.echo("  " + tr("columns used: %(columns)s", columns=", ".join(r.columns)))
        for note in r.notes:
            typer.echo("  " + tr("read: %(note)s", note=note))
        if not r.first_rows.empty:
            typer.echo("  " + tr("first canonical rows (of %(n)s):", n=r.rows_read))
            shown = r.first_rows[["region", "period", "crime_type", "indicator", "value", "source_row"]].head(rows)
            for line in shown.to_string(index=False).splitlines():
                typer.echo(f"    {line}")
        if r.categories:
            typer.echo("  " + tr("category mappings (the profile's, and what the category's words say):"))
            for c in r.categories:
                mapped = c["iccs"] or (tr("out of scope") if c["out_of_scope"] else tr("not mapped"))
                said = (c["guess"] or c["guess_out_of_scope"] or tr("not recognised"))
                conf = tr(c["confidence"]) if c["confidence"] else "-"
                words = ", ".join(c["matched"])
                line = f"    {c['category'][:48]:48} -> {mapped:12} {tr('words')}: {said} ({conf}{': ' + words if words else ''})"
                if c["doubt"]:
                    typer.secho(line + "  " + tr("CHECK"), fg="yellow")
                else:
                    typer.echo(line)
        if not r.mapping.empty:
            typer.echo("  " + tr("not mapped yet:"))
            for f in r.mapping.itertuples():
                typer.echo(f"    [{f.rule}] {f.message}")
        others = r.findings[~r.findings.index.isin(r.mapping.index)]
        for f in others.itertuples():
            where = (tr("row %(n)s", n=f.row) if f.row is not None and str(f.row) != "<NA>"
                     else tr("file"))
            typer.echo(f"  {tr(f.severity):8} {where:10} [{f.rule}] {f.message}")
        typer.secho(tr("%(message)s; rows read %(read)s, would load %(load)s. Nothing was loaded.",
                       message=r.message, read=r.rows_read, load=r.rows_to_load),
                    fg="green" if r.accepted else "red")


user_app = typer.Typer(help="Portal accounts: stewards (one country), analysts, admins.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


def _new_password(password_stdin: bool) -> str:
    from ideal.config import get_settings

    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if get_settings().new_password:
        return get_settings().new_password
    if not sys.stdin.isatty():
        raise IdealError("no password given: type it at the prompt, pipe it with "
                         "--password-stdin, or set IDEAL_NEW_PASSWORD.")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
@handled
def user_add(username: str = typer.Argument(..., help="Login name (lower case)."),
             role: str = typer.Option(..., help="steward, analyst or admin."),
             country: Optional[str] = typer.Option(None, "--country", "-c",
                                                   help="A steward's country (ISO alpha-2)."),
             language: str = typer.Option("es", help="Portal language: es, pt or en."),
             password_stdin: bool = typer.Option(False, "--password-stdin",
                                                 help="Read the password from standard input.")) -> None:
    """Add a portal account (the password is asked for, or read from --password-stdin or
    IDEAL_NEW_PASSWORD; only its argon2 hash is stored)."""
    from ideal.config import get_settings
    from ideal.store import accounts

    user = accounts.add_user(_engine(), username, _new_password(password_stdin), role, country,
                             language, get_settings().members, actor=audit_actor())
    typer.echo(f"user {user.username} added ({user.role}{' of ' + user.country if user.country else ''})")


@user_app.command("list")
@handled
def user_list() -> None:
    """The portal accounts."""
    from ideal.store import accounts

    users = accounts.list_users(_engine())
    if not users:
        typer.echo("no users yet: `ideal user add NAME --role admin`.")
    for u in users:
        typer.echo(f"{u.username:24} {u.role:8} {u.country or '--':3} {u.language} "
                   f"{'active' if u.active else 'disabled'}")


@user_app.command("token")
@handled
def user_token(username: str = typer.Argument(...),
               name: str = typer.Option("script", help="What the token is for.")) -> None:
    """Make an API token for USERNAME (printed once; keep it secret)."""
    from ideal.store import accounts

    typer.echo(accounts.make_token(_engine(), username, name, actor=audit_actor()))


@user_app.command("tokens")
@handled
def user_tokens(username: str = typer.Argument(...)) -> None:
    """List USERNAME's API tokens (id, what for, made, last used, revoked); never the token."""
    from ideal.store import accounts

    found = accounts.tokens(_engine(), username)
    if not found:
        typer.echo(f"{username} has no tokens.")
    for t in found:
        used = t["last_used"].strftime("%Y-%m-%d %H:%M") if t["last_used"] else "never used"
        typer.echo(f"{t['id']:5} {t['name']:24} made {t['created_at']:%Y-%m-%d} {used:16} "
                   f"{'revoked' if t['revoked'] else 'active'}")


@user_app.command("revoke-token")
@handled
def user_revoke_token(username: str = typer.Argument(...),
                      token_id: int = typer.Argument(..., help="The token's id (`ideal user tokens NAME`).")) -> None:
    """Revoke one API token of USERNAME; the account's other tokens keep working."""
    from ideal.store import accounts

    accounts.revoke_token(_engine(), username, token_id, actor=audit_actor())
    typer.echo(f"token {token_id} of {username} revoked.")


@user_app.command("disable")
@handled
def user_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account: it can no longer log in, its sessions end and its tokens stop working."""
    from ideal.store import accounts

    accounts.set_active(_engine(), username, False, actor=audit_actor())
    typer.echo(f"user {username} disabled; its tokens are revoked.")


@user_app.command("enable")
@handled
def user_enable(username: str = typer.Argument(...)) -> None:
    """Enable a disabled account again (its old tokens stay revoked)."""
    from ideal.store import accounts

    accounts.set_active(_engine(), username, True, actor=audit_actor())
    typer.echo(f"user {username} enabled.")


@user_app.command("email")
@handled
def user_email(username: str = typer.Argument(...),
               address: str = typer.Argument("", help="The address; empty: no more mail.")) -> None:
    """Set where USERNAME (a steward) gets the feedback of the country's submissions by mail
    (sent when IDEAL_SMTP_HOST is set)."""
    from ideal.store import accounts

    accounts.set_email(_engine(), username, address or None, actor=audit_actor())
    typer.echo(f"user {username}: feedback {'mailed to ' + address if address else 'no longer mailed'}.")


@user_app.command("role")
@handled
def user_role(username: str = typer.Argument(...),
              role: str = typer.Argument(..., help="steward, analyst or admin."),
              country: Optional[str] = typer.Option(None, help="A steward's country (ISO alpha-2).")) -> None:
    """Change what USERNAME may do; the account's open sessions end."""
    from ideal.config import get_settings
    from ideal.store import accounts

    accounts.set_role(_engine(), username, role, country, get_settings().members, actor=audit_actor())
    typer.echo(f"user {username} is now {role}{' of ' + country.upper() if country else ''}; "
               "its sessions ended.")


@user_app.command("password")
@handled
def user_password(username: str = typer.Argument(...),
                  password_stdin: bool = typer.Option(False, "--password-stdin")) -> None:
    """Set a new password for USERNAME (its open sessions end and its API tokens are revoked)."""
    from ideal.store import accounts

    accounts.set_password(_engine(), username, _new_password(password_stdin), actor=audit_actor())
    typer.echo(f"password of {username} changed; its sessions ended and its API tokens are revoked.")


def audit_actor() -> str:
    from ideal.store.audit import current_actor

    return current_actor("cli")


@app.command()
@handled
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, help="Port."),
          workers: Optional[int] = typer.Option(None, help="Server processes (default "
                                                        "IDEAL_WORKERS, else the number of cores).")) -> None:
    """Start the web portal and the JSON API (uvicorn)."""
    import uvicorn

    from ideal.config import get_settings, one_math_thread, secret_key, server_options
    from ideal.store import accounts

    one_math_thread()  # inherited by the server's processes, which import numpy afresh

    engine = _engine(initialise=True)
    secret_key()  # made once here, before the server's processes start
    workers = workers or get_settings().workers
    if not accounts.list_users(engine):
        typer.secho("no portal accounts yet: add one with `ideal user add NAME --role admin`.",
                    fg="yellow")
    typer.echo(f"IDEAL portal on http://{host}:{port}/ (API description at /api/v1), "
               f"{workers} server process{'es' if workers > 1 else ''}")
    uvicorn.run("ideal.web.server:app", host=host, port=port, workers=workers,
                log_level="info", **server_options(get_settings()))


@app.command("demo")
@handled
def demo_command() -> None:
    """Whole pipeline on generated demo submissions: init, ingest, assess, report."""
    from ideal import reference
    from ideal.pipeline import demo

    t0 = time.perf_counter()

    def say(line: str) -> None:  # each step with the time it was reached
        typer.echo(f"{line} ({time.perf_counter() - t0:.1f} s)" if line.startswith("[") else line)

    done = demo.run(say, _heard)
    acc = done.submissions.get("accepted", (0, 0))
    rej = done.submissions.get("rejected", (0, 0))
    scored = sorted(done.scores["country"].unique())
    typer.echo("")
    typer.secho(f"Briefing: {done.briefing.resolve()}", bold=True)
    typer.echo(f"Countries assessed: {len(scored)} of {len(done.countries)} ({', '.join(scored)})")
    typer.echo(f"Submissions: {acc[0]} accepted ({acc[1]} rows), {rej[0]} rejected ({rej[1]} rows); "
               f"{done.n_observations} observations stored")
    typer.echo("Top threats:")
    for r in done.top.itertuples():
        p1, p10 = getattr(r, "p_first", None), getattr(r, "p_top10", None)
        chances = (f"; first in {p1:.0%}, top 10 in {p10:.0%} of the draws"
                   if p1 is not None and p1 == p1 and p10 is not None else "")
        typer.echo(f"  {r.score:4.1f} {r.level:9} {reference.crime_name(r.crime_type, 'en'):45} "
                   f"{reference.region_name(r.region)} ({r.country}), {r.rate:.1f} per 100k recorded"
                   f"{modelled_rate(r)}{chances}")
    typer.echo(f"Done in {time.perf_counter() - t0:.1f} s.")


def modelled_rate(r) -> str:
    """' (modelled 149.0, 90 % 131.2-170.4)' beside a recorded rate (#48: the official figure is
    the headline, the model's beside it and labelled), '' without a modelled rate."""
    m = getattr(r, "rate_model", None)
    if m is None or m != m:
        return ""
    lo, hi = getattr(r, "rate_p5", None), getattr(r, "rate_p95", None)
    band = f", 90 % {lo:.1f}-{hi:.1f}" if lo is not None and lo == lo and hi is not None and hi == hi else ""
    return f" (modelled {m:.1f}{band})"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
