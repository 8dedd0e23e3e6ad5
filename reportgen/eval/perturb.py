"""The perturbation generator: correct claims rendered off a FactSheet, and wrong ones derived from them.

``generate(loaded, seed)`` returns one ``Case`` per sweep: a Markdown draft with one claim per paragraph (or
one row per table) and a ``Label`` per claim (line, column span, quote, expected verdict, error type, why).
The same seed and sweep give the same draft, byte for byte.

Correct claims (error type ``none``, expected ``supported``) are stated in the forms the checker documents
(``reportgen/factcheck/verify.py`` and its family modules), with numbers at the precision they are stated
at. Each wrong claim changes one thing of a correct one:

- ``wrong_value``: a per-run value (or a count) off by a factor or a few units, at the same precision;
- ``wrong_rounding``: the right value rounded wrongly by one unit of the stated precision ("5.4" for 5.333);
- ``wrong_comparator``: a strict comparison at a covered run's exact value ("above 0.01" with lr = 0.01);
- ``wrong_denominator_or_percentage``: "k of n" with the wrong n, or a share computed over the wrong base;
- ``wrong_run_or_group``: a run's value stated for another run, a group's mean for another group, a run
  listed in a table row for an issue or state it does not have;
- ``wrong_bucket``: one bucket's issue rate or size stated for another bucket of the same param;
- ``reversed_trend``: a trend with a significant direction (permutation p <= 0.005, computed here, not by
  the checker) stated the other way round;
- ``causal_n1``: "X above t leads to <issue>" where one run is above t (it has the issue): the direction
  agrees, the evidence is one run, expected ``unverifiable`` (``FCT022``); caught when not supported;
- ``wrong_state_or_step``: a stopping step off by a few steps, a finished run said to have crashed, a run
  length that is neither its step count nor its last step;
- ``wrong_ranking``: "run X had the highest lr" for a run that does not tie the extreme.

Entity surfaces (column names, run ids, issue and state names) are used only when the checker's entity
resolution reads them as what they are; the generator never looks at verdicts.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from reportgen.eval.sweeps import LoadedSweep
from reportgen.factcheck.entities import resolve_entities

Expected = Literal["supported", "contradicted", "unverifiable"]
ERROR_TYPES = (
    "wrong_value",
    "wrong_rounding",
    "wrong_comparator",
    "wrong_denominator_or_percentage",
    "wrong_run_or_group",
    "wrong_bucket",
    "reversed_trend",
    "causal_n1",
    "wrong_state_or_step",
    "wrong_ranking",
)
_QUOTE = re.compile(r"\[\[(.+?)\]\]")
# "N runs failed" reads as every run that did not finish (crashed, failed, killed): not a state's count
_STATE_VERBS = {"finished": "finished", "crashed": "crashed", "killed": "were killed"}
_STOP_VERBS = {"crashed": "crashed", "failed": "failed", "killed": "was killed", "pruned": "was pruned"}
# how many claims of each family one sweep contributes at most (per kind of claim)
PER_FAMILY = 40


@dataclass(frozen=True)
class Label:
    """One labelled claim: ``quote`` is at ``line``, columns ``column`` .. ``end_column`` (1-based, end
    exclusive), as ``reportgen check`` positions a verdict."""

    line: int
    column: int
    end_column: int
    quote: str
    expected: Expected
    error: str
    why: str
    family: str

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Case:
    """A draft checked against one bundled sweep, with its labels."""

    name: str
    sweep: str
    draft: str
    labels: tuple[Label, ...]
    source: Literal["generated", "hand-written"]


class _Doc:
    """Markdown assembled paragraph by paragraph; ``[[...]]`` in a line marks the labelled quote."""

    def __init__(self, title: str) -> None:
        self.lines = [f"# {title}", ""]
        self.labels: list[Label] = []

    def add(self, lines: list[str], labels: list[tuple[Expected, str, str, str]]) -> None:
        """Each marked quote of ``lines``, in order, gets the next (expected, error, why, family)."""
        pending = list(labels)
        for raw in lines:
            line_no = len(self.lines) + 1
            out, pos = "", 0
            for m in _QUOTE.finditer(raw):
                out += raw[pos : m.start()]
                start = len(out)
                out += m.group(1)
                expected, error, why, family = pending.pop(0)
                self.labels.append(
                    Label(line_no, start + 1, len(out) + 1, m.group(1), expected, error, why, family)
                )
                pos = m.end()
            self.lines.append(out + raw[pos:])
        assert not pending, "every label needs a marked quote"
        self.lines.append("")

    def sentence(self, text: str, expected: Expected, error: str, why: str, family: str) -> None:
        self.add([text], [(expected, error, why, family)])

    def markdown(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


# numbers -----------------------------------------------------------------------------------------------
def _decimals(value: float) -> int:
    """Decimals that state ``value`` with 3 significant digits, at least one: the checker reads a whole
    number as exact ("260" is not 260.42), so a value that is not whole is never stated as one."""
    if value == 0:
        return 2
    return max(1, min(8, 2 - math.floor(math.log10(abs(value)))))


def _fmt(value: float, decimals: int | None = None) -> str | None:
    """``value`` at 3 significant digits (an integer as an integer); None when it is not stated plainly."""
    if not math.isfinite(value) or (value != 0 and not 1e-4 <= abs(value) < 1e7):
        return None
    if decimals is None and float(value).is_integer():
        return str(int(value))
    return f"{value:.{_decimals(value) if decimals is None else decimals}f}"


def _exact(value: float) -> str | None:
    """A short exact spelling of ``value`` (params: 0.003, 128), or None when it has none."""
    if not math.isfinite(value):
        return None
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))
    text = f"{value:g}"
    if "e" in text or float(text) != value:
        return None
    return text


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _run_list(ids: list[str]) -> str:
    if len(ids) == 1:
        return f"run {ids[0]}"
    return "runs " + ", ".join(ids[:-1]) + " and " + ids[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# the sweep's surfaces -------------------------------------------------------------------------------------
class _Surfaces:
    """Which columns, runs, issues and states can be named so that the checker reads them as such."""

    def __init__(self, loaded: LoadedSweep) -> None:
        self.loaded = loaded
        self.runs = loaded.facts.runs
        vocab = loaded.vocab
        schema = loaded.sweep.schema_

        def reads_as(text: str, kind: str, target: tuple[str, ...], modifiers: tuple[str, ...] = ()) -> bool:
            spans = resolve_entities(text, vocab)
            return (
                len(spans) == 1
                and spans[0].kind == kind
                and spans[0].target[: len(target)] == target
                and (spans[0].modifiers == modifiers)
            )

        self.run_ids = [str(r) for r in self.runs.index if reads_as(f"run {r}", "run", (str(r),))]
        numeric = [c for c in self.runs.columns if pd.api.types.is_numeric_dtype(self.runs[c])]
        self.params = [
            p
            for p in schema.param_names
            if p in numeric and self.runs[p].nunique() > 1 and reads_as(f"the {p}", "param", (p,))
        ]
        self.metrics = [
            m for m in schema.metric_names if m in numeric and reads_as(f"the {m}", "metric", (m,))
        ]
        self.ratios = [
            c
            for c in numeric
            if "/" in c and not c.startswith("issue.") and reads_as(f"the {c}", "ratio", (c,))
        ]
        self.curve = [
            (m, stat, word)
            for m in self.metrics
            for stat, word in ((".min", "minimum"), (".first", "initial"))
            if m + stat in self.runs.columns
            and self.runs[m + stat].notna().any()
            and reads_as(f"the {word} {m}", "metric", (m,), (stat.strip("."),))
        ]
        self.issues = [
            c[len("issue.") :]
            for c in self.runs.columns
            if c.startswith("issue.") and c != "issue.any" and reads_as(c[len("issue.") :], "issue", (c[6:],))
        ]
        self.states = [s for s in _STATE_VERBS if (self.runs["state"] == s).any()]
        self.categoricals = [
            p
            for p in schema.param_names
            if p in self.runs.columns
            and not pd.api.types.is_numeric_dtype(self.runs[p])
            and self.runs[p].nunique() > 1
        ]

    def value(self, run: str, column: str) -> float:
        v = self.runs.at[run, column]
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.nan

    def finite(self, column: str) -> pd.Series:
        values = pd.to_numeric(self.runs.loc[self.run_ids, column], errors="coerce").astype(float)
        return values[np.isfinite(values)]


# families ---------------------------------------------------------------------------------------------
def _values(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    columns = [(c, c, "") for c in s.params + s.metrics + s.ratios]
    columns += [(m + stat, m, word + " ") for m, stat, word in s.curve]
    pairs = [(r, col, name, word) for col, name, word in columns for r in s.run_ids]
    rng.shuffle(pairs)
    templates = (
        "Run {r} had a {w}{c} of [[{v}]].",
        "The {w}{c} of run {r} was [[{v}]].",
        "For run {r}, the {w}{c} was [[{v}]].",
    )
    done = 0
    for run, col, name, word in pairs:
        if done >= PER_FAMILY:
            break
        value = s.value(run, col)
        correct = _fmt(value)
        if correct is None:
            continue
        done += 1
        t = rng.choice(templates)
        what = f"run {run}'s {word}{name} is {value!r}"

        def say(
            v: str,
            expected: Expected,
            error: str,
            why: str,
            line: str = t.format(r=run, w=word, c=name, v="{v}"),
        ) -> None:
            doc.sentence(line.format(v=v), expected, error, why, "value")

        say(correct, "supported", "none", f"{what}, stated at its precision")
        decimals = None if float(value).is_integer() else _decimals(value)
        for factor in rng.sample((0.5, 0.8, 1.25, 2.0, 3.0), 2):
            wrong = _fmt(value * factor if value != 0 else factor, decimals)
            if wrong is not None and wrong != correct:
                say(wrong, "contradicted", "wrong_value", f"{what}, stated x{factor}")
                break
        if decimals is not None and len(correct.replace("-", "").replace(".", "").lstrip("0")) <= 6:
            unit = 10.0**-decimals
            rounded = round(value, decimals)
            off = rounded - unit if value >= rounded else rounded + unit
            say(
                f"{off:.{decimals}f}",
                "contradicted",
                "wrong_rounding",
                f"{what}; {correct} at that precision",
            )
        others = [o for o in s.run_ids if o != run and _fmt(s.value(o, col), decimals) not in (None, correct)]
        if others:
            other = rng.choice(others)
            v = _fmt(s.value(other, col), decimals)
            assert v is not None
            say(
                v,
                "contradicted",
                "wrong_run_or_group",
                f"{v} is run {other}'s {word}{name}, not run {run}'s ({value!r})",
            )


def _comparisons(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    for param in s.params:
        values = s.finite(param)
        values = values[[_exact(v) is not None for v in values]]
        if len(values) < 2:
            continue
        for _ in range(min(PER_FAMILY // max(1, len(s.params)), 12)):
            runs = sorted(
                rng.sample(list(values.index), min(len(values), rng.choice((2, 3)))), key=s.run_ids.index
            )
            covered = values[runs]
            subject = _cap(_run_list(runs))
            low, high = covered.min(), covered.max()
            lo_text, hi_text = _exact(low), _exact(high)
            assert lo_text is not None and hi_text is not None
            why = f"{param} of {', '.join(runs)}: {', '.join(repr(v) for v in covered)}"
            if rng.random() < 0.5:
                op = rng.choice(("at or above", "at least"))
                doc.sentence(
                    f"{subject} had a {param} [[{op} {lo_text}]].", "supported", "none", why, "comparison"
                )
                doc.sentence(
                    f"{subject} had a {param} [[above {lo_text}]].",
                    "contradicted",
                    "wrong_comparator",
                    f"{why}; the lowest equals {lo_text}, which is not above it",
                    "comparison",
                )
            else:
                op = rng.choice(("at or below", "at most"))
                doc.sentence(
                    f"{subject} had a {param} [[{op} {hi_text}]].", "supported", "none", why, "comparison"
                )
                doc.sentence(
                    f"{subject} had a {param} [[below {hi_text}]].",
                    "contradicted",
                    "wrong_comparator",
                    f"{why}; the highest equals {hi_text}, which is not below it",
                    "comparison",
                )
            smaller = sorted(v for v in values.unique() if v < low)
            if smaller:
                t = _exact(smaller[-1])
                doc.sentence(
                    f"{subject} had a {param} [[above {t}]].", "supported", "none", why, "comparison"
                )


def _counts(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    n = len(s.runs)
    subjects: list[tuple[str, str, int]] = []  # (predicate, what, count)
    for issue in s.issues:
        k = int(s.runs[f"issue.{issue}"].fillna(False).astype(bool).sum())
        subjects.append((f"had {issue}", f"{issue} flags {k} of {n} runs", k))
    for state in s.states:
        k = int((s.runs["state"] == state).sum())
        subjects.append((_STATE_VERBS[state], f"{k} of {n} runs are {state}", k))
    for predicate, what, k in subjects:
        if k == 0:
            continue
        noun = "run" if k == 1 else "runs"
        pred = predicate.replace("were ", "was ") if k == 1 else predicate
        doc.sentence(f"[[{k}]] {noun} {pred}.", "supported", "none", what, "count")
        wrong = k + rng.choice((1, 2)) if k < 3 or rng.random() < 0.5 else k - 1
        noun_w = "run" if wrong == 1 else "runs"
        pred_w = predicate.replace("were ", "was ") if wrong == 1 else predicate
        doc.sentence(
            f"[[{wrong}]] {noun_w} {pred_w}.", "contradicted", "wrong_value", f"{what}, not {wrong}", "count"
        )
        doc.sentence(f"[[{k} of {n}]] runs {predicate}.", "supported", "none", what, "count")
        wrong_n = n + rng.choice((1, 2, -1)) if n > k + 1 else n + 1
        doc.sentence(
            f"[[{k} of {wrong_n}]] runs {predicate}.",
            "contradicted",
            "wrong_denominator_or_percentage",
            f"{what}, not of {wrong_n}",
            "count",
        )
        doc.sentence(
            f"[[{_pct(k / n)}]] of runs {predicate}.", "supported", "none", f"{what} = {k / n:.4f}", "count"
        )
        bases = [b for b in (n - 1, n + 1, n - k) if b > 0 and _pct(k / b) != _pct(k / n)]
        if bases:
            base = rng.choice(bases)
            doc.sentence(
                f"[[{_pct(k / base)}]] of runs {predicate}.",
                "contradicted",
                "wrong_denominator_or_percentage",
                f"{what} = {_pct(k / n)}; {_pct(k / base)} is {k}/{base}",
                "count",
            )


def _buckets(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    flags = s.runs["issue.any"].fillna(False).astype(bool)
    for param in s.params:
        values = s.finite(param)
        levels = sorted(v for v in values.unique() if _exact(v) is not None)
        if len(levels) < 3:
            continue
        spans = [
            (levels[i], levels[j]) for i in range(len(levels)) for j in (i + 1, i + 2) if j < len(levels)
        ]
        rng.shuffle(spans)
        buckets = []
        for lo, hi in spans[:8]:
            inside = values[(values > lo) & (values <= hi)].index
            rate = float(flags[inside].mean())
            buckets.append((f"`({_exact(lo)}, {_exact(hi)}]`", rate, len(inside), list(inside)))
        for text, rate, size, members in buckets:
            why = f"{param} in {text} holds runs {', '.join(members)}: {rate:.2f} have an issue"
            doc.sentence(
                f"Bucket {text} of {param} has an issue rate of [[{rate:.2f}]].",
                "supported",
                "none",
                why,
                "bucket",
            )
            doc.sentence(
                f"Bucket {text} of {param} holds [[{size}]] {'run' if size == 1 else 'runs'}.",
                "supported",
                "none",
                why,
                "bucket",
            )
            other = [b for b in buckets if f"{b[1]:.2f}" != f"{rate:.2f}"]
            if other:
                o = rng.choice(other)
                doc.sentence(
                    f"Bucket {text} of {param} has an issue rate of [[{o[1]:.2f}]].",
                    "contradicted",
                    "wrong_bucket",
                    f"{o[1]:.2f} is the rate of bucket {o[0]}; {why}",
                    "bucket",
                )
            sized = [b for b in buckets if b[2] != size]
            if sized:
                o = rng.choice(sized)
                doc.sentence(
                    f"Bucket {text} of {param} holds [[{o[2]}]] {'run' if o[2] == 1 else 'runs'}.",
                    "contradicted",
                    "wrong_bucket",
                    f"{o[2]} is the size of bucket {o[0]}; {why}",
                    "bucket",
                )


def _rankings(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    for col in s.params + s.metrics:
        values = s.finite(col)
        if len(values) < 3 or values.nunique() < 2:
            continue
        for word, extreme in (("highest", values.max()), ("lowest", values.min())):
            holders = [r for r in values.index if values[r] == extreme]
            others = [r for r in values.index if values[r] != extreme]
            run = rng.choice(holders)
            why = f"the {word} {col} is {extreme!r}, held by {', '.join(holders)}"
            doc.sentence(f"Run {run} had the [[{word} {col}]].", "supported", "none", why, "ranking")
            wrong = rng.choice(others)
            doc.sentence(
                f"Run {wrong} had the [[{word} {col}]].",
                "contradicted",
                "wrong_ranking",
                f"{why}; run {wrong} has {values[wrong]!r}",
                "ranking",
            )


def _steps(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    done = 0
    runs = list(s.run_ids)
    rng.shuffle(runs)
    for run in runs:
        if done >= PER_FAMILY:
            break
        state = str(s.runs.at[run, "state"])
        last, steps = s.value(run, "last_step"), s.value(run, "steps")
        if not (math.isfinite(last) and math.isfinite(steps)):
            continue
        done += 1
        why = f"run {run} is {state}, steps = {steps:g}, last_step = {last:g}"
        if state in _STOP_VERBS:
            verb = _STOP_VERBS[state]
            doc.sentence(f"Run {run} {verb} at step [[{int(last)}]].", "supported", "none", why, "step")
            wrong = int(last) + rng.choice((2, 3, 5, -2)) if last > 3 else int(last) + 3
            doc.sentence(
                f"Run {run} {verb} at step [[{wrong}]].", "contradicted", "wrong_state_or_step", why, "step"
            )
        elif state == "finished":
            doc.sentence(
                f"Run {run} crashed at step [[{int(last)}]].",
                "contradicted",
                "wrong_state_or_step",
                f"{why}: it did not crash",
                "step",
            )
            doc.sentence(f"Run {run} trained for [[{int(steps)}]] steps.", "supported", "none", why, "step")
            wrong = int(steps) + rng.choice((3, 5, 10))
            if wrong != int(last):
                doc.sentence(
                    f"Run {run} trained for [[{wrong}]] steps.",
                    "contradicted",
                    "wrong_state_or_step",
                    why,
                    "step",
                )


def _spearman_p(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, permutations: int = 2000
) -> tuple[float, float]:
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float((rx**2).sum() * (ry**2).sum()))
    if denom == 0:
        return 0.0, 1.0
    rho = float((rx * ry).sum()) / denom
    perms = np.array([float((rx * rng.permutation(ry)).sum()) / denom for _ in range(permutations)])
    p = (1 + int((np.abs(perms) >= abs(rho) - 1e-12).sum())) / (permutations + 1)
    return rho, p


def _trends(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    nrng = np.random.default_rng(rng.randrange(2**32))
    found = 0
    for param in s.params:
        x_all = s.finite(param)
        outcomes: list[tuple[str, pd.Series, bool]] = [(m, s.finite(m), False) for m in s.metrics]
        for issue in s.issues:
            flags = s.runs.loc[s.run_ids, f"issue.{issue}"].fillna(False).astype(float)
            outcomes.append((issue, flags, True))
        for name, y_all, binary in outcomes:
            common = x_all.index.intersection(y_all.index)
            if len(common) < 8 or found >= PER_FAMILY:
                continue
            y = y_all[common].to_numpy(float)
            if binary and min(int(y.sum()), int(len(y) - y.sum())) < 3:
                continue
            rho, p = _spearman_p(x_all[common].to_numpy(float), y, nrng)
            if p > 0.005 or abs(rho) < 0.4:
                continue
            found += 1
            why = (
                f"Spearman rho({param}, {name}) = {rho:.2f} over {len(common)} runs, permutation p = {p:.4f}"
            )
            up = rho > 0
            if binary:
                right, wrong = ("Higher", "Lower") if up else ("Lower", "Higher")
                text = "{d} {p} leads to {o}"
                good = text.format(d=right, p=param, o=name)
                bad = text.format(d=wrong, p=param, o=name)
            else:
                good = f"Higher {param} leads to {'higher' if up else 'lower'} {name}"
                bad = f"Higher {param} leads to {'lower' if up else 'higher'} {name}"
            doc.sentence(f"[[{good}]].", "supported", "none", why, "trend")
            doc.sentence(f"[[{bad}]].", "contradicted", "reversed_trend", why, "trend")


def _causal_n1(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    for param in s.params:
        values = s.finite(param)
        levels = sorted(v for v in values.unique() if _exact(v) is not None)
        if len(levels) < 3:
            continue
        for word, extreme, threshold in (("above", levels[-1], levels[-2]), ("below", levels[0], levels[1])):
            single = [r for r in values.index if values[r] == extreme]
            if len(single) != 1:
                continue
            run = single[0]
            rest = [r for r in values.index if r != run]
            for issue in s.issues:
                flags = s.runs[f"issue.{issue}"].fillna(False).astype(bool)
                if not flags[run] or flags[rest].all():
                    continue
                doc.sentence(
                    f"[[{_cap(param)} {word} {_exact(threshold)} leads to {issue}]].",
                    "unverifiable",
                    "causal_n1",
                    f"only run {run} has {param} {word} {_exact(threshold)}; one run does not make a cause",
                    "trend",
                )


def _membership(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    rows: list[tuple[str, list[str]]] = []
    for issue in s.issues:
        flags = s.runs[f"issue.{issue}"].fillna(False).astype(bool)
        rows.append((issue, [r for r in s.run_ids if flags[r]]))
    for state in s.states:
        rows.append((state, [r for r in s.run_ids if s.runs.at[r, "state"] == state]))
    for label, members in rows:
        outside = [r for r in s.run_ids if r not in members]
        if not members:
            continue
        shown = sorted(rng.sample(members, min(3, len(members))), key=s.run_ids.index)
        why = f"{label}: runs {', '.join(members)}"
        doc.add(
            [
                "| Issue or state | Run IDs |",
                "| --- | --- |",
                f"| {label} | " + ", ".join(f"[[{r}]]" for r in shown) + " |",
            ],
            [("supported", "none", why, "membership")] * len(shown),
        )
        if outside:
            wrong = rng.choice(outside)
            listed = [*shown[:-1], wrong] if len(shown) > 1 else [wrong]
            marks = [f"[[{r}]]" if r == wrong else r for r in listed]
            doc.add(
                ["| Issue or state | Run IDs |", "| --- | --- |", f"| {label} | " + ", ".join(marks) + " |"],
                [("contradicted", "wrong_run_or_group", f"run {wrong} is not {label}; {why}", "membership")],
            )


def _groups(s: _Surfaces, doc: _Doc, rng: random.Random) -> None:
    for param in s.categoricals:
        for metric in s.metrics:
            means = {}
            for level in sorted(s.runs[param].dropna().astype(str).unique()):
                if not resolve_entities(f"{level} runs", s.loaded.vocab):
                    continue
                ids = [r for r in s.run_ids if str(s.runs.at[r, param]) == level]
                vals = s.finite(metric).reindex(ids).dropna()
                if len(vals) >= 2:
                    means[level] = float(vals.mean())
            for level, mean in means.items():
                text = _fmt(mean, _decimals(mean))
                if text is None:
                    continue
                why = f"the mean {metric} of {level} runs is {mean!r}"
                doc.sentence(
                    f"The mean {metric} of {level} runs was [[{text}]].", "supported", "none", why, "group"
                )
                others = [(lv, m) for lv, m in means.items() if _fmt(m, _decimals(mean)) != text]
                if others:
                    lv, m = rng.choice(others)
                    wrong = _fmt(m, _decimals(mean))
                    doc.sentence(
                        f"The mean {metric} of {level} runs was [[{wrong}]].",
                        "contradicted",
                        "wrong_run_or_group",
                        f"{wrong} is the mean of {lv} runs; {why}",
                        "group",
                    )


FAMILIES = (
    _values,
    _comparisons,
    _counts,
    _buckets,
    _rankings,
    _steps,
    _trends,
    _causal_n1,
    _membership,
    _groups,
)


def generate(loaded: LoadedSweep, seed: int = 0) -> Case:
    """The generated case of one sweep: every family's correct and wrong claims, seeded."""
    rng = random.Random(f"{seed}:{loaded.name}")
    surfaces = _Surfaces(loaded)
    doc = _Doc(f"Generated claims about {loaded.name} (seed {seed})")
    for family in FAMILIES:
        family(surfaces, doc, random.Random(f"{seed}:{loaded.name}:{family.__name__}:{rng.random()}"))
    return Case(f"generated/{loaded.name}", loaded.name, doc.markdown(), tuple(doc.labels), "generated")
