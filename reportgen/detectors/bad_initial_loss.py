"""CRV006 bad-initial-loss: the first logged cross-entropy loss is far from log(num_classes).

What: when the sweep's number of classes is known (`schema.num_classes`: a num_classes-like config
column, or vocab_size for a language model), every cross-entropy-like loss curve (a "min" history
metric named loss, nll, cross_entropy, xent or ce; not mse, mae, huber, kl, auxiliary or
regularization terms) is checked at its first finite logged value. A freshly initialised classifier
predicts close to uniform probabilities, so its cross-entropy starts at ln(num_classes): 2.30 for 10
classes, 4.17 for a 65-character vocabulary. Per run: the first step and value, the expected value and
their ratio; runs are flagged when the ratio is at least `max_ratio` or at most 1/`max_ratio`. One
finding per direction and metric (key `<metric>:above` or `<metric>:below`): runs that started too high
and runs that started too low have different causes.

Why it matters: this is step 1 of the practitioner's checklist. An initial loss far above ln(C) means
over-confident random logits (weight init too large, a missing final-layer scaling, logits multiplied
twice) which slows or destabilises the start of training; far below it means the loss is not what it
claims to be (labels leaking into the inputs, a loss averaged over padding, a different number of
classes than configured) or the first value was logged long after training started.

Thresholds: `max_ratio` (default 1.5): the first loss at least 1.5 times ln(C), or at most ln(C)/1.5,
is far from it. A sane initialisation lands within a few percent (the nanoGPT ablation starts at 4.09
to 4.44 against 4.17, ratio 0.98 to 1.07; its post-LN arm at 5.48 to 5.60, ratio up to 1.34, is
unusual but trains well), while initialisation bugs are off by a factor of two or more. `max_runs`
(default 200): per-run records listed in the evidence, the runs furthest from ln(C) first; `n_runs`,
`n_runs_listed` and `n_runs_not_listed` keep the counts exact and `run_ids` lists every flagged run.

Known false positives: losses that are not a plain cross-entropy over num_classes (label smoothing,
multi-label binary cross-entropy, losses summed rather than averaged over tokens, knowledge
distillation); a first point logged after an epoch or more of training; pretrained models (fine-tuning
starts well below ln(C), which is expected).
"""

from __future__ import annotations

import math
import re

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import curve_table, listed, loss_metrics, max_runs_field, plural
from reportgen.findings import Finding
from reportgen.sweep import Sweep

_SEP = r"[/_.\-\s]"
_CE = re.compile(rf"(loss|nll|cross{_SEP}?entropy|xent|(^|{_SEP})ce({_SEP}|$))", re.IGNORECASE)
# name tokens (split on / _ . - and spaces) of losses that are not a categorical cross-entropy
_NOT_CE_TOKENS = frozenset(
    [
        "mse",
        "mae",
        "rmse",
        "l1",
        "l2",
        "huber",
        "smoothl1",
        "kl",
        "kld",
        "aux",
        "reg",
        "regularization",
        "z",
        "contrastive",
        "triplet",
        "vq",
        "commit",
        "box",
        "bbox",
        "giou",
        "iou",
        "dice",
        "focal",
        "ctc",
        "perplexity",
        "ppl",
        "bce",
        "binary",
        "bpc",
        "value",
        "policy",
        "reward",
    ]
)
_NOT_CE_PREFIXES = ("recon", "regulari", "distill", "kd")


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_ratio: float = Field(default=1.5, gt=1, description="first loss over ln(num_classes), either way")
    max_runs: int = max_runs_field()


def is_cross_entropy_name(name: str) -> bool:
    """A loss name that is plausibly a categorical cross-entropy."""
    tokens = re.split(_SEP, name.lower())
    return (
        bool(_CE.search(name))
        and not _NOT_CE_TOKENS.intersection(tokens)
        and not any(tok.startswith(_NOT_CE_PREFIXES) for tok in tokens)
    )


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    num_classes = sweep.schema.num_classes
    if num_classes is None or num_classes < 2:
        return []
    expected = math.log(num_classes)
    findings = []
    for metric in loss_metrics(sweep, ctx.cache):
        if not is_cross_entropy_name(metric):
            continue
        table = curve_table(sweep, metric, ctx.cache)
        if table.empty:
            continue
        c = table[["first_step", "first"]]
        c = c.assign(expected=expected, ratio=c["first"] / expected)
        above = c[(c["ratio"] >= t.max_ratio).to_numpy()]
        below = c[(c["ratio"] <= 1 / t.max_ratio).to_numpy()]
        for direction, far, severity in (("above", above, above["ratio"]), ("below", below, -below["ratio"])):
            if far.empty:
                continue
            run_ids = far.index.tolist()
            evidence = {
                "metric": metric,
                "direction": direction,
                "num_classes": num_classes,
                "num_classes_source": sweep.schema.num_classes_source,
                "expected": expected,
                "n_runs": len(run_ids),
                "n_runs_with_metric": len(c),
                "n_above": len(above),
                "n_below": len(below),
                "median_first": float(np.median(far["first"])),
                **listed(far, severity, t.max_runs),
            }
            title = (
                f"{metric} started far {direction} ln(num_classes) in {len(run_ids)} of "
                f"{plural(len(c), 'run')}"
            )
            key = f"{metric}:{direction}"
            findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=key))
    return findings
