"""Small exact statistics for the hyperparameter-effect detectors, in numpy (scipy is not a dependency).

- `wilson_interval`: the Wilson score interval for a binomial rate. Chosen over Clopper-Pearson because it
  needs no beta quantiles and, unlike the normal (Wald) interval, stays inside [0, 1] and is not a
  zero-width point at 0 of n or n of n: 1 of 1 gives (0.2065, 1.0), which says "we know nothing" honestly.
- `fisher_exact`: Fisher's exact test on a 2x2 table, two-sided, summing every table of the hypergeometric
  distribution at most as likely as the observed one (scipy's definition, with its 1e-7 relative
  tolerance for ties). Log-factorials come from one cumulative sum (`log_factorials`, kept and grown
  only when a larger size is asked for, so a detector testing many buckets or cells of one sweep builds
  it once), so a test over 60,000 runs costs a vector operation, not a loop.
- `hypergeom_sf`: the upper tail P(X >= x) of the hypergeometric distribution (draws without
  replacement), from the same log-factorials: the chance that `x` or more of the best `draws` runs fall
  among `successes` marked runs out of `population` when the ranking ignores the mark.
- `spearman_statistic` / `eta_squared_statistic` / `permutation_p_values`: Spearman correlation
  (Pearson on average ranks: ties share their mean rank, the usual tie correction) and eta-squared of ranks
  across levels (equal to the Kruskal-Wallis H divided by N - 1, ties included), with a seeded permutation
  p-value so the same data give the same numbers every time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959963984540054  # the 97.5% standard normal quantile


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (NaN where n == 0)."""
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # at k == 0 and k == n the exact bound is 0 or 1; rounding must not move it
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    return low, high


_LOG_FACTORIALS = np.zeros(1)  # log(i!) for i in 0..len - 1, read-only, grown on demand


def log_factorials(n: int) -> np.ndarray:
    """log(i!) for i in 0..n (a read-only view of one shared array: built once for the largest n asked
    for, so repeated tests on the same sweep do not rebuild it)."""
    global _LOG_FACTORIALS
    n = int(n)
    if n < 0:
        raise ValueError("log-factorials of a negative count")
    if len(_LOG_FACTORIALS) <= n:
        size = max(n + 1, 2 * len(_LOG_FACTORIALS))
        grown = np.zeros(size)
        grown[1:] = np.cumsum(np.log(np.arange(1, size, dtype="float64")))
        grown.setflags(write=False)
        _LOG_FACTORIALS = grown
    return _LOG_FACTORIALS[: n + 1]


def _table_log_factorials(total: int, lf: np.ndarray | None) -> np.ndarray:
    """`lf` when it reaches `total` (a caller's precomputed array), else the shared one."""
    return lf if lf is not None and len(lf) > total else log_factorials(total)


def fisher_exact(a: int, b: int, c: int, d: int, lf: np.ndarray | None = None) -> float:
    """Two-sided Fisher exact p-value for the table [[a, b], [c, d]].

    Rows are "in the bucket" / "the rest", columns "has the issue" / "has not". The p-value is the
    probability, with the margins fixed, of a table at most as likely as the observed one. `lf`:
    log-factorials from `log_factorials(n)` with n >= a + b + c + d, computed once by a caller testing
    many tables (the shared array otherwise).
    """
    a, b, c, d = (int(v) for v in (a, b, c, d))
    if min(a, b, c, d) < 0:
        raise ValueError("a 2x2 table holds counts >= 0")
    n_row, n_col, total = a + b, a + c, a + b + c + d
    lo, hi = max(0, n_row + n_col - total), min(n_row, n_col)
    if lo == hi:
        return 1.0
    lf = _table_log_factorials(total, lf)
    # the top-left cell of a table with fixed margins is hypergeometric: n_row draws, n_col marked
    log_pmf = _hypergeom_log_pmf(np.arange(lo, hi + 1), total, n_col, n_row, lf)
    observed = log_pmf[a - lo]
    as_extreme = log_pmf <= observed + math.log1p(1e-7)
    return float(min(1.0, np.exp(log_pmf[as_extreme]).sum()))


def hypergeom_sf(x: int, population: int, successes: int, draws: int, lf: np.ndarray | None = None) -> float:
    """P(X >= x) for X ~ Hypergeometric: `draws` taken without replacement from `population` items of
    which `successes` are marked (scipy's `hypergeom.sf(x - 1, population, successes, draws)`)."""
    population, successes, draws, x = int(population), int(successes), int(draws), int(x)
    if not 0 <= successes <= population or not 0 <= draws <= population:
        raise ValueError("a hypergeometric needs 0 <= successes, draws <= population")
    lo, hi = max(0, draws + successes - population), min(draws, successes)
    if x <= lo:
        return 1.0
    if x > hi:
        return 0.0
    lf = _table_log_factorials(population, lf)
    log_pmf = _hypergeom_log_pmf(np.arange(x, hi + 1), population, successes, draws, lf)
    return float(min(1.0, np.exp(log_pmf).sum()))


def _hypergeom_log_pmf(
    k: np.ndarray, population: int, successes: int, draws: int, lf: np.ndarray
) -> np.ndarray:
    """log P(X = k) for X ~ Hypergeometric(population, successes, draws), from log-factorials `lf`."""
    return (
        lf[successes]
        - lf[k]
        - lf[successes - k]
        + lf[population - successes]
        - lf[draws - k]
        - lf[population - successes - draws + k]
        - (lf[population] - lf[draws] - lf[population - draws])
    )


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (pandas `rank(method="average")`)."""
    return pd.Series(values).rank(method="average").to_numpy(dtype="float64")


def spearman_statistic(
    y_ranks: np.ndarray, x: np.ndarray
) -> tuple[float, Callable[[np.ndarray], np.ndarray]]:
    """Spearman's rho of x with y (given as ranks), and |rho| for rows of permuted centred y ranks."""
    yc = y_ranks - y_ranks.mean()
    xr = average_ranks(x)
    xc = xr - xr.mean()
    norm = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if norm == 0.0:
        return math.nan, lambda perms: np.zeros(len(perms))
    return float(yc @ xc) / norm, lambda perms: np.abs(perms @ xc) / norm


def eta_squared_statistic(
    y_ranks: np.ndarray, levels: np.ndarray
) -> tuple[float, Callable[[np.ndarray], np.ndarray]]:
    """Eta-squared of y ranks across the levels of a param (= Kruskal-Wallis H / (N - 1), ties
    included), and the same statistic for rows of permuted centred y ranks."""
    yc = y_ranks - y_ranks.mean()
    sst = float(yc @ yc)
    codes = pd.factorize(pd.Series(levels), use_na_sentinel=False)[0]
    counts = np.bincount(codes).astype("float64")
    if sst == 0.0 or len(counts) < 2:
        return math.nan, lambda perms: np.zeros(len(perms))
    onehot = np.zeros((len(codes), len(counts)))
    onehot[np.arange(len(codes)), codes] = 1.0

    def stat(perms: np.ndarray) -> np.ndarray:
        sums = perms @ onehot  # centred ranks: the between-level sum of squares is sum(s^2 / n_k)
        result: np.ndarray = (sums * sums / counts).sum(axis=-1) / sst
        return result

    return float(stat(yc[None, :])[0]), stat


def permutation_p_values(
    y_ranks: np.ndarray,
    statistics: dict[Any, tuple[float, Callable[[np.ndarray], np.ndarray]]],
    n_permutations: int,
    seed: int = 0,
) -> dict[Any, float]:
    """Permutation p-values for several statistics of the same y, sharing one set of permutations.

    p = (1 + #permutations whose statistic >= |observed|) / (1 + n_permutations), so it is never below
    1 / (1 + n_permutations). Permutations come from a generator seeded with `seed` (same data, same
    p-values) and are drawn in chunks so memory stays bounded on 60,000 runs.
    """
    n = len(y_ranks)
    yc = y_ranks - y_ranks.mean()
    exceed = dict.fromkeys(statistics, 0)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_permutations, 1_000_000 // max(n, 1)))
    done = 0
    while done < n_permutations:
        size = min(chunk, n_permutations - done)
        perms = np.tile(yc, (size, 1))
        rng.permuted(perms, axis=1, out=perms)  # in place: the same shuffle without a copy of the chunk
        for name, (observed, stat) in statistics.items():
            if not math.isnan(observed):
                exceed[name] += int((stat(perms) >= abs(observed) - 1e-12).sum())
        done += size
    return {
        name: math.nan if math.isnan(obs) else (1 + exceed[name]) / (1 + n_permutations)
        for name, (obs, _) in statistics.items()
    }
