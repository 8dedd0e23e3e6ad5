"""Human-readable text for `reportgen inspect`."""

from __future__ import annotations

from reportgen.inspect import InspectSummary


def fmt_number(x: float | None) -> str:
    """A number as people read it in a table: integers plain, others to 4 significant digits."""
    if x is None:
        return "-"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def render_inspect(s: InspectSummary) -> str:
    """The inspect summary as aligned plain text."""
    lines = [f"{s.source.path}  ({s.source.format})"]
    if s.source.history_path:
        lines.append(f"history: {s.source.history_path}")
    lines.append(f"runs: {s.runs}  (ids from {s.id_source})")
    if s.created_first:
        lines.append(f"created: {s.created_first} .. {s.created_last}")
    lines.append("")
    lines.append("states:")
    for st in s.states:
        share = 100.0 * st.runs / s.runs if s.runs else 0.0
        spell = ", ".join(f"{k} {v}" for k, v in st.spellings.items())
        lines.append(f"  {st.state:<9} {st.runs:>6}  {share:5.1f}%   [{spell}]")
    lines.append("")
    lines.append(f"params ({len(s.params)}):")
    for p in s.params:
        if p.kind in ("categorical", "bool"):
            rng = "{" + ", ".join(p.levels or []) + ("" if p.n_unique <= 8 else ", ...") + "}"
        else:
            rng = f"{fmt_number(p.low)} .. {fmt_number(p.high)}"
        tags = [p.kind, f"{p.n_unique} value" + ("" if p.n_unique == 1 else "s")]
        if p.log_scale:
            tags.append("log-scale")
        if p.constant:
            tags.append("constant")
        if p.declared is not None:
            tags.append(f"declared {p.declared.kind}")
        lines.append(f"  {p.name:<24} {rng:<28} {', '.join(tags)}  ({p.source})")
    lines.append("")
    lines.append(f"metrics ({len(s.metrics)}):")
    for m in s.metrics:
        goal = {"min": "lower is better", "max": "higher is better"}.get(m.goal or "", "direction unknown")
        extra = []
        if m.in_history:
            extra.append("history")
        if m.missing_or_nan_runs:
            extra.append(f"{m.missing_or_nan_runs} missing/NaN")
        if m.inf_runs:
            extra.append(f"{m.inf_runs} inf")
        rng = f"{fmt_number(m.low)} .. {fmt_number(m.high)}"
        lines.append(f"  {m.name:<24} {rng:<28} {goal}" + (f"  [{', '.join(extra)}]" if extra else ""))
    lines.append("")
    obj = s.objective
    lines.append(
        f"objective: {obj.metric} ({obj.direction}, {obj.source})"
        if obj
        else "objective: none found (use --objective METRIC:min|max)"
    )
    if s.pairs:
        lines.append("train/val pairs: " + ", ".join(f"{p.train} ~ {p.val}" for p in s.pairs))
    if s.num_classes is not None:
        lines.append(f"num_classes: {s.num_classes} (from {s.num_classes_source})")
    if s.early_termination:
        lines.append(f"early termination: {s.early_termination}")
    h = s.history
    if h.rows:
        lines.append(
            f"history: {h.rows} rows, {h.runs} runs, {len(h.metrics)} metrics, "
            f"{h.step_axis or 'step'} {fmt_number(h.first_step)} .. {fmt_number(h.last_step)}"
        )
    else:
        lines.append("history: none")
    if s.ignored_columns:
        lines.append("ignored columns: " + ", ".join(s.ignored_columns))
    if s.warnings:
        lines.append("")
        lines.append(f"warnings ({len(s.warnings)}):")
        lines.extend(f"  - {w}" for w in s.warnings)
    return "\n".join(lines) + "\n"
