"""Entity resolution against the seed-000 fixture and report, and the W&B nanoGPT ablation export."""

from __future__ import annotations

import itertools
import time

import pandas as pd
import pytest

from reportgen.detectors.run import run_detectors
from reportgen.factcheck.entities import EntitySpan, Vocabulary, build_vocabulary, resolve_entities
from reportgen.facts import build_factsheet
from reportgen.io.load import LoadOptions, load_sweep
from reportgen.sweep import Sweep
from tests.conftest import FIXTURES, REALDATA


@pytest.fixture(scope="module")
def seed000() -> Sweep:
    folder = FIXTURES / "seed000"
    return load_sweep(folder / "runs.csv", LoadOptions(history=folder / "history.csv"))


@pytest.fixture(scope="module")
def vocab(seed000: Sweep) -> Vocabulary:
    return build_vocabulary(seed000, build_factsheet(seed000, run_detectors(seed000)))


@pytest.fixture(scope="module")
def wandb() -> Vocabulary:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    return build_vocabulary(load_sweep(REALDATA / "wandb-nanogpt-ablation" / "wandb_export.csv"))


def kinds(spans: list[EntitySpan]) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.kind, s.target) for s in spans]


def check_offsets(text: str, spans: list[EntitySpan]) -> None:
    for s in spans:
        assert text[s.start : s.end] == s.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_run_and_learning_rate(vocab: Vocabulary) -> None:
    text = "For example, trial_id 2 had a learning rate of 0.01."
    spans = resolve_entities(text, vocab)
    check_offsets(text, spans)
    assert kinds(spans) == [("run", ("2",)), ("param", ("lr",))]
    assert spans[0].text == "trial_id 2"
    assert spans[1].match == "alias"


def test_run_weight_decay_and_ratio(vocab: Vocabulary) -> None:
    text = (
        "Specifically, trial_id 3 had a weight decay of 0.0 and an extremely high "
        "val_loss/train_loss ratio of 5.33"
    )
    spans = resolve_entities(text, vocab)
    check_offsets(text, spans)
    assert kinds(spans) == [
        ("run", ("3",)),
        ("param", ("weight_decay",)),
        ("ratio", ("val_loss/train_loss",)),
    ]


def test_buckets_attach_to_the_section_param(vocab: Vocabulary) -> None:
    text = "Specifically, buckets (0.01, 0.02] and (0.005, 0.01] have issue rates of 1.0."
    section = "Learning Rate above 0.01 Frequently Leads to NaN Loss"
    spans = [s for s in resolve_entities(text, vocab, context=section) if s.kind == "bucket"]
    check_offsets(text, spans)
    assert [s.target for s in spans] == [("lr", "(0.01, 0.02]"), ("lr", "(0.005, 0.01]")]
    assert spans[0].interval == (0.01, 0.02, "right")


def test_buckets_attach_to_the_nearest_param_whose_range_fits(vocab: Vocabulary) -> None:
    text = "In the 'batch_size' correlation, buckets (7.999, 16.0] and (16.0, 32.0] have issue rates of 0.5."
    assert [s.target[0] for s in resolve_entities(text, vocab) if s.kind == "bucket"] == ["batch_size"] * 2
    # no param in the text or context: the one param whose range the interval overlaps
    assert resolve_entities("bucket (64.0, 128.0] had none", vocab)[0].target == (
        "batch_size",
        "(64.0, 128.0]",
    )


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("nan_or_inf_metric", "nan-or-inf-metric"),
        ("a NaN loss", "nan-or-inf-metric"),
        ("nan-or-inf-metric", "nan-or-inf-metric"),
        ("overfitting_suspect", "overfitting"),
        ("short_run", "short-run"),
        ("two crashes", "crashed-run"),
        ("it diverged", "divergence"),
    ],
)
def test_issue_types(vocab: Vocabulary, text: str, target: str) -> None:
    assert kinds(resolve_entities(text, vocab)) == [("issue", (target,))]


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        ("it crashed", "state", "crashed"),
        ("runs that completed", "state", "finished"),
        ("the LR", "param", "lr"),
        ("max_lr", "param", "lr"),
        ("batch sizes", "param", "batch_size"),
        ("validation loss", "metric", "val_loss"),
        ("training loss", "metric", "train_loss"),
        ("the val/train ratio", "ratio", "val_loss/train_loss"),
    ],
)
def test_states_and_aliases(vocab: Vocabulary, text: str, kind: str, target: str) -> None:
    assert kinds(resolve_entities(text, vocab)) == [(kind, (target,))]


def test_exact_and_modifiers(vocab: Vocabulary) -> None:
    spans = resolve_entities("the minimum val_loss and the final validation loss", vocab)
    assert [(s.match, s.modifiers) for s in spans] == [("exact", ("min",)), ("alias", ("final",))]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("trial 4 crashed", ("4",)),
        ("trial #4", ("4",)),
        ("trial_ids 2 and 4", ("2", "4")),
        ("trials 2, 3 and 4 diverged", ("2", "3", "4")),
        ("Trial IDs: 5, 6", ("5", "6")),
        ("runs 1 and the rest", ("1",)),
    ],
)
def test_run_lists(vocab: Vocabulary, text: str, ids: tuple[str, ...]) -> None:
    spans = resolve_entities(text, vocab)
    check_offsets(text, spans)
    assert spans[0].kind == "run" and spans[0].target == ids


@pytest.mark.parametrize(
    "text", ["GPT-2", "Step 4", "2 runs", "Table 1", "The Adam optimizer on CIFAR", "trial 99"]
)
def test_no_run_entities(vocab: Vocabulary, text: str) -> None:
    assert resolve_entities(text, vocab) == []


def test_wandb_groups_levels_and_metrics(wandb: Vocabulary) -> None:
    text = "F2_context_512 beat RoPE on val loss, while the learning rate and lr stayed fixed."
    spans = resolve_entities(text, wandb)
    check_offsets(text, spans)
    assert spans[0].kind == "run_group"
    assert sorted(spans[0].target) == [f"F2_context_512-seed{s}" for s in ("2026", "3242", "3740", "6242")]
    # the logged `lr` metric loses to the `learning_rate` param: claims about learning rate are the param
    assert kinds(spans[1:]) == [
        ("group", ("pos_encoding", "rope")),
        ("metric", ("val/loss",)),
        ("param", ("learning_rate",)),
        ("param", ("learning_rate",)),
    ]


@pytest.mark.parametrize("text", ["GPT-2", "Step 4", "2 runs", "Table 1", "none of the runs were standard"])
def test_wandb_negatives(wandb: Vocabulary, text: str) -> None:
    assert [s for s in resolve_entities(text, wandb) if s.kind in ("run", "run_group", "group")] == []


def test_wandb_forms(wandb: Vocabulary) -> None:
    spans = resolve_entities("(run: F1_context_128-seed6242) vs pos_encoding=alibi", wandb)
    assert kinds(spans) == [("run", ("F1_context_128-seed6242",)), ("group", ("pos_encoding", "alibi"))]


def test_bare_distinctive_ids_and_w_and_b_ids() -> None:
    runs = pd.DataFrame({"run_id": ["rux19b6a", "cpc0g0we", "7"], "name": ["a", "b", "baseline"]})
    sweep = Sweep.model_construct(runs=runs, schema_=_schema(), history=pd.DataFrame())
    vocab = build_vocabulary(sweep)
    assert kinds(resolve_entities("run rux19b6a, then cpc0g0we; runs a, b", vocab)) == [
        ("run", ("rux19b6a",)),
        ("run", ("cpc0g0we",)),
        ("run", ("rux19b6a", "cpc0g0we")),
    ]
    assert resolve_entities("the baseline and 7", vocab) == []
    assert kinds(resolve_entities("run baseline", vocab)) == [("run", ("7",))]


def _schema():  # type: ignore[no-untyped-def]
    from reportgen.sweep import SweepSchema

    return SweepSchema(format="test", id_source="run_id")


def test_speed_1000_sentences_against_1000_runs() -> None:
    ids = [f"r{i:04d}x{i % 7}" for i in range(1000)]
    runs = pd.DataFrame({"run_id": ids, "name": [f"arm_{i // 4}" for i in range(1000)]})
    sweep = Sweep.model_construct(runs=runs, schema_=_schema(), history=pd.DataFrame())
    vocab = build_vocabulary(sweep)
    sentences = [
        f"Run {ids[i]} and trials {ids[i - 1]}, {ids[i - 2]} had a learning rate of 0.01 in arm_{i // 4}, "
        f"while buckets (0.005, 0.01] and the val loss of 2 runs crashed with NaN loss."
        for i in range(1000)
    ]
    start = time.perf_counter()
    found = sum(len(resolve_entities(s, vocab)) for s in sentences)
    elapsed = time.perf_counter() - start
    assert found >= 3000
    assert elapsed < 0.5, elapsed
