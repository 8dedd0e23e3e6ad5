"""Schema inference: which column is the run id, which are parameters and which metrics, their types and
scales, the objective, train/val pairs, num_classes and the history's step axis.

Every rule here only fills what the format and the user's flags left open; each decision is recorded in
the schema (`source`) so `reportgen inspect` can show it and a flag can override it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from reportgen.sweep import Direction, Distribution, MetricPair, Objective, ParamKind, ParamSpec, Source

ID_CANDIDATES = ("run_id", "id", "trial_id", "trial", "number", "run", "run_name", "Name", "name")
STEP_AXES = (
    "step",
    "_step",
    "Step",
    "epoch",
    "iteration",
    "training_iteration",
    "iter",
    "global_step",
    "trainer/global_step",
)

_SPLIT = r"(?:train|training|trn|val|valid|validation|eval|dev|test)"
# a split prefix or suffix with a separator ("val_loss", "train/acc", "loss_train") marks a metric
_METRIC_SPLIT = re.compile(rf"^{_SPLIT}[/_.\-]|[/_.\-]{_SPLIT}$", re.IGNORECASE)
_METRIC_WORDS = re.compile(
    r"(loss|acc|accuracy|error|err|f1|auc|roc|precision|recall|mse|rmse|mae|mape|r2|score|perplexity|ppl|"
    r"bleu|rouge|reward|return|iou|dice|wer|cer|nll|likelihood|throughput|objective|value|values_\d+|"
    r"runtime|duration|time|sec|secs|seconds|memory|mem|grad_norm|gradnorm)",
    re.IGNORECASE,
)
_PARAM_WORDS = re.compile(
    r"(^|[_./])(lr|learning_rate|batch|decay|dropout|seed|momentum|beta\d?|eps|epsilon|warmup|layers?|"
    r"n_\w+|num_\w+|hidden|dim|units|width|depth|heads?|optimi[sz]er|optim|activation|act|scheduler|"
    r"schedule|init|max_\w+|min_\w+|size|type|kernel|stride|alpha|lambda|gamma|temperature|clip|epochs|"
    r"patience|arch|architecture|model|embd|embed|block|bias|norm|encoding|residual|penalty|c|k|"
    r"gamma|degree|depth|estimators|leaf|leaves|split|features|subsample|colsample|criterion|kernel)"
    r"($|[_./])",
    re.IGNORECASE,
)
# Columns that describe the run, not the experiment. Matched on the whole lower-cased name.
_META = re.compile(
    r"^(url|path|artifact_uri|artifact_location|notes?|tags?|user|username|host|hostname|git\w*|commit|"
    r"_timestamp|timestamp|_wandb|wandb_\w+|datetime_\w+|start_time|end_time|created|created_at|"
    r"updated_at|heartbeat_at|experiment_id|experiment|lifecycle_stage|sweep|group|job_type|"
    r"system_attrs_\w+|date|logdir|trial_dir|pid|node_ip|hostname|done|sample generation)$",
    re.IGNORECASE,
)
_MIN_WORDS = re.compile(
    r"(loss|error|err|mse|rmse|mae|mape|perplexity|ppl|nll|wer|cer|time|runtime|duration|regret)",
    re.IGNORECASE,
)
_MAX_WORDS = re.compile(
    r"(acc|accuracy|f1|auc|score|reward|return|precision|recall|bleu|rouge|iou|dice|r2|map|mrr|ndcg)",
    re.IGNORECASE,
)
_NUM_CLASSES = ("num_classes", "n_classes", "nclasses", "classes", "num_labels", "n_labels", "n_class")


def pick_id_column(df: pd.DataFrame, preferred: str | None, name_column: str | None = None) -> str | None:
    """The run id column: the format's choice, else the first unique candidate, else the format's display
    name column (W&B names repeat across seeds), else the first candidate."""
    if preferred is not None and preferred in df.columns:
        return preferred
    present = [c for c in ID_CANDIDATES if c in df.columns]
    for col in present:
        if df[col].notna().all() and _is_unique(df[col]):
            return col
    if name_column is not None and name_column in df.columns:
        return name_column
    return present[0] if present else None


def _is_unique(col: pd.Series) -> bool:
    try:
        return bool(col.is_unique)
    except TypeError:  # JSON lists or dicts in the cells: not ids
        return False


def pick_step_axis(columns: Iterable[str], preferred: str | None = None) -> str | None:
    """The history's step column: the user's flag, else the first of STEP_AXES present."""
    cols = list(columns)
    if preferred is not None:
        return preferred if preferred in cols else None
    return next((c for c in STEP_AXES if c in cols), None)


def is_meta(name: str) -> bool:
    """A column describing the run (url, host, timestamps...) rather than a parameter or metric."""
    return bool(_META.match(name.strip()))


# "eval_interval", "val_check_interval", "test_size": split-prefixed settings, not metrics
_SPLIT_SETTING = re.compile(
    r"(interval|iters|steps|freq|frequency|every|size|split|ratio|fraction|batches)$", re.IGNORECASE
)


_PROGRESS = re.compile(
    r"^(epochs?|steps?|iters?|iterations?|global_step)_(done|completed|trained|run|ran|reached)$"
    r"|^(steps|num_steps_done|completed_epochs|epochs_completed)$",
    re.IGNORECASE,
)


def is_progress(name: str) -> bool:
    """A runs-table column counting how far a run got (`epoch`, `_step`, `epochs_done`), not a setting:
    the planned `epochs`/`max_iters` are parameters, the reached `epoch`/`epochs_done` are progress."""
    return name in STEP_AXES or bool(_PROGRESS.match(name))


def looks_like_metric(name: str) -> bool:
    """The name alone says metric: progress (`epochs_done`), a train/val/test split marker, a '/'
    namespace, or a metric word."""
    if is_progress(name):
        return True
    if _METRIC_SPLIT.search(name) and _SPLIT_SETTING.search(name):
        return False
    if _METRIC_SPLIT.search(name) or "/" in name:
        return True
    return bool(_METRIC_WORDS.search(name)) and not _PARAM_WORDS.search(name)


def looks_like_param(name: str) -> bool:
    """The name alone says hyperparameter (lr, batch_size, dropout, n_layers, optimizer...)."""
    if is_progress(name):
        return False
    if _METRIC_SPLIT.search(name):
        return bool(_SPLIT_SETTING.search(name))
    return bool(_PARAM_WORDS.search(name))


def split_roles(df: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Columns with no stated role, split into (params, metrics) by name, then by their values.

    By values: text and booleans are parameters; numbers repeating across runs (few distinct values) are
    parameters, continuous ones (almost all distinct, not integers) are metrics. Known false positives: a
    continuously sampled parameter with an unfamiliar name reads as a metric; use --params to say so.
    """
    params: list[str] = []
    metrics: list[str] = []
    for col in columns:
        if looks_like_metric(col):
            metrics.append(col)
        elif looks_like_param(col):
            params.append(col)
        else:
            (metrics if _continuous(df[col]) else params).append(col)
    return params, metrics


def _continuous(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    values = series.dropna()
    if len(values) < 6:
        return False
    integral = bool(np.all(np.mod(values.to_numpy(dtype="float64")[np.isfinite(values)], 1) == 0))
    return values.nunique() >= 0.8 * len(values) and not integral


def param_spec(series: pd.Series, name: str, source: Source, declared: Distribution | None) -> ParamSpec:
    """Type, observed range and scale of one parameter column."""
    values = series.dropna()
    n_unique = int(values.nunique())
    kind: ParamKind
    if pd.api.types.is_bool_dtype(series.dtype):
        kind = "bool"
    elif pd.api.types.is_numeric_dtype(series.dtype):
        arr = values.to_numpy(dtype="float64")
        finite = arr[np.isfinite(arr)]
        kind = "int" if finite.size and np.all(finite == np.round(finite)) else "numeric"
    else:
        kind = "categorical"
    low = high = None
    log_scale = False
    if kind in ("int", "numeric") and n_unique:
        arr = values.to_numpy(dtype="float64")
        arr = arr[np.isfinite(arr)]
        if arr.size:
            low, high = float(arr.min()), float(arr.max())
            log_scale = _log_scaled(name, np.unique(arr), declared)
    return ParamSpec(
        name=name,
        kind=kind,
        log_scale=log_scale,
        n_unique=n_unique,
        low=low,
        high=high,
        constant=n_unique <= 1,
        source=source,
        declared=declared,
    )


def _log_scaled(name: str, distinct: np.ndarray, declared: Distribution | None) -> bool:
    """A positive parameter spanning two decades or more is log-scale (its natural axis is log10).

    The declared distribution decides when it says `log`; otherwise the span decides, so a learning rate
    searched uniformly over 1e-5..1e-1 is still log-scale here (the search-space detectors compare the two).
    """
    if declared is not None and declared.log is not None:
        return declared.log
    if distinct.size < 2 or distinct.min() <= 0 or re.search(r"id$", name, re.IGNORECASE):
        return False
    decades = np.log10(distinct.max()) - np.log10(distinct.min())  # a ratio would overflow near 1e-308
    # powers of two (batch sizes, widths) are searched on a log2 grid even over one decade
    powers_of_two = bool(np.all(np.log2(distinct) == np.round(np.log2(distinct))))
    return bool(decades >= 2 or (powers_of_two and distinct.size >= 3 and decades >= np.log10(8)))


def metric_goal(name: str) -> Direction | None:
    """'min' or 'max' when the metric's name says which way is better."""
    if _MIN_WORDS.search(name):
        return "min"
    if _MAX_WORDS.search(name):
        return "max"
    return None


def infer_objective(
    metrics: Sequence[str], stated: tuple[str, Direction] | None, stated_source: Source
) -> Objective | None:
    """The objective: as stated (flag/format), else validation loss, else validation accuracy/score,
    else any loss, else the single metric with a known direction."""
    if stated is not None:
        return Objective(metric=stated[0], direction=stated[1], source=stated_source)
    ranked = sorted(metrics, key=_objective_rank)
    for name in ranked:
        goal = metric_goal(name)
        if goal is not None and _objective_rank(name) < 9:
            return Objective(metric=name, direction=goal, source="inferred")
    return None


def _objective_rank(name: str) -> int:
    lower = name.lower()
    is_val = bool(re.search(r"(^|[/_.\-])(val|valid|validation|eval|dev)([/_.\-]|$)", lower))
    is_test = bool(re.search(r"(^|[/_.\-])test([/_.\-]|$)", lower))
    is_train = bool(re.search(r"(^|[/_.\-])(train|training)([/_.\-]|$)", lower))
    if lower in ("value", "objective"):
        return 0
    if is_val and "loss" in lower:
        return 1
    if is_val and metric_goal(lower) is not None:
        return 2
    if is_test and metric_goal(lower) is not None:
        return 3
    if "loss" in lower and not is_train and "step" not in lower:
        return 4
    if metric_goal(lower) == "max" and not is_train:
        return 5
    if "loss" in lower and "step" not in lower:
        return 6  # only training curves were exported (a W&B chart of train/loss)
    return 9


_SPLIT_FORMS = re.compile(
    rf"^(?P<pre>{_SPLIT})(?P<sep>[/_.\-])(?P<base>.+)$|^(?P<base2>.+?)(?P<sep2>[/_.\-])(?P<post>{_SPLIT})$",
    re.IGNORECASE,
)
_TRAIN = {"train", "training", "trn"}
_VAL_ORDER = ("val", "valid", "validation", "eval", "dev", "test")


def infer_pairs(metrics: Sequence[str]) -> list[MetricPair]:
    """Train metrics matched with their validation counterpart.

    Recognised: `train_loss`/`val_loss`, `train/loss`/`val/loss`, `loss`/`val_loss` (Keras), and suffix
    forms `score_train`/`score_valid`. Validation beats test when both exist.
    """
    train: dict[str, str] = {}
    val: dict[str, tuple[int, str]] = {}
    for name in metrics:
        m = _SPLIT_FORMS.match(name)
        if not m:
            train.setdefault(name.lower(), name)  # bare "loss": the train side in Keras naming
            continue
        split = (m.group("pre") or m.group("post")).lower()
        base = (m.group("base") or m.group("base2")).lower()
        if split in _TRAIN:
            train[base] = name
        else:
            rank = _VAL_ORDER.index(split) if split in _VAL_ORDER else len(_VAL_ORDER)
            if base not in val or rank < val[base][0]:
                val[base] = (rank, name)
    return [
        MetricPair(train=train[b], val=val[b][1]) for b in sorted(val) if b in train and train[b] != val[b][1]
    ]


def infer_num_classes(runs: pd.DataFrame, params: Sequence[str]) -> tuple[int | None, str | None]:
    """num_classes from a constant config column named like it (vocab_size for language models)."""
    names = {p.lower(): p for p in params}
    for candidate in (*_NUM_CLASSES, "vocab_size"):
        col = names.get(candidate)
        if col is None:
            continue
        values = pd.to_numeric(runs[col], errors="coerce").dropna().unique()
        if len(values) == 1 and values[0] >= 2 and float(values[0]).is_integer():
            return int(values[0]), col
    return None, None
