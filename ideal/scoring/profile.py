"""Methodology profiles: YAML files, checked on load, hashed and stored with each run."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path

from ideal.errors import AssessmentError, ConfigError, UnsafeInput
from ideal.safe_load import yaml_file

PROFILES = files("ideal.scoring") / "profiles"
REQUIRED = {"name": str, "version": int, "indicator_preference": list, "rate_per": (int, float),
            "national_totals": str, "sub_annual": str, "pillars": dict, "outliers": dict,
            "normalisation": dict, "missing": dict, "aggregation": dict, "bands": list,
            "reliability": dict, "uncertainty": dict, "top_threats": int}
PILLARS = ("magnitude", "trend", "harm", "spread")
METHODS = {"normalisation": ("minmax", "zscore", "rank"), "aggregation": ("arithmetic", "geometric"),
           "imputation": ("carry_forward", "none")}


def installed() -> list[str]:
    """The methodology profiles shipped with IDEAL, by name (what a request may name)."""
    return sorted(f.name.removesuffix(".yaml") for f in PROFILES.iterdir() if f.name.endswith(".yaml"))


def check_name(name: str) -> None:
    """A request from the portal, the API or Airflow names an installed methodology profile,
    never a path (only `ideal assess` on the server's command line may give a YAML file)."""
    names = installed()
    if (name or "").strip() not in names:
        raise AssessmentError(f"profile: one of the installed methodology profiles "
                              f"({', '.join(names)}), by name.")


def load_profile(name_or_path: str = "default") -> dict:
    path = Path(name_or_path)
    source = path if path.suffix in (".yaml", ".yml") else PROFILES / f"{name_or_path}.yaml"
    try:
        profile = yaml_file(source, f"methodology profile {source.name}")
    except UnsafeInput as exc:
        raise ConfigError(str(exc)) from None
    except FileNotFoundError as exc:
        raise ConfigError(f"methodology profile {name_or_path!r} not found; shipped profiles are "
                          "in ideal/scoring/profiles/ (e.g. 'default').") from exc
    check_profile(profile, str(name_or_path))
    return profile


def _bad(where: str, key: str, why: str) -> ConfigError:
    return ConfigError(f"profile {where}: key '{key}' {why}.")


def _number(profile: dict, path: str, where: str, low: float | None = None,
            high: float | None = None) -> float:
    node = profile
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"profile {where}: missing key '{path}'.")
        node = node[part]
    if not isinstance(node, (int, float)) or isinstance(node, bool):
        raise _bad(where, path, "must be a number")
    if (low is not None and node < low) or (high is not None and node > high):
        raise _bad(where, path, f"must be between {low} and {high}")
    return node


def check_profile(profile: dict, where: str) -> None:
    """Validate a profile; the error names the bad key."""
    if not isinstance(profile, dict):
        raise ConfigError(f"profile {where}: the file must be a YAML mapping.")
    for key, kind in REQUIRED.items():
        if key not in profile:
            raise ConfigError(f"profile {where}: missing key '{key}'.")
        if not isinstance(profile[key], kind):
            raise _bad(where, key, f"has the wrong type ({type(profile[key]).__name__})")
    for p in PILLARS:
        _number(profile, f"pillars.{p}.weight", where, 0, 1)
    if abs(sum(profile["pillars"][p]["weight"] for p in PILLARS) - 1) > 1e-6:
        raise _bad(where, "pillars", "weights must add up to 1")
    _number(profile, "pillars.trend.window_years", where, 1, 20)
    _number(profile, "pillars.spread.region_threshold", where, 0, 10)
    if profile["normalisation"].get("method") not in METHODS["normalisation"]:
        raise _bad(where, "normalisation.method", f"must be one of {', '.join(METHODS['normalisation'])}")
    if profile["aggregation"].get("method") not in METHODS["aggregation"]:
        raise _bad(where, "aggregation.method", f"must be one of {', '.join(METHODS['aggregation'])}")
    scale = profile["normalisation"].get("goalposts_scale", "linear")
    if scale not in ("linear", "log"):
        raise _bad(where, "normalisation.goalposts_scale", "must be linear or log")
    goals = dict(profile["normalisation"].get("goalposts") or {})
    if "seizures_goalpost" not in profile["normalisation"]:
        raise ConfigError(f"profile {where}: missing key 'normalisation.seizures_goalpost'.")
    goals["seizures_goalpost"] = profile["normalisation"]["seizures_goalpost"]
    for code, goal in goals.items():
        key = "normalisation." + ("seizures_goalpost" if code == "seizures_goalpost" else f"goalposts.{code}")
        number = isinstance(goal, (int, float)) and not isinstance(goal, bool)
        pair = (isinstance(goal, list) and len(goal) == 2
                and all(isinstance(g, (int, float)) and not isinstance(g, bool) for g in goal))
        if number and goal <= 0:
            raise _bad(where, key, "must be a positive number")
        if not number and not (pair and 0 <= goal[0] < goal[1]):
            raise _bad(where, key, "must be a positive number or [low, high] with low < high")
        if pair and scale == "log" and goal[0] <= 0:
            raise _bad(where, key, "needs a low goalpost above 0 on a log scale")
    tg = profile["normalisation"].get("trend_goalposts")
    if not (isinstance(tg, list) and len(tg) == 2 and tg[0] < tg[1]):
        raise _bad(where, "normalisation.trend_goalposts", "must be [low, high] with low < high")
    _number(profile, "missing.coverage_threshold", where, 0, 1)
    _number(profile, "missing.carry_forward_years", where, 0, 10)
    for key in ("skewness", "kurtosis", "max_winsorised"):
        _number(profile, f"outliers.{key}", where, 0)
    if profile["outliers"].get("method", "auto") not in ("auto", "log", "none"):
        raise _bad(where, "outliers.method", "must be auto, log or none")
    for ind, direction in (profile["normalisation"].get("direction") or {}).items():
        if direction not in ("positive", "negative"):
            raise _bad(where, f"normalisation.direction.{ind}", "must be positive or negative")
    for key in ("coverage", "age", "estimated", "warnings"):
        _number(profile, f"reliability.{key}", where, 0, 1)
    if "population" in profile["reliability"]:
        _number(profile, "reliability.population", where, 0, 1)
    if "harm" in profile:
        if profile["harm"].get("mode") not in ("scale", "additive"):
            raise _bad(where, "harm.mode", "must be scale or additive")
        _number(profile, "harm.floor", where, 0, 1)
    if "partial_year" in profile:
        spec = profile["partial_year"]
        if "annualise_from_months" in spec:
            _number(profile, "partial_year.annualise_from_months", where, 1, 12)
        if spec.get("method", "annualise") not in ("annualise", "nowcast"):
            raise _bad(where, "partial_year.method", "must be annualise or nowcast")
        for key, low, high in (("nowcast_from_months", 1, 11), ("history_years", 1, 20),
                               ("min_history_years", 1, 20), ("interval", 0.5, 0.99)):
            if key in spec:
                _number(profile, f"partial_year.{key}", where, low, high)
    for method, q in (profile.get("population_quality") or {}).items():
        if not isinstance(q, (int, float)) or not 0 <= q <= 1:
            raise _bad(where, f"population_quality.{method}", "must be a number from 0 to 1")
    _number(profile, "uncertainty.draws", where, 1, 100000)
    _number(profile, "uncertainty.seed", where, 0)
    _number(profile, "uncertainty.weight_spread", where, 0, 0.99)
    unc = profile["uncertainty"]
    if "data_variants" in unc:
        _number(profile, "uncertainty.data_variants", where, 0, 200)
    for key, low, high in (("goalpost_spread", 0, 0.9), ("harm_spread", 0, 9)):
        if key in unc:
            _number(profile, f"uncertainty.{key}", where, low, high)
    for key, low, high in (("trend_windows", 1, 20), ("spread_thresholds", 0, 10)):
        values = unc.get(key, [1])
        if not (isinstance(values, list) and values and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and low <= v <= high for v in values)):
            raise _bad(where, f"uncertainty.{key}", f"must be a list of numbers from {low} to {high}")
    if not isinstance(unc.get("resample_counts", False), bool):
        raise _bad(where, "uncertainty.resample_counts", "must be true or false")
    for key, allowed in METHODS.items():
        values = profile["uncertainty"].get(key)
        if not values or any(v not in allowed for v in values):
            raise _bad(where, f"uncertainty.{key}", f"must list some of {', '.join(allowed)}")
    # v5 (#48): the model's options, the WHERE track and the priorities from the markets
    smoothing = profile.get("smoothing") or {}
    if smoothing.get("region_prior", "paule_mandel") not in ("paule_mandel", "chung"):
        raise _bad(where, "smoothing.region_prior", "must be chung or paule_mandel")
    if "min_regions" in smoothing:
        _number(profile, "smoothing.min_regions", where, 2, 100)
    for key in ("country_year", "joint_draws"):
        if not isinstance(smoothing.get(key, False), bool):
            raise _bad(where, f"smoothing.{key}", "must be true or false")
    if "where" in profile:
        _number(profile, "where.k", where, 0.01, 100)
        for key in ("hotspot", "rising"):
            if key in profile["where"]:
                _number(profile, f"where.{key}", where, 0.5, 0.999)
        ends = profile["where"].get("k_range", [1, 1])
        if not (isinstance(ends, list) and len(ends) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in ends) and ends[0] <= ends[1]):
            raise _bad(where, "where.k_range", "must be [low, high] with 0 < low <= high")
    if "priorities" in profile:
        if profile["priorities"].get("basis") not in ("markets", "score"):
            raise _bad(where, "priorities.basis", "must be markets or score")
        for key, low, high in (("min_members", 1, 50), ("p_top3", 0, 1), ("most", 1, 15)):
            if key in profile["priorities"]:
                _number(profile, f"priorities.{key}", where, low, high)
    ew = profile.get("early_warning") or {}
    if ew.get("dispersion", "empirical_bayes") not in ("empirical_bayes", "plugin"):
        raise _bad(where, "early_warning.dispersion", "must be empirical_bayes or plugin")
    if profile["national_totals"] not in ("only_without_regions", "never", "always"):
        raise _bad(where, "national_totals", "must be only_without_regions, never or always")
    if profile["sub_annual"] not in ("sum", "ignore"):
        raise _bad(where, "sub_annual", "must be sum or ignore")
    maxima = [b.get("max") for b in profile["bands"]]
    if not maxima or any(not isinstance(m, (int, float)) for m in maxima) or maxima != sorted(maxima):
        raise _bad(where, "bands", "need increasing numeric 'max' values")
    if maxima[-1] < profile["normalisation"]["scale"][1]:
        raise _bad(where, "bands", "the last band must reach the top of the scale")


def profile_hash(profile: dict) -> str:
    return hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
