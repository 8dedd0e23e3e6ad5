"""All stages against the targets of issue 8: one seeded sweep, every stage timed against the same floor.

Writes R runs x S steps x M metrics with the seeded generator of bench_load.py (runs table + long Parquet
history; 10% crashed early, NaN divergence for high learning rates), then measures, as medians of
--repeat and as ratios to the floor (a bare ``pandas.read_parquet`` of the same history, timed in the
same run): ``load_sweep``, ``run_detectors``, ``build_factsheet``, prompt building (overview, sections,
next-sweep proposal and brief, then the OpenAI writer's first request fitted to the token budget and
counted), ``check_markdown`` of bench_check.py's ~1,100-claim draft, ``reportgen --help`` start-up (a
subprocess), and peak memory: ``getrusage`` max RSS (Linux: VmHWM, reset after the imports) of a fresh
child process per stage, less the child's RSS after its imports, against the in-memory size of the
history with float32 values, int32 steps and categorical run ids and metric names. Prints a Markdown table
with the issue's targets.

    python bench/bench_all.py --runs 5000 --steps 1000 --metrics 2 --repeat 3
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_check import SENTENCES, sweep_table  # noqa: E402
from bench_load import bench_args, make_sweep, median_seconds  # noqa: E402

from reportgen.detectors.run import run_detectors  # noqa: E402
from reportgen.facts import build_factsheet  # noqa: E402
from reportgen.io.load import load_sweep  # noqa: E402
from reportgen.io.options import LoadOptions  # noqa: E402

MEMORY_STAGES = ("read_parquet", "load", "detect", "facts", "prompt")
CHECK_PARAGRAPHS = 900  # bench_check.py's default: 1,126 claims


def build_prompt(sweep, detection, facts) -> dict:
    """What ``compose`` and ``OpenAIWriter.write`` do before the first call: the brief, then the first
    request fitted to the budget by ``fit_brief`` and counted by ``count_request``."""
    from reportgen.llm.budget import Budget, count_request, fit_brief
    from reportgen.llm.conversation import Conversation
    from reportgen.llm.schema import Limits
    from reportgen.report.next_sweep import propose
    from reportgen.report.skeleton import brief, overview, sections

    ov = overview(sweep, facts)
    built = sections(sweep, facts, detection)
    proposal = propose(sweep, detection.findings)
    the_brief = brief("Sweep report: bench", ov, detection, built, proposal.changes if proposal else [])
    limits = Limits()

    def first_request(candidate) -> int:
        convo = Conversation.start(candidate, None, limits)
        return count_request(convo.messages, convo.response_format())

    unfitted = first_request(the_brief)
    try:
        fitted = fit_brief(the_brief, first_request, Budget())
    except Exception as err:  # PromptBudgetError: the prompt does not fit even after every reduction
        return {"tokens": unfitted, "unfitted": unfitted, "reductions": [], "error": str(err)}
    return {"tokens": fitted.tokens, "unfitted": unfitted, "reductions": fitted.reductions, "error": None}


def history_size(history: Path) -> int:
    """Bytes of the history held compactly: float32 values, int32 steps, categorical ids and metrics."""
    df = pd.read_parquet(history)
    compact = df.astype({"run_id": "category", "metric": "category", "step": "int32", "value": "float32"})
    return int(compact.memory_usage(deep=True, index=False).sum())


def _rss_bytes() -> int:
    """Peak RSS of this process: Linux's VmHWM (the counter ``getrusage``'s ru_maxrss reports, but one
    ``_reset_peak`` can reset), else ru_maxrss (KiB on Linux, bytes on macOS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux), so the imports' transient peak does not hide the stage's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(stage: str, folder: Path) -> None:
    """Run the pipeline up to ``stage`` in this fresh process and print its peak RSS above the baseline."""
    from reportgen.llm import budget, conversation  # noqa: F401  (imports count in the baseline)
    from reportgen.report import next_sweep, skeleton  # noqa: F401

    history = folder / "history_long.parquet"
    import gc

    gc.collect()
    _reset_peak()
    baseline = _rss_bytes()
    if stage == "read_parquet":
        pd.read_parquet(history)
    else:
        sweep = load_sweep(folder / "runs.parquet", LoadOptions(history=history))
        if stage in ("detect", "facts", "prompt"):
            cache: dict[str, object] = {}
            detection = run_detectors(sweep, cache=cache)
            if stage in ("facts", "prompt"):
                facts = build_factsheet(sweep, detection, cache)
                if stage == "prompt":
                    build_prompt(sweep, detection, facts)
    print(json.dumps({"baseline": baseline, "peak": _rss_bytes()}))


def peak_memory(stage: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", stage, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_seconds(repeat: int) -> float:
    exe = shutil.which("reportgen", path=str(Path(sys.executable).parent)) or shutil.which("reportgen")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "reportgen", "--help"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the OS file cache once
    return median_seconds(lambda: subprocess.run(cmd, check=True, capture_output=True), repeat)


def check_seconds(runs: int, repeat: int, folder: Path) -> tuple[int, float]:
    """bench_check.py's draft over its seeded runs table of ``runs`` runs (FactSheet built once)."""
    from reportgen.factcheck.entities import build_vocabulary
    from reportgen.factcheck.verify import check_markdown

    path = folder / "check_runs.csv"
    sweep_table(runs).to_csv(path, index=False)
    sweep = load_sweep(path, LoadOptions())
    facts = build_factsheet(sweep, run_detectors(sweep))
    vocab = build_vocabulary(sweep, facts)
    body = [SENTENCES[i % len(SENTENCES)].format(n=runs) for i in range(CHECK_PARAGRAPHS)]
    draft = "# Report\n\n" + "\n\n".join(body) + "\n"
    claims = len(check_markdown(draft, facts, vocab))  # also the warm-up
    return claims, median_seconds(lambda: check_markdown(draft, facts, vocab), repeat)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()}, "
        f"Python {platform.python_version()}, pandas {pd.__version__}"
    )


def main() -> None:
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(sys.argv[i + 1], Path(sys.argv[sys.argv.index("--folder") + 1]))
        return
    args = bench_args(__doc__ or "")
    r = args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        make_sweep(folder, args.runs, args.steps, args.metrics, csv=False)
        history = folder / "history_long.parquet"
        made = time.perf_counter() - started
        floor = median_seconds(lambda: pd.read_parquet(history), r)
        sweep = load_sweep(folder / "runs.parquet", LoadOptions(history=history))
        rows = len(sweep.history)
        load = median_seconds(lambda: load_sweep(folder / "runs.parquet", LoadOptions(history=history)), r)
        detect = median_seconds(lambda: run_detectors(sweep), r)
        cache: dict[str, object] = {}
        detection = run_detectors(sweep, cache=cache)
        facts_s = median_seconds(lambda: build_factsheet(sweep, detection, cache), r)
        facts = build_factsheet(sweep, detection, cache)
        prompt = build_prompt(sweep, detection, facts)
        prompt_s = median_seconds(lambda: build_prompt(sweep, detection, facts), r)

        from reportgen.llm.tokens import count_tokens

        raw_csv = sweep.runs.drop(columns=["state_raw"], errors="ignore").to_csv(index=False)
        csv_tokens = count_tokens(raw_csv)
        claims, check_s = check_seconds(args.runs, r, folder)
        cli_s = cli_seconds(max(r, 5))
        size = history_size(history)
        memory = {stage: peak_memory(stage, folder) for stage in MEMORY_STAGES}

    def mib(b: float) -> str:
        return f"{b / 2**20:,.0f} MiB"

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = [
        "| figure | measured | ratio to floor | target | result |",
        "| --- | ---: | ---: | --- | --- |",
        f"| floor: bare `read_parquet` of the history | {floor:.2f} s | 1.0x | | |",
        f"| `load_sweep` | {load:.2f} s | {load / floor:.1f}x | | |",
        f"| `run_detectors` (detect) | {detect:.2f} s | {detect / floor:.1f}x | <= 3x floor "
        f"| {verdict(detect <= 3 * floor)} |",
        f"| load + detect (`reportgen detect`'s work) | {load + detect:.2f} s | "
        f"{(load + detect) / floor:.1f}x | <= 3x floor | {verdict(load + detect <= 3 * floor)} |",
        f"| `build_factsheet` | {facts_s:.2f} s | {facts_s / floor:.1f}x | | |",
        f"| prompt building (brief + fitted first request) | {prompt_s:.2f} s | "
        f"{prompt_s / floor:.1f}x | | |",
        f"| prompt tokens (fitted; {prompt['unfitted']:,} before fitting) | {prompt['tokens']:,} | | < 8,000 "
        f"| {verdict(prompt['error'] is None and prompt['tokens'] < 8000)} |",
        f"| runs table as CSV / prompt tokens | {csv_tokens:,} / {prompt['tokens']:,} = "
        f"{csv_tokens / prompt['tokens']:.0f}x | | >= 100x (at 10,000 runs) "
        f"| {verdict(csv_tokens / prompt['tokens'] >= 100)}"
        f"{'' if args.runs >= 10_000 else ' (target is for 10,000 runs)'} |",
        f"| `check` of a {claims:,}-claim draft ({args.runs:,}-run table) | {check_s:.2f} s | "
        f"{check_s / floor:.1f}x | < 1 s | {verdict(check_s < 1)} |",
        f"| `reportgen --help` start-up | {cli_s:.2f} s | | < 0.3 s | {verdict(cli_s < 0.3)} |",
        f"| history in memory (float32 values, int32 steps, categorical ids) | {mib(size)} | | | |",
    ]
    for stage in MEMORY_STAGES:
        grown = memory[stage]["peak"] - memory[stage]["baseline"]
        target = stage in ("detect", "facts", "prompt")
        lines.append(
            f"| peak RSS above imports, up to {stage} | {mib(grown)} ({grown / size:.1f}x history) | | "
            + (f"<= 2.5x history | {verdict(grown <= 2.5 * size)} |" if target else "| |")
        )
    print(
        f"sweep: {args.runs:,} runs x {args.steps:,} steps x {args.metrics} metrics = {rows:,} history rows "
        f"(written in {made:.0f} s); findings: {len(detection.findings)}; detector errors: "
        f"{len(detection.errors)}; medians of {r}"
    )
    print(f"machine: {machine()}")
    print(
        "peak memory: max RSS (VmHWM, the counter behind getrusage's ru_maxrss, reset after imports) of a "
        f"fresh child process per stage, less its RSS after imports ({mib(memory['load']['baseline'])})"
    )
    if prompt["error"]:
        print(f"prompt budget: {prompt['error']}")
    for note in prompt["reductions"]:
        print(f"budget left out: {note}")
    if not prompt["reductions"]:
        print("budget left out: nothing (the brief fit without reductions)")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
