"""Methodology profiles: YAML files, checked on load, hashed and stored with each run."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path

import yaml

from ideal.errors import ConfigError

PROFILES = files("ideal.scoring") / "profiles"
REQUIRED = {"name": str, "version": int, "indicator_preference": list, "rate_per": (int, float),
            "national_totals": str, "sub_annual": str, "normalisation": dict, "bands": list,
            "top_threats": int}


def load_profile(name_or_path: str = "default") -> dict:
    path = Path(name_or_path)
    source = path if path.suffix in (".yaml", ".yml") else PROFILES / f"{name_or_path}.yaml"
    try:
        with source.open("r", encoding="utf-8") as fh:
            profile = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"methodology profile {name_or_path!r} not found; shipped profiles are "
                          "in ideal/scoring/profiles/ (e.g. 'default').") from exc
    check_profile(profile, str(name_or_path))
    return profile


def check_profile(profile: dict, where: str) -> None:
    if not isinstance(profile, dict):
        raise ConfigError(f"profile {where}: the file must be a YAML mapping.")
    for key, kind in REQUIRED.items():
        if key not in profile:
            raise ConfigError(f"profile {where}: missing key '{key}'.")
        if not isinstance(profile[key], kind):
            raise ConfigError(f"profile {where}: key '{key}' has the wrong type "
                              f"({type(profile[key]).__name__}).")
    if profile["normalisation"].get("method") != "minmax":
        raise ConfigError(f"profile {where}: normalisation.method must be 'minmax'.")
    if profile["national_totals"] not in ("only_without_regions", "never", "always"):
        raise ConfigError(f"profile {where}: national_totals must be only_without_regions, "
                          "never or always.")
    if profile["sub_annual"] not in ("sum", "ignore"):
        raise ConfigError(f"profile {where}: sub_annual must be sum or ignore.")
    maxima = [b.get("max") for b in profile["bands"]]
    if not maxima or any(not isinstance(m, (int, float)) for m in maxima) or maxima != sorted(maxima):
        raise ConfigError(f"profile {where}: bands need increasing numeric 'max' values.")
    if maxima[-1] < profile["normalisation"]["scale"][1]:
        raise ConfigError(f"profile {where}: the last band must reach the top of the scale.")


def profile_hash(profile: dict) -> str:
    return hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
