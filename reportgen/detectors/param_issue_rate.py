"""HPE001 param-issue-rate: a value range of a hyperparameter where runs have issues significantly more often.

What: for every non-constant param except seeds (`configs.is_seed`: seed, data_seed, random_state, ...;
a seed is not a hyperparameter, and an issue rate that differs by seed is luck or a bug, not a range to
avoid), the runs are split into buckets and, per bucket, the number of runs,
the number and share with each issue type (the per-run findings of earlier detectors: crashed-run,
nan-or-inf-metric, divergence, overfitting, ...) and with any issue, a 95% Wilson interval for that share,
and Fisher's exact test (two-sided) of the bucket against all other runs. Buckets: the levels of
categorical and bool params; the distinct values of a numeric param when it has at most `max_levels` of
them and either every level can reach `min_bucket_runs` runs on average or there are no more values than
quantile buckets (a grid); otherwise quantile buckets (`pandas.qcut`, `duplicates="drop"`, labels written
as pandas writes them, e.g. `(0.005, 0.01]`, in the evidence `label`), as many as
`min(max_buckets, max(2, n // min_bucket_runs))` so that a bucket can reach `min_bucket_runs` runs.
Pandas rounds its labels and moves the lowest edge outward (lr from 0.0001 gets `(-0.0009, 0.0025]`), so
titles never show a label: they show an interval bucket by the smallest and largest value its runs have
(`lr in [0.004, 0.02]`, values as exported); the evidence has both, with the exact edges (`bin_low`,
`bin_high`) and the observed ones (`value_min`, `value_max`). Runs without a value form a `missing`
bucket, kept apart from a real level of that name (which then gets the label `missing (no value)`).
A bucket with fewer than `min_bucket_runs` runs is *inconclusive*: its rate is reported with its interval
but it is never called a trend. A bucket is *elevated* when its rate is above the rest's and the
Bonferroni-adjusted p-value (p times the number of tests made for that param: conclusive buckets times
issue types that occur) is below `alpha`; that gives a finding at the configured severity. The info
finding ("apparent") refutes a trend a reader would sell from a tiny bucket (the seed-000 report's 1 of 1
runs, rate 1.0). It fires for a param only when no bucket is elevated and some bucket is inconclusive
(fewer than `min_bucket_runs` runs) with, for some issue type (or any issue), at least one run with it, a
rate of at least `apparent_min_rate` and at least `apparent_ratio` times the rate of the other runs
(strictly above it). Its title names the bucket, the issue type and the counts and says the bucket is too
small to call a trend; the evidence lists every such (bucket, issue) row under `apparent`. Large buckets
never get it, however their rate compares. `issue_rate_table` computes the table for any caller-defined
issue mask.

Why it matters: "lr above 0.01 leads to NaN loss" is the most useful sentence in a sweep report when it is
true and the most misleading one when it rests on one run per bucket. The interval and the exact test let
the report say the first with numbers and refuse the second.

Thresholds: `min_bucket_runs` (default 5): buckets with fewer runs are inconclusive. `max_buckets` (default
5): most quantile buckets per numeric param. `max_levels` (default 6): most distinct values for a numeric
param to be split by value. `alpha` (default 0.05): family-wise significance level after the Bonferroni
correction. `apparent_ratio` (default 2) and `apparent_min_rate` (default 0.5): an inconclusive bucket whose
rate is at least this multiple of the rest's and at least this rate gets the info finding. `max_run_ids`
(default 200): most run ids listed in a finding (the evidence counts the rest).

Known false positives: params that are confounded by design (a grid that only tries the largest batch
size with the largest model) blame the wrong param; an issue type a param causes mechanically (short runs
for a smaller `epochs`) is real but not a pathology; quantile edges follow the sampled values, so a
bucket can straddle the value where behaviour changes and dilute the effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import is_seed, plain, value_text
from reportgen.detectors.issues import run_issues
from reportgen.detectors.stats import fisher_exact, log_factorials, wilson_interval
from reportgen.findings import Finding, Severity
from reportgen.sweep import Sweep

# The bucketing defaults, shared with interaction-risk (which buckets params the same way)
MIN_BUCKET_RUNS = 5
MAX_BUCKETS = 5
MAX_LEVELS = 6
MISSING_LABEL = "missing"


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_bucket_runs: int = Field(
        default=MIN_BUCKET_RUNS, ge=1, description="buckets with fewer runs are inconclusive"
    )
    max_buckets: int = Field(default=MAX_BUCKETS, ge=2, description="most quantile buckets per numeric param")
    max_levels: int = Field(
        default=MAX_LEVELS, ge=2, description="most distinct values to split a numeric param by"
    )
    alpha: float = Field(default=0.05, gt=0, lt=1, description="significance after Bonferroni correction")
    apparent_ratio: float = Field(
        default=2.0, gt=1, description="rate ratio of an unsupported apparent trend"
    )
    apparent_min_rate: float = Field(
        default=0.5, gt=0, le=1, description="lowest rate of an inconclusive bucket sold as a trend"
    )
    max_run_ids: int = Field(default=200, ge=1, description="most run ids listed in one finding")


@dataclass(frozen=True)
class Buckets:
    """Each run's bucket (`codes`, runs order) and one row per bucket describing it (`table`)."""

    codes: np.ndarray
    table: pd.DataFrame  # label, bucket_kind, left, right, closed, bin_low, bin_high, value, value_min, ...
    method: str  # "levels", "quantile" or "bins"


def bucketize(
    values: pd.Series,
    kind: str | None = None,
    *,
    bins: int | list[float] | None = None,
    max_buckets: int = MAX_BUCKETS,
    min_bucket_runs: int = MIN_BUCKET_RUNS,
    max_levels: int = MAX_LEVELS,
) -> Buckets | None:
    """Split runs by one param's values (see the module docstring for the rule); None when fewer than two
    buckets result. `bins`: a quantile count (qcut) or explicit right-closed edges (cut, lowest edge
    included), to reproduce a bucketing someone else chose (a report's `(0.005, 0.01]`).

    Runs without a value get their own bucket (`bucket_kind` "missing"), never merged with a level that
    reads "missing"; the table gives each bucket's `label`, its kind, its level `value` or interval
    (`left`/`right` as pandas labels it, `bin_low`/`bin_high` exact) and, for numeric params, the
    observed `value_min`/`value_max` of its runs."""
    values = values.reset_index(drop=True)
    missing = values.isna().to_numpy()
    present = values[~missing]
    numeric = kind in ("numeric", "int", None) and pd.api.types.is_numeric_dtype(present)
    if kind == "bool" or pd.api.types.is_bool_dtype(present):
        numeric = False
    n_unique = int(present.nunique())
    target = min(max_buckets, max(2, len(present) // max(min_bucket_runs, 1)))
    edges: list[float] = []
    if bins is not None and numeric:
        method = "bins"
        if isinstance(bins, int):
            cats, raw = pd.qcut(present.astype("float64"), bins, duplicates="drop", retbins=True)
        else:
            cats, raw = pd.cut(present.astype("float64"), bins, retbins=True, include_lowest=True)
        edges = [float(e) for e in raw]
    elif not numeric or (
        n_unique <= max_levels and (n_unique <= target or len(present) / max(n_unique, 1) >= min_bucket_runs)
    ):
        method, cats = "levels", None
    else:
        method = "quantile"
        cats, raw = pd.qcut(present.astype("float64"), target, duplicates="drop", retbins=True)
        edges = [float(e) for e in raw]
    rows: list[dict[str, Any]] = []
    codes = np.full(len(values), -1, dtype="int64")
    if cats is None:
        uniques = np.sort(present.unique()) if numeric else sorted(present.unique(), key=str)
        codes[~missing] = pd.Categorical(present, categories=uniques).codes
        for value in uniques:
            item = plain(value)
            rows.append({"label": str(item), "bucket_kind": "level", "value": item})
    else:
        cat = pd.Categorical(cats)
        codes[~missing] = cat.codes  # -1 for a value outside explicit bins
        for i, interval in enumerate(cat.categories):
            rows.append(
                {
                    "label": str(interval),
                    "bucket_kind": "interval",
                    "left": float(interval.left),
                    "right": float(interval.right),
                    "closed": str(interval.closed),
                    "bin_low": edges[i],
                    "bin_high": edges[i + 1],
                }
            )
    outside = (codes == -1) & ~missing
    if outside.any():
        codes[outside] = len(rows)
        rows.append({"label": "outside the bins", "bucket_kind": "outside"})
    if missing.any():
        codes[missing] = len(rows)
        taken = {row["label"] for row in rows}
        label = MISSING_LABEL if MISSING_LABEL not in taken else f"{MISSING_LABEL} (no value)"
        rows.append({"label": label, "bucket_kind": "missing"})
    table = pd.DataFrame(rows)
    for column in ("value", "left", "right", "closed", "bin_low", "bin_high"):
        if column not in table:
            table[column] = None
    if numeric:
        as_float = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        grouped = pd.Series(as_float).groupby(codes)
        table["value_min"] = grouped.min().reindex(range(len(table))).to_numpy()
        table["value_max"] = grouped.max().reindex(range(len(table))).to_numpy()
    table = table[np.bincount(codes, minlength=len(table)) > 0] if bins is None else table
    if len(table) < 2:
        return None
    return Buckets(codes=codes, table=table, method=method)


def bucket_options(t: Thresholds | None = None) -> dict[str, int]:
    """`bucketize`'s keyword arguments from HPE001's thresholds (its defaults when `t` is None)."""
    t = t or Thresholds()
    return {"max_buckets": t.max_buckets, "min_bucket_runs": t.min_bucket_runs, "max_levels": t.max_levels}


def bucket_text(param: str, row: pd.Series | dict[str, Any]) -> str:
    """A bucket for a title, with values that are in the data: `lr=0.001` for a level, `lr in [0.004,
    0.02]` (the smallest and largest value its runs have, as exported) for an interval, never pandas'
    rounded label with its outward-moved lowest edge."""
    kind = row["bucket_kind"]
    if kind == "level":
        return f"{param}={value_text(row['value'])}"
    if kind == "missing":
        return f"{param} missing"
    if kind == "outside":
        return f"{param} outside the bins"
    low, high = row.get("value_min"), row.get("value_max")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{param} in bucket {row['label']}"
    if low == high:
        return f"{param}={value_text(low)}"
    return f"{param} in [{value_text(low)}, {value_text(high)}]"


def issue_rate_table(
    values: pd.Series,
    issue: pd.Series | pd.DataFrame,
    *,
    kind: str | None = None,
    bins: int | list[float] | None = None,
    max_buckets: int = MAX_BUCKETS,
    min_bucket_runs: int = MIN_BUCKET_RUNS,
    max_levels: int = MAX_LEVELS,
    alpha: float = 0.05,
) -> pd.DataFrame | None:
    """Issue rates per bucket of `values` for each bool column of `issue` (a Series is one column),
    aligned by position. One row per (bucket, issue): the bucket description (see `bucketize`), `n`,
    `issue`, `k`, `rate`, Wilson `ci_low`/`ci_high`, `rest_n`, `rest_k`, `rest_rate`, two-sided Fisher
    `p_value`, Bonferroni `p_adjusted`, `conclusive` (n >= min_bucket_runs) and `status`: inconclusive,
    elevated, lower or no-difference. None when the runs fall into fewer than two buckets."""
    frame = issue.to_frame(issue.name or "issue") if isinstance(issue, pd.Series) else issue
    buckets = bucketize(
        values,
        kind,
        bins=bins,
        max_buckets=max_buckets,
        min_bucket_runs=min_bucket_runs,
        max_levels=max_levels,
    )
    return (
        None if buckets is None else rate_table(buckets, frame, min_bucket_runs=min_bucket_runs, alpha=alpha)
    )


def rate_table(buckets: Buckets, frame: pd.DataFrame, *, min_bucket_runs: int, alpha: float) -> pd.DataFrame:
    """`issue_rate_table` for runs already bucketed; `code` is each row's bucket code."""
    flags = frame.to_numpy(dtype=bool)
    size = int(buckets.codes.max()) + 1
    n_all = np.bincount(buckets.codes, minlength=size)
    desc = buckets.table
    lf = log_factorials(len(flags))  # once for every bucket and issue type
    parts = []
    for j, name in enumerate(frame.columns):
        k_all = np.bincount(buckets.codes, weights=flags[:, j], minlength=size).astype("int64")
        n, k = n_all[desc.index], k_all[desc.index]
        total_n, total_k = len(flags), int(flags[:, j].sum())
        low, high = wilson_interval(k, n)
        part = desc.assign(
            code=desc.index,
            method=buckets.method,
            n=n,
            issue=str(name),
            k=k,
            rate=k / np.maximum(n, 1),
            ci_low=low,
            ci_high=high,
            rest_n=total_n - n,
            rest_k=total_k - k,
        )
        part["rest_rate"] = np.where(
            part["rest_n"] > 0, part["rest_k"] / np.maximum(part["rest_n"], 1), np.nan
        )
        part["p_value"] = [
            fisher_exact(int(a), int(b - a), int(c), int(d - c), lf)
            for a, b, c, d in zip(k, n, part["rest_k"], part["rest_n"], strict=True)
        ]
        part["column_total"] = total_k
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table["conclusive"] = table["n"] >= min_bucket_runs
    tested = table["conclusive"] & (table["column_total"] > 0) & (table["rest_n"] > 0)
    n_tests = int(tested.sum())
    table["p_adjusted"] = np.where(tested, np.minimum(1.0, table["p_value"] * max(n_tests, 1)), np.nan)
    significant = tested & (table["p_adjusted"] < alpha)
    table["status"] = np.select(
        [~table["conclusive"], significant & (table["rate"] > table["rest_rate"]), significant],
        ["inconclusive", "elevated", "lower"],
        "no-difference",
    )
    table.attrs["n_tests"] = n_tests
    return table.drop(columns="column_total")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    issues = run_issues(sweep, ctx.prior)
    if not len(issues) or not issues["any"].any():
        return []
    columns = [c for c in issues.columns if c == "any" or issues[c].any()]
    run_ids = issues.index.to_numpy()
    findings = []
    for spec in sweep.schema.params:
        if spec.constant or spec.name not in sweep.runs or is_seed(spec.name):
            continue  # a seed is not a hyperparameter
        values = sweep.runs[spec.name].reset_index(drop=True)
        buckets = bucketize(values, spec.kind, **bucket_options(t))
        if buckets is None:
            continue
        table = rate_table(buckets, issues[columns], min_bucket_runs=t.min_bucket_runs, alpha=t.alpha)
        finding = _finding(ctx, t, spec.name, spec.kind, table, buckets, issues[columns], run_ids)
        if finding is not None:
            findings.append(finding)
    return findings


def _finding(
    ctx: Context,
    t: Thresholds,
    param: str,
    kind: str,
    table: pd.DataFrame,
    buckets: Buckets,
    issues: pd.DataFrame,
    run_ids: np.ndarray,
) -> Finding | None:
    # ties (a bucket whose issues are all of one type) name the issue type before "any"
    table = table.assign(_is_any=table["issue"] == "any")
    order = ["p_value", "label", "_is_any"]
    elevated = table[table["status"] == "elevated"].sort_values(order, kind="stable")
    rest = table["rest_rate"].fillna(np.inf)
    apparent = table[
        ~table["conclusive"]
        & (table["k"] > 0)
        & (table["rate"] >= t.apparent_min_rate)
        & (table["rate"] > rest)
        & (table["rate"] >= t.apparent_ratio * rest)
    ].sort_values(order, kind="stable")
    if elevated.empty and apparent.empty:
        return None
    inconclusive = sorted(set(table.loc[~table["conclusive"], "label"]), key=list(table["label"]).index)
    flagged = elevated if len(elevated) else apparent
    if len(elevated):
        in_flagged = np.isin(buckets.codes, flagged["code"].to_numpy())
    else:  # the runs an unsupported trend rests on: those with that issue in that bucket
        in_flagged = np.zeros(len(buckets.codes), dtype=bool)
        for code, issue in zip(flagged["code"], flagged["issue"], strict=True):
            in_flagged |= (buckets.codes == code) & issues[issue].to_numpy()
    chosen = [str(r) for r in run_ids[in_flagged]]
    evidence: dict[str, Any] = {
        "param": param,
        "param_kind": kind,
        "bucketing": str(table["method"].iloc[0]),
        "n_runs": len(buckets.codes),
        "issue_types": [c for c in issues.columns if c != "any"],
        "min_bucket_runs": t.min_bucket_runs,
        "alpha": t.alpha,
        "n_tests": int(table.attrs.get("n_tests", 0)),
        "buckets": _bucket_records(table),
        ("flagged" if len(elevated) else "apparent"): [_row(r) for _, r in flagged.iterrows()],
        "inconclusive_buckets": inconclusive,
        "n_run_ids_omitted": max(0, len(chosen) - t.max_run_ids),
    }
    top = flagged.iloc[0]
    where = bucket_text(param, top)
    what = "any issue" if top["issue"] == "any" else str(top["issue"])
    if len(elevated):
        more = elevated["label"].nunique() - 1
        title = (
            f"{where}: {int(top['k'])} of {int(top['n'])} runs have {what} vs "
            f"{int(top['rest_k'])} of {int(top['rest_n'])} other runs"
            + (f" (+{more} more bucket{'s' if more != 1 else ''})" if more else "")
        )
        severity: Severity | None = None
    else:
        title = (
            f"{param}: no bucket's issue rate differs significantly from the rest; "
            f"{where} ({int(top['k'])} of {int(top['n'])} runs have {what} vs "
            f"{int(top['rest_k'])} of {int(top['rest_n'])} other runs) has under {t.min_bucket_runs} runs, "
            "too few to call a trend"
        )
        severity = "info"
    return ctx.finding(
        title=title, run_ids=chosen[: t.max_run_ids], evidence=evidence, key=param, severity=severity
    )


_BUCKET_FIELDS = (
    "label",
    "bucket_kind",
    "value",
    "left",
    "right",
    "closed",
    "bin_low",
    "bin_high",
    "value_min",
    "value_max",
)
_ISSUE_FIELDS = ("k", "rate", "ci_low", "ci_high", "rest_n", "rest_k", "rest_rate", "p_value", "p_adjusted")


def _bucket_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table as one record per bucket with its numbers per issue type (raw, unrounded)."""
    records = []
    for _, rows in table.groupby("code", sort=False):  # by code: labels of distinct buckets may match
        first = rows.iloc[0]
        record = {f: _described(first.get(f)) for f in _BUCKET_FIELDS if f in first}
        record["label"] = str(first["label"])
        record["n"] = int(first["n"])
        record["conclusive"] = bool(first["conclusive"])
        record["issues"] = {
            str(r["issue"]): {**{f: plain(r[f]) for f in _ISSUE_FIELDS}, "status": str(r["status"])}
            for _, r in rows.iterrows()
        }
        records.append(record)
    return records


def _row(r: pd.Series) -> dict[str, Any]:
    out = {k: _described(r.get(k)) for k in _BUCKET_FIELDS}
    out.update({k: plain(r[k]) for k in ("issue", "n", *_ISSUE_FIELDS, "status")})
    return out


def _described(value: Any) -> Any:
    """A bucket description field; NaN there means the field does not apply (a level has no edges, the
    missing bucket no value), so it is absent: None."""
    return None if isinstance(value, float | np.floating) and np.isnan(value) else plain(value)
