"""Great Expectations as IDEAL uses it: a pool of validators (a context each, used by one
validation at a time), the suites built from the YAML entries, and the verdicts of rules on
values kept by what they depend on. Nothing here is shared between two validations in a way
one could change under the other."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections import OrderedDict
from contextlib import contextmanager

import pandas as pd

from ideal.config import quiet_third_parties

quiet_third_parties()


def resolve(kwargs: dict, params: dict) -> dict:
    return {k: params[v[1:]] if isinstance(v, str) and v.startswith("$") else v
            for k, v in kwargs.items()}


class Validator:
    """One Great Expectations context with its pandas batch definition, and the suites built
    in it. GX keeps the data of the batch being validated in the context's execution engine,
    so a context serves one validation at a time: concurrent submissions each check one out
    of the pool (:func:`checked_out`), and a verdict never depends on what else is being
    validated."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas("submissions").add_dataframe_asset("observations")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        self._suites: OrderedDict[tuple[str, str], object] = OrderedDict()

    def suite(self, entries: list[dict], params: dict):
        """The suite for these entries and parameters, built once per distinct pair in this
        context (building it is a good part of the time of validating a small file)."""
        key = (json.dumps(entries, sort_keys=True), json.dumps(params, sort_keys=True))
        found = self._suites.get(key)
        if found is None:
            found = self._suites[key] = _build_suite(entries, params)
            while len(self._suites) > SUITES_KEPT:
                self._suites.popitem(last=False)
        self._suites.move_to_end(key)
        return found

    def validate(self, frame: pd.DataFrame, entries: list[dict], params: dict, result_format: dict):
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(self.suite(entries, params), result_format=result_format)


SUITES_KEPT = 64
_idle: list[Validator] = []  # validators not in use, most recently returned last
_idle_lock = threading.Lock()


@contextmanager
def checked_out():
    """A validator for this validation alone: an idle one, or a new one when all are busy
    (so there are as many as validations ever ran at once)."""
    with _idle_lock:
        validator = _idle.pop() if _idle else None
    if validator is None:
        validator = Validator()
    try:
        yield validator
    finally:
        with _idle_lock:
            _idle.append(validator)


def _build_suite(entries: list[dict], params: dict):
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suite = ExpectationSuite(name="ideal")
    for entry in entries:
        # add_expectation keeps two rules on the same column apart (the *_configuration
        # upsert would merge them by domain)
        suite.add_expectation(ExpectationConfiguration(
            type=entry["type"], kwargs=resolve(entry["kwargs"], params),
            meta={"rule": entry["rule"]}).to_domain_obj())
    return suite


def rule_key(entry: dict, params: dict) -> str:
    """What a rule's verdict on one value depends on besides the value: the expectation and
    the values of its parameters."""
    text = json.dumps([entry["type"], resolve(entry["kwargs"], params)], sort_keys=True, default=str)
    return sys.intern(hashlib.sha256(text.encode()).hexdigest()[:32])


def value_key(value) -> str:
    return json.dumps(value.item() if hasattr(value, "item") else value, default=str)


class Verdicts:
    """Whether a value fails a rule, kept by what that depends on (the rule with its
    parameters, and the value): a pure function of its inputs, so sharing it between
    validations, in any thread, cannot make one verdict depend on another submission. A file
    of a steward's usual regions, crime types and periods then costs Great Expectations only
    the values it has not judged before. Verdicts on the reported numbers are not kept: they
    differ in almost every file."""

    def __init__(self, size: int = 50_000) -> None:
        self._kept: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def known(self, rule: str, values: list[str]) -> dict[str, bool]:
        with self._lock:
            out = {}
            for v in values:
                found = self._kept.get((rule, v))
                if found is not None:
                    out[v] = found
                    self._kept.move_to_end((rule, v))
            return out

    def put(self, rule: str, verdicts: dict[str, bool]) -> None:
        with self._lock:
            for v, fails in verdicts.items():
                self._kept[(rule, v)] = fails
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


VERDICTS = Verdicts()
