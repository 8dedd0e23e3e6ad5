"""The Sweep's history table: a loader's long history keyed by run_id, typed, sorted and deduplicated.

Everything here works on integer codes (one Python step per distinct run key, none per row), because a
history has millions of rows and only thousands of runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.sweep import empty_history


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 for missing) and the distinct values as strings, without a per-row loop."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(dtype=np.int64), [str(c) for c in series.cat.categories]
    codes, uniques = pd.factorize(series)
    return codes.astype(np.int64), [str(u) for u in uniques]


def keyed_history(
    history: pd.DataFrame | None, lookup: dict[str, str], run_ids: np.ndarray, warnings: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """(history keyed by run_id, distinct steps per run, last step per run).

    `lookup` maps the keys the history uses (the export's id, a unique name, a composite key) to run ids;
    rows of unknown runs are left out with a warning, rows repeating a (run, metric, step) keep the last.
    Rows are sorted by run (in runs-table order), metric (alphabetical) and step.
    """
    if history is None or history.empty:
        return empty_history(), None, None
    key_codes, key_values = _codes(history["run_key"])
    position = {rid: i for i, rid in enumerate(run_ids)}
    target = np.array([position.get(lookup.get(k, ""), -1) for k in key_values] + [-1], dtype=np.int64)
    run_codes = target[key_codes]  # code -1 (missing key) picks the trailing -1
    unknown = [k for k, t in zip(key_values, target[:-1], strict=True) if t < 0]
    if unknown:
        warnings.append(
            f"history rows of {len(unknown)} run(s) match no run in the runs table "
            f"(first: {unknown[0]!r}); left out"
        )
    metric_codes, metric_values = _codes(history["metric"])
    names = sorted(set(metric_values))
    rank = np.array([names.index(m) for m in metric_values] + [-1], dtype=np.int64)
    metric_codes = rank[metric_codes]
    step = pd.to_numeric(history["step"], errors="coerce").to_numpy(dtype="float64")
    value = pd.to_numeric(history["value"], errors="coerce").to_numpy(dtype="float64")
    keep = (run_codes >= 0) & (metric_codes >= 0) & ~np.isnan(step)
    run_codes, metric_codes, step, value = run_codes[keep], metric_codes[keep], step[keep], value[keep]
    order = np.lexsort((step, metric_codes, run_codes))  # stable: equal keys keep file order
    run_codes, metric_codes, step, value = run_codes[order], metric_codes[order], step[order], value[order]
    repeat = np.zeros(len(step), dtype=bool)
    repeat[:-1] = (
        (run_codes[1:] == run_codes[:-1]) & (metric_codes[1:] == metric_codes[:-1]) & (step[1:] == step[:-1])
    )
    if repeat.any():
        warnings.append(
            f"{int(repeat.sum())} history rows repeat a (run, metric, step); the last one is kept"
        )
        run_codes, metric_codes, step, value = (a[~repeat] for a in (run_codes, metric_codes, step, value))
    out = pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(run_codes, categories=list(run_ids)),
            "step": step,
            "metric": pd.Categorical.from_codes(metric_codes, categories=names),
            "value": value,
        }
    )
    pairs = pd.DataFrame({"run": run_codes, "step": step}).drop_duplicates()
    n_runs = len(run_ids)
    steps = np.bincount(pairs["run"].to_numpy(), minlength=n_runs).astype("float64")
    steps[steps == 0] = np.nan
    last = np.full(n_runs, np.nan)
    if len(step):
        last_by_run = pd.Series(step).groupby(run_codes).max()
        last[last_by_run.index.to_numpy()] = last_by_run.to_numpy()
    return out, steps, last
