"""Entity resolution: what a sentence's claim is about, found in its plain text with exact offsets.

``build_vocabulary`` turns a Sweep (and optionally its FactSheet) into one precompiled trie regex of every
surface form, plus a small regex for run-id lists; ``resolve_entities`` scans a unit's text with both and
returns non-overlapping ``EntitySpan`` s (earliest first; at one start the longest wins).

Kinds and forms, each tested in ``tests/factcheck/test_entities.py``:

- ``run``: ids after a keyword ("trial_id 2", "trial 4", "trial #4", "trial_ids 2 and 4", "trials 2, 3 and
  4", "run rux19b6a", "(run: rux19b6a)", "runs a, b"): one span from the keyword to the last id, target the
  ids in order; a list stops at the first token that is not a run. A bare id only when it is distinctive
  (a letter and a digit in 3+ characters, "r00"; or a letter and ``_``/``-`` in 4+; never a number), and
  only an id the sweep has: never a bare small integer, so "2 runs", "Step 4" and "Table 1" name no run.
- ``run_group``: a display name (the ``name`` column) shared by several runs (W&B seeds), target all its
  ids; a name of one run is a ``run`` (tag ``alias``).
- ``param`` / ``metric``: the column name in any spelling that differs only by case, ``_``, ``-`` or spaces
  ("val loss" for ``val_loss``), and aliases by family ("learning rate"/"lr"/"LR"/"max_lr"/"learning_rate"/
  "init_lr", "weight decay", "batch size", "dropout", "val loss"/"validation loss", "train loss"/"training
  loss", "accuracy"/"val accuracy"). A family resolves to the first of its candidate columns the sweep has,
  params before metrics (ties: the family's candidate order), so in a W&B export with param
  ``learning_rate`` and logged metric ``lr`` both "lr" and "learning rate" mean ``learning_rate``; a
  surface that is itself a param's exact name is never taken over by a family. A metric's distinctive first
  word ("combined" for ``combined_acc``) is a ``fuzzy`` match when no other metric shares it. Statistic
  words right before a metric or ratio ("minimum", "final", "best", "initial", ...) are kept as
  ``modifiers`` (``min``, ``max``, ``final``, ``first``, ``best``).
- ``ratio``: a pair's FactSheet column ``<val>/<train>`` ("val_loss/train_loss ratio"); "val/train ratio"
  and "val-to-train ratio" mean the pair with "loss" in its name, else the only pair.
- ``state``: finished (and "completed"), crashed, failed, killed, pruned ("early stopped"), running, queued.
- ``issue``: a registry finding by its name, snake_case or spaced spelling, and aliases ("NaN loss" ->
  nan-or-inf-metric, "overfitting_suspect" -> overfitting, "crash"/"crashes" -> crashed-run, "diverged" ->
  divergence). "crashed" alone is the state; "crashed runs" is the issue.
- ``group``: a level of a categorical or bool param, as "<param>=<value>" / "<param>: <value>" / "<value>
  <param>", or the bare level (any case: "RoPE" -> ``pos_encoding=rope``) when it is a letter-bearing level
  of one varied param and not a common English word ("none", "standard", "pre"...); target (param, level).
- ``bucket``: an interval as pandas writes it (``(0.005, 0.01]``) attached to the param mention nearest to
  it in the text whose observed range it overlaps, else in ``context`` (pass the unit's section heading),
  else the one param whose range it overlaps (tag ``fuzzy``); target (param, interval text), param ``""``
  when none fits.

When two sources produce the same surface, the higher priority wins: run id > display name > ratio >
learning-rate-style family resolving to a param > exact column name > other alias > issue > state > group
> bare level > fuzzy metric word; equal-priority surfaces with different targets are dropped as ambiguous.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from reportgen.detectors.issues import ISSUE_TYPES
from reportgen.detectors.registry import REGISTRY
from reportgen.factcheck.numbers import NumberSpan, parse_numbers
from reportgen.facts import FactSheet
from reportgen.sweep import Sweep

EntityKind = Literal["run", "run_group", "param", "metric", "ratio", "state", "issue", "group", "bucket"]
MatchTag = Literal["exact", "alias", "fuzzy"]


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """One entity mentioned at ``text[start:end]``.

    ``target``: run ids (run, run_group); ``(column,)`` (param, metric, ratio); ``(state,)``; ``(finding
    name,)`` (issue); ``(param, level)`` (group); ``(param, interval text)`` (bucket, param ``""`` if
    unattached). ``interval`` is (left, right, closed) for buckets.
    """

    kind: EntityKind
    target: tuple[str, ...]
    start: int
    end: int
    text: str
    match: MatchTag
    modifiers: tuple[str, ...] = ()
    interval: tuple[float, float, str] | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: EntityKind
    target: tuple[str, ...]
    tag: MatchTag
    priority: int
    canonical: str  # the spelling that counts as exact


@dataclass(frozen=True)
class Vocabulary:
    """Everything ``resolve_entities`` matches against, compiled once per sweep."""

    entries: dict[str, _Entry]
    pattern: re.Pattern[str] | None
    run_tokens: dict[str, tuple[str, ...]]  # exact id / normalised id or name -> run ids
    param_ranges: dict[str, tuple[float, float]]
    params: frozenset[str]


# -- surface normalisation ---------------------------------------------------------------------------------

_SEP = re.compile(r"[\s_-]+")
_EQ = re.compile(r"\s*[=:]\s*")


def _norm(surface: str) -> str:
    """The lookup key: lower case, ``=``/``:`` tightened, runs of space/``_``/``-`` as one space."""
    return _SEP.sub(" ", _EQ.sub("=", surface.strip().lower())).strip()


def _trie_regex(keys: Iterable[str]) -> str:
    """One regex matching any key, longest first at each position (a trie, so cost is per character, not
    per key). A space matches any run of whitespace, ``_`` or ``-``; ``=`` matches ``=`` or ``:``."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:  # type: ignore[type-arg]
        alts = []
        for ch in sorted(k for k in node if k):
            piece = r"[\s_-]+" if ch == " " else r"\s*[=:]\s*" if ch == "=" else re.escape(ch)
            alts.append(piece + emit(node[ch]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


# -- vocabulary ------------------------------------------------------------------------------------------

# (surfaces, candidate columns in preference order). Plurals are added for multi-letter surfaces.
_FAMILIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("learning rate", "lr", "max lr", "init lr", "initial lr", "base lr", "peak lr"),
        ("lr", "learning_rate", "max_lr", "init_lr", "initial_lr", "base_lr", "peak_lr"),
    ),
    (("weight decay", "wd"), ("weight_decay", "wd", "decay")),
    (("batch size", "bs"), ("batch_size", "bs", "train_batch_size", "per_device_train_batch_size")),
    (("dropout", "dropout rate", "drop rate"), ("dropout", "dropout_rate", "drop_rate")),
    (
        ("architecture", "arch", "model architecture", "backbone"),
        ("arch", "architecture", "model_arch", "model_architecture", "backbone", "model_type"),
    ),
    (("optimizer", "optimiser"), ("optimizer", "optimiser", "optim", "opt")),
    (
        ("val loss", "validation loss", "valid loss", "eval loss"),
        ("val_loss", "val/loss", "validation_loss", "valid_loss", "eval_loss", "eval/loss", "loss_val"),
    ),
    (
        ("train loss", "training loss"),
        ("train_loss", "train/loss", "training_loss", "loss_train", "loss"),
    ),
    (
        ("accuracy", "val accuracy", "validation accuracy", "val acc"),
        (
            "val_acc",
            "val_accuracy",
            "val/acc",
            "val/accuracy",
            "valid_acc",
            "eval_accuracy",
            "accuracy",
            "acc",
        ),
    ),
)
_STATE_WORDS: dict[str, str] = {
    **dict.fromkeys(["finished", "completed", "finish"], "finished"),
    "crashed": "crashed",
    **dict.fromkeys(["failed", "fail"], "failed"),
    "killed": "killed",
    **dict.fromkeys(["pruned", "early stopped"], "pruned"),
    "running": "running",
    "queued": "queued",
}
_ISSUE_ALIASES: dict[str, tuple[str, ...]] = {
    "nan-or-inf-metric": (
        "nan or inf",
        "nan/inf",
        "nan loss",
        "nan losses",
        "nan values",
        "nan metric",
        "nan metrics",
        "non finite",
        "nonfinite",
    ),
    "overfitting": ("overfitting suspect", "overfit", "overfits", "overfitted"),
    "short-run": ("short runs", "far short", "ended short"),
    "crashed-run": ("crashed runs", "crash", "crashes"),
    "divergence": ("diverged", "diverging", "diverges"),
    "loss-spike": ("loss spikes",),
    "plateau": ("plateaus", "plateaued"),
    "metric-stuck": ("stuck metric", "stuck metrics"),
}
# Registry names whose spaced spelling is ordinary prose, not a reference to the finding.
_PROSE_NAMES = frozenset({"top-runs"})
# Categorical levels that are common words: only "<param>=<value>" forms reach them.
_COMMON_LEVELS = frozenset(
    [
        "none",
        "null",
        "nan",
        "standard",
        "pre",
        "post",
        "true",
        "false",
        "yes",
        "no",
        "default",
        "learned",
        "full",
        "auto",
        "on",
        "off",
        "high",
        "low",
        "small",
        "large",
        "base",
        "normal",
        "simple",
        "fixed",
        "same",
        "other",
        "all",
        "any",
        "linear",
        "constant",
        "mean",
        "max",
        "min",
        "sum",
    ]
)
_GENERIC_WORDS = frozenset(
    [
        "val",
        "valid",
        "validation",
        "train",
        "training",
        "test",
        "eval",
        "loss",
        "acc",
        "accuracy",
        "mean",
        "final",
        "best",
        "total",
        "step",
        "epoch",
        "iter",
        "time",
        "lr",
        "runtime",
    ]
)
_MODIFIERS: dict[str, str] = {
    **dict.fromkeys(["minimum", "min", "lowest"], "min"),
    **dict.fromkeys(["maximum", "max", "highest", "peak"], "max"),
    **dict.fromkeys(["final", "last", "end"], "final"),
    **dict.fromkeys(["initial", "first", "starting"], "first"),
    "best": "best",
}
_MODIFIER_BEFORE = re.compile(r"(?i)(?<!\w)(" + "|".join(_MODIFIERS) + r")\s+$")


def _distinctive(token: str) -> bool:
    """A bare token that can only be an id: a letter and a digit in 3+ chars ("r00"), or a letter and a
    digit/``_``/``-`` in 4+ chars, and not a number."""
    if not re.search(r"[A-Za-z]", token):
        return False
    if not (len(token) >= 3 and re.search(r"\d", token)) and not (
        len(token) >= 4 and re.search(r"[_-]", token)
    ):
        return False
    try:
        float(token)
    except ValueError:
        return True
    return False


class _Builder:
    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.ambiguous: set[str] = set()

    def add(
        self, surface: str, kind: EntityKind, target: tuple[str, ...], tag: MatchTag, priority: int
    ) -> None:
        key = _norm(surface)
        if not key:
            return
        entry = _Entry(kind, target, tag, priority, surface.lower())
        old = self.entries.get(key)
        same = old is not None and (old.kind, old.target, old.priority) == (kind, target, priority)
        if old is None or priority > old.priority or (same and tag == "exact"):
            self.entries[key] = entry
            self.ambiguous.discard(key)
        elif priority == old.priority and (old.kind, old.target) != (kind, target):
            self.ambiguous.add(key)

    def finish(self) -> dict[str, _Entry]:
        return {k: v for k, v in self.entries.items() if k not in self.ambiguous}


def _plural(surface: str) -> list[str]:
    return [surface] if surface.endswith("s") or len(surface) < 3 else [surface, surface + "s"]


def build_vocabulary(sweep: Sweep, facts: FactSheet | None = None) -> Vocabulary:
    """Every surface form of the sweep's runs, columns, states, issue types, groups and buckets."""
    b = _Builder()
    runs = sweep.runs
    ids = runs["run_id"].astype(str).tolist()
    run_tokens: dict[str, tuple[str, ...]] = {}
    for rid in ids:
        run_tokens[rid] = (rid,)
        run_tokens.setdefault(_norm(rid), (rid,))
        if _distinctive(rid):
            b.add(rid, "run", (rid,), "exact", 100)
    if "name" in runs:
        named = pd.DataFrame({"name": runs["name"], "run_id": ids}).dropna(subset=["name"])
        for name, group in named.groupby(named["name"].astype(str), sort=False):
            members = tuple(group["run_id"])
            if name in run_tokens and run_tokens[name] == (name,) and members == (name,):
                continue
            run_tokens.setdefault(_norm(name), members)
            if _distinctive(name):
                kind: EntityKind = "run_group" if len(members) > 1 else "run"
                b.add(name, kind, members, "alias", 90)

    schema = sweep.schema
    params = {p.name: p for p in schema.params}
    metrics = [m.name for m in schema.metrics]
    columns = set(params) | set(metrics)
    # ratios
    ratio_cols = [f"{p.val}/{p.train}" for p in schema.pairs]
    if facts is not None:
        ratio_cols = [c for c in ratio_cols if c in facts.runs.columns] or ratio_cols
    for pair, col in zip(schema.pairs, ratio_cols, strict=False):
        for surface in (
            col,
            f"{col} ratio",
            f"{col} ratios",
            f"{_norm(pair.val)} to {_norm(pair.train)} ratio",
        ):
            b.add(surface, "ratio", (col,), "exact" if surface == col else "alias", 80)
    if ratio_cols:
        lossy = [c for c in ratio_cols if "loss" in c.lower()]
        generic = lossy[0] if len(lossy) == 1 else ratio_cols[0] if len(ratio_cols) == 1 else None
        if generic is not None:
            for s in (
                "val/train ratio",
                "val/train loss ratio",
                "val to train ratio",
                "val to train loss ratio",
            ):
                b.add(s, "ratio", (generic,), "alias", 80)
                b.add(s + "s", "ratio", (generic,), "alias", 80)
    # exact names and spelling variants
    for name in columns:
        kind = "param" if name in params else "metric"
        b.add(name, kind, (name,), "exact", 70)
    # alias families
    exact_params = {_norm(p) for p in params}
    for surfaces, candidates in _FAMILIES:
        present = [c for c in candidates if c in params] + [c for c in candidates if c in metrics]
        if not present and "acc" in surfaces[0]:
            acc = [m for m in metrics if "acc" in m.lower()]
            present = acc if len(acc) == 1 else []
        if not present:
            continue
        target = present[0]
        kind = "param" if target in params else "metric"
        priority = 75 if kind == "param" else 60
        forms = {*surfaces, *candidates}
        for surface in forms:
            if _norm(surface) in exact_params and _norm(surface) != _norm(target):
                continue
            exact = surface == target
            b.add(surface, kind, (target,), "exact" if exact else "alias", priority)
            for s in _plural(surface)[1:]:
                b.add(s, kind, (target,), "alias", priority)
    # distinctive first word of a metric ("combined" for combined_acc)
    words: dict[str, list[str]] = {}
    for m in metrics:
        first = re.split(r"[_/.\s-]+", m.lower())[0]
        if len(first) >= 4 and first not in _GENERIC_WORDS and first != m.lower():
            words.setdefault(first, []).append(m)
    for word, ms in words.items():
        if len(ms) == 1:
            b.add(word, "metric", (ms[0],), "fuzzy", 20)
    # states
    for surface, state in _STATE_WORDS.items():
        b.add(surface, "state", (state,), "exact" if surface == state else "alias", 40)
    # issue types
    issue_names = set(ISSUE_TYPES) | set(facts.issue_names if facts is not None else ()) - {"any"}
    for spec in REGISTRY:
        if spec.name in _PROSE_NAMES:
            b.add(spec.name.replace("-", "_"), "issue", (spec.name,), "alias", 50)
            continue
        b.add(spec.name, "issue", (spec.name,), "exact", 50)
        for alias in _ISSUE_ALIASES.get(spec.name, ()):
            b.add(alias, "issue", (spec.name,), "alias", 50)
        if spec.name in issue_names:
            for s in _plural(spec.name.replace("-", " ")):
                b.add(s, "issue", (spec.name,), "alias", 50)
    # groups: levels of categorical/bool params
    bare: dict[str, list[tuple[str, str]]] = {}
    for p in schema.params:
        if p.kind not in ("categorical", "bool") or p.name not in runs:
            continue
        levels = runs[p.name].dropna().astype(str).unique().tolist()
        if "name" in runs and set(levels) <= set(runs["name"].dropna().astype(str)):
            continue  # a config copy of the run name (W&B run_name): the names are runs, not groups
        for level in levels:
            lvl = (p.name, level)
            b.add(f"{p.name}={level}", "group", lvl, "exact", 35)
            b.add(f"{level} {p.name}", "group", lvl, "alias", 35)
            wordy = re.search(r"[a-z]", level.lower()) and len(level) >= 3
            if not p.constant and wordy and level.lower() not in _COMMON_LEVELS:
                bare.setdefault(_norm(level), []).append(lvl)
    for key, targets in bare.items():
        if len(targets) == 1:
            b.add(key, "group", targets[0], "alias", 30)

    entries = b.finish()
    pattern = None
    if entries:
        keys = sorted(entries, key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(?:" + _trie_regex(keys) + r")(?!\w)", re.IGNORECASE)
    ranges = {
        p.name: (float(p.low), float(p.high))
        for p in schema.params
        if p.low is not None and p.high is not None and math.isfinite(p.low) and math.isfinite(p.high)
    }
    return Vocabulary(entries, pattern, run_tokens, ranges, frozenset(params))


# -- resolution ------------------------------------------------------------------------------------------

_TOKEN = r"#?[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?"
_LIST_SEP = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or|&)\s+", re.IGNORECASE)
_RUN_LIST = re.compile(
    rf"(?<!\w)(?:trial|run)s?(?:[ _-]?ids?)?\s*(?:[:=]\s*)?(?P<list>{_TOKEN}(?:(?:\s*,\s*(?:(?:and|or)\s+)?"
    rf"|\s+(?:and|or|&)\s+){_TOKEN})*)",
    re.IGNORECASE,
)
_TOKEN_RE = re.compile(_TOKEN)
_INTERVAL_HINT = re.compile(r"[(\[]\s*-?(?:\d|\.\d|inf)")


def _run_lists(text: str, vocab: Vocabulary) -> list[EntitySpan]:
    out = []
    search_from = 0
    while (m := _RUN_LIST.search(text, search_from)) is not None:
        # resume right after the ids that were runs: "trial 2 and trial 4" is two mentions
        search_from = m.end()
        pos = m.start("list")
        found: list[str] = []
        grouped = False
        end = pos
        limit = m.end("list")
        cur = pos
        while (tok := _TOKEN_RE.match(text, cur, limit)) is not None:
            raw = tok.group().lstrip("#")
            members = vocab.run_tokens.get(raw) or vocab.run_tokens.get(_norm(raw))
            if members is None:
                break
            grouped |= len(members) > 1
            found.extend(members)
            end = tok.end()
            sep = _LIST_SEP.match(text, end, limit)
            if sep is None:
                break
            cur = sep.end()
        if found:
            search_from = end
            kind: EntityKind = "run_group" if grouped else "run"
            out.append(EntitySpan(kind, tuple(found), m.start(), end, text[m.start() : end], "exact"))
    return out


def _buckets(text: str, vocab: Vocabulary, spans: list[EntitySpan], context: str | None) -> list[EntitySpan]:
    hints = [h.start() for h in _INTERVAL_HINT.finditer(text)]
    if not hints:
        return []
    # parse only the stretch that can hold intervals: number parsing is the costly part of resolution
    base = hints[0]
    window = parse_numbers(text[base : hints[-1] + 64])
    intervals = [
        replace(n, start=n.start + base, end=n.end + base)
        for n in window
        if n.kind == "interval" and n.high is not None
    ]
    if not intervals:
        return []
    mentions = [s for s in spans if s.kind == "param" or s.kind == "group"]
    context_params: list[str] = []
    if context:
        context_params = [s.target[0] for s in resolve_entities(context, vocab) if s.kind == "param"]
    out = []
    for n in intervals:
        lo, hi = n.value, n.high if n.high is not None else n.value

        def fits(param: str, lo: float = lo, hi: float = hi) -> bool:
            rng = vocab.param_ranges.get(param)
            return rng is None or (hi >= rng[0] and lo <= rng[1])

        def distance(s: EntitySpan, n: NumberSpan = n) -> tuple[int, bool]:
            return min(abs(s.end - n.start), abs(n.end - s.start)), s.start > n.start

        near = sorted((s for s in mentions if fits(s.target[0])), key=distance)
        tag: MatchTag = "alias"
        if near:
            param = near[0].target[0]
        elif any(fits(p) for p in context_params):
            param = next(p for p in context_params if fits(p))
        else:
            fitting = [p for p in vocab.param_ranges if fits(p) and p in vocab.params]
            param = fitting[0] if len(fitting) == 1 else ""
            tag = "fuzzy"
        out.append(
            EntitySpan(
                "bucket",
                (param, n.text),
                n.start,
                n.end,
                n.text,
                tag,
                interval=(lo, hi, n.closed or ""),
            )
        )
    return out


def resolve_entities(text: str, vocab: Vocabulary, *, context: str | None = None) -> list[EntitySpan]:
    """The entities ``text`` mentions, left to right, non-overlapping (``text[s.start:s.end] == s.text``).

    ``context`` (the unit's section heading, say) is only used to attach bucket intervals when ``text``
    names no param whose range the interval overlaps.
    """
    found = _run_lists(text, vocab)
    if vocab.pattern is not None:
        for m in vocab.pattern.finditer(text):
            surface = m.group()
            entry = vocab.entries.get(_norm(surface))
            if entry is None:
                continue
            # an exact entry met in another spelling ("val loss" for val_loss) is an alias
            tag: MatchTag = (
                "alias" if entry.tag == "exact" and surface.lower() != entry.canonical else entry.tag
            )
            mods: tuple[str, ...] = ()
            if entry.kind in ("metric", "ratio"):
                before = _MODIFIER_BEFORE.search(text, max(0, m.start() - 12), m.start())
                if before:
                    mods = (_MODIFIERS[before.group(1).lower()],)
            found.append(EntitySpan(entry.kind, entry.target, m.start(), m.end(), surface, tag, mods))
    chosen = _non_overlapping(found)
    buckets = _buckets(text, vocab, chosen, context)
    return _non_overlapping(chosen + buckets) if buckets else chosen


def _non_overlapping(spans: list[EntitySpan]) -> list[EntitySpan]:
    out: list[EntitySpan] = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not out or s.start >= out[-1].end:
            out.append(s)
    return out
