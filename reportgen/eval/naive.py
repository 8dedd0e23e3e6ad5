"""The naive baseline of ``reportgen eval``: the same model, given only the runs table as CSV and asked for
the report, with no detectors, no brief and no checker in the loop. Its Markdown is then scored by the same
checker as the real writer's report, so the two rows of the scorecard differ only in the pipeline.

The CSV is cut to the first rows that fit ``PROMPT_BUDGET`` tokens (counted with tiktoken before the call;
how many rows went in is recorded per sweep). The API key never reaches the scorecard.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

from reportgen.eval.sweeps import load_eval_sweep, sweep_names
from reportgen.llm.prompts import NaiveReportContext, render
from reportgen.llm.tokens import count_tokens

PROMPT_BUDGET = 8_000
MAX_COMPLETION_TOKENS = 2_048


def _prompt(runs_csv: list[str], total: int, budget: int = PROMPT_BUDGET) -> tuple[str, int]:
    """The prompt with as many rows as fit ``budget`` tokens, and how many that was."""
    header, rows = runs_csv[0], runs_csv[1:]
    shown = len(rows)
    while True:
        csv = "\n".join([header, *rows[:shown]])
        fence = "=" * 8 + hashlib.sha256(csv.encode()).hexdigest()[:8]
        text = render(NaiveReportContext(fence=fence, csv=csv, runs=total, rows_shown=shown))
        if count_tokens(text) <= budget or shown == 0:
            return text, shown
        shown = max(0, shown // 2 if shown > 8 else shown - 1)


def evaluate_naive(
    model: str,
    sweeps: list[str] | None = None,
    client: Any = None,
    *,
    prompt_budget: int = PROMPT_BUDGET,
    max_tokens: int = MAX_COMPLETION_TOKENS,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ask ``model`` for each bundled sweep's report from its CSV alone and check what it writes.

    ``prompt_budget`` and ``max_tokens`` should be the real writer's, so the two rows get the same room;
    ``options`` are further request fields, the same as the real writer sends (a local server's seed and
    sampling settings)."""
    import openai

    from reportgen.factcheck.verify import check_markdown

    if client is None:
        client = openai.OpenAI(
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            api_key=os.environ.get("OPENAI_API_KEY") or "no-key",
        )
    rows: list[dict[str, Any]] = []
    for name in sweep_names() if sweeps is None else sweeps:
        loaded = load_eval_sweep(name)
        table = loaded.sweep.runs.drop(columns=["state_raw"], errors="ignore")
        lines = table.to_csv(index=False).splitlines()
        prompt, shown = _prompt(lines, len(table), prompt_budget)
        start = time.perf_counter()
        answer = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            temperature=0,
            max_tokens=max_tokens,
            **(options or {}),
        )
        markdown = answer.choices[0].message.content or ""
        verdicts = check_markdown(markdown, loaded.facts, loaded.vocab)
        usage = answer.usage
        rows.append(
            {
                "sweep": name,
                "rows_shown": shown,
                "claims": len(verdicts),
                "supported": sum(v.verdict == "supported" for v in verdicts),
                "contradicted": sum(v.verdict == "contradicted" for v in verdicts),
                "tokens": (usage.prompt_tokens + usage.completion_tokens) if usage else 0,
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    claims = sum(r["claims"] for r in rows)
    return {
        "status": "run",
        "model": model,
        "reports": len(rows),
        "claims": claims,
        "contradicted": sum(r["contradicted"] for r in rows),
        "verified_share": round(sum(r["supported"] for r in rows) / claims, 4) if claims else None,
        "contradicted_rate": round(sum(r["contradicted"] for r in rows) / claims, 4) if claims else None,
        "per_sweep": rows,
    }
