"""Compose the report: skeleton by code, prose by a writer, every sentence fact-checked before it is kept.

The loop, for any writer:

1. the writer writes from the brief;
2. every paragraph and recommendation is checked (``factcheck.verify``, each paragraph under its section's
   heading so bucket labels attach to the right param) and its citations are validated against the brief;
3. contradicted claims and unknown citations go back to the writer verbatim (``Problem``) for a re-ask,
   at most ``max_reasks`` times and within ``deadline_s`` seconds (tenacity owns this loop; the writer's
   own schema re-asks and the HTTP client's transport retries are separate, one layer each);
4. whatever is still contradicted is removed sentence by sentence; a section left without a cited
   paragraph, or one the writer failed on, gets the offline writer's text instead; the fact-check summary
   and the manifest say what happened. A re-ask that fails (the server, the deadline) keeps the previous
   draft and goes on to step 4 with it; only a writer that fails on its first draft leaves the offline
   text throughout.

``deadline_s`` is a total deadline: a writer with a ``deadline`` attribute (``OpenAIWriter``) has it
narrowed to ``deadline_s`` from the start of ``compose``, so no call outlives it.

A published report therefore holds no contradicted claim in its prose; the tables are code's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, stop_after_delay

from reportgen import __version__
from reportgen.errors import ReportgenError
from reportgen.factcheck.claims import Verdict
from reportgen.factcheck.entities import Vocabulary, build_vocabulary
from reportgen.factcheck.markdown import Unit, split
from reportgen.factcheck.verify import check_units
from reportgen.facts import FactSheet
from reportgen.findings import Detection
from reportgen.report.model import (
    FactCheck,
    InputFile,
    Manifest,
    Paragraph,
    Recommendation,
    Report,
)
from reportgen.report.next_sweep import propose
from reportgen.report.offline_writer import OfflineWriter
from reportgen.report.skeleton import brief, overview, sections
from reportgen.report.writing import Brief, Problem, Prose, SectionProse, Writer
from reportgen.sweep import Sweep


@dataclass
class _Tally:
    checked: int = 0
    supported: int = 0
    unverifiable: int = 0
    corrected: int = 0
    removed: int = 0
    reasks: int = 0  # re-asks for contradicted claims (the writer counts its own schema re-asks)
    first_draft_claims: int = 0
    first_draft_contradicted: int = 0
    replaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compose(
    sweep: Sweep,
    detection: Detection,
    facts: FactSheet,
    writer: Writer,
    *,
    title: str | None = None,
    max_reasks: int = 2,
    deadline_s: float = 300.0,
) -> Report:
    """The report of ``sweep`` with ``writer``'s prose, checked as described in the module docstring."""
    started = time.monotonic()
    _narrow_deadline(writer, started + deadline_s)
    ov = overview(sweep, facts)
    built = sections(sweep, facts, detection)
    proposal = propose(sweep, detection.findings)
    name = title or f"Sweep report: {Path(sweep.source.path).name}"
    the_brief = brief(name, ov, detection, built, proposal.changes if proposal else [])
    check = _Checker(facts, build_vocabulary(sweep, facts))
    titles: dict[str, str] = {str(s.key): s.title for s in built}
    tally = _Tally()
    offline = OfflineWriter()
    fallback = offline.write(the_brief)

    prose, first_problems = _write_and_reask(writer, the_brief, check, titles, max_reasks, deadline_s, tally)
    final_sections, recommendations = _publish(prose, fallback, the_brief, check, titles, tally)
    tally.corrected = max(0, first_problems - tally.removed) if prose is not None else 0

    by_key = {s.key: s for s in final_sections}
    published = [
        s.model_copy(update={"paragraphs": by_key[s.key].paragraphs if s.key in by_key else []})
        for s in built
    ]
    cited = (
        {i for s in published for p in s.paragraphs for i in p.cites}
        | {i for r in recommendations for i in r.cites}
        | {i for s in published for i in s.findings}
    )
    findings = {
        f.id: {
            "code": f.code,
            "name": f.name,
            "severity": f.severity,
            "title": f.title,
            "runs": f.run_ids[:20],
        }
        for f in detection.findings
        if f.id in cited
    }
    usage = writer.usage
    manifest = Manifest(
        reportgen_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        inputs=_inputs(sweep),
        source_format=sweep.source.format,
        templates={**offline.usage.templates, **usage.templates},
        writer=writer.name,
        model=writer.model,
        calls=usage.calls,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        retries=usage.retries,
        reasks=usage.reasks + tally.reasks,
        seconds=round(time.monotonic() - started, 3),
        budget_reductions=list(usage.budget_reductions),
        fallbacks=[f"section {k}: offline text" for k in tally.replaced],
        warnings=list(sweep.warnings) + [str(e.code) + ": " + e.error for e in detection.errors],
    )
    return Report(
        title=name,
        overview=ov,
        sections=published,
        recommendations=recommendations,
        next_sweep=proposal,
        fact_check=FactCheck(
            claims_checked=tally.checked,
            supported=tally.supported,
            unverifiable=tally.unverifiable,
            first_draft_claims=tally.first_draft_claims,
            first_draft_contradicted=tally.first_draft_contradicted,
            corrected=tally.corrected,
            removed=tally.removed,
            replaced_sections=tally.replaced,
            # the writer's own re-asks (schema, ids, length) first, then what the checking did
            notes=[f"the {writer.name} writer's {n}" for n in usage.notes] + tally.notes,
        ),
        manifest=manifest,
        findings=findings,
    )


def _narrow_deadline(writer: Writer, deadline: float) -> None:
    """Give a writer that keeps a ``time.monotonic()`` deadline one no later than ``deadline``."""
    if not hasattr(writer, "deadline"):
        return
    current = getattr(writer, "deadline", None)
    if current is None or (isinstance(current, (int, float)) and current > deadline):
        writer.deadline = deadline  # type: ignore[attr-defined]


def _inputs(sweep: Sweep) -> list[InputFile]:
    out = []
    for path, digest in (
        (sweep.source.path, sweep.source.sha256),
        (sweep.source.history_path, sweep.source.history_sha256),
    ):
        if path and digest:
            p = Path(path)
            size = (
                p.stat().st_size
                if p.is_file()
                else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                if p.is_dir()
                else 0
            )
            out.append(InputFile(path=path, sha256=digest, bytes=size))
    return out


# -- checking ----------------------------------------------------------------------------------------------


@dataclass
class _Checker:
    """Checks one paragraph under its section's heading, once: the last draft's paragraphs are checked for
    the re-ask and again when published, and the offline text may be checked for several sections."""

    facts: FactSheet
    vocab: Vocabulary
    seen: dict[tuple[str, str], tuple[list[Unit], list[Verdict]]] = field(default_factory=dict)

    def __call__(self, text: str, heading: str) -> tuple[list[Unit], list[Verdict]]:
        """The paragraph's units and their verdicts (line 3 of a mini draft under ``## heading``)."""
        key = (heading, text)
        if key not in self.seen:
            units = [u for u in split(f"## {heading}\n\n{text}\n").units if u.kind != "heading"]
            self.seen[key] = (units, check_units(units, self.facts, self.vocab))
        return self.seen[key]


def _verdicts(prose: Prose, check: _Checker, titles: dict[str, str]) -> list[Verdict]:
    """Every claim's verdict in ``prose`` (cached by the checker, so ``_problems`` costs nothing more)."""
    out = [
        v for s in prose.sections for p in s.paragraphs for v in check(p.text, titles.get(s.key, s.key))[1]
    ]
    return out + [v for r in prose.recommendations for v in check(r.text, "Recommendations")[1]]


def _problems(prose: Prose, the_brief: Brief, check: _Checker, titles: dict[str, str]) -> list[Problem]:
    known = the_brief.finding_ids()
    out: list[Problem] = []
    for s in prose.sections:
        for i, p in enumerate(s.paragraphs, 1):
            where = f"section {s.key}, paragraph {i}"
            out += [
                Problem(where=where, text=c, message=f"unknown finding id {c!r}")
                for c in p.cites
                if c not in known
            ]
            for v in check(p.text, titles.get(s.key, s.key))[1]:
                if v.verdict == "contradicted":
                    out.append(Problem(where=where, text=v.text, message=v.message, fix=v.fix))
    for i, r in enumerate(prose.recommendations, 1):
        where = f"recommendation {i}"
        out += [
            Problem(where=where, text=c, message=f"unknown finding id {c!r}")
            for c in r.cites
            if c not in known
        ]
        for v in check(r.text, "Recommendations")[1]:
            if v.verdict == "contradicted":
                out.append(Problem(where=where, text=v.text, message=v.message, fix=v.fix))
    return out


def _write_and_reask(
    writer: Writer,
    the_brief: Brief,
    check: _Checker,
    titles: dict[str, str],
    max_reasks: int,
    deadline_s: float,
    tally: _Tally,
) -> tuple[Prose | None, int]:
    """The writer's best prose (None if it failed outright) and how many problems its first draft had."""
    state: dict[str, object] = {"feedback": None, "first": None, "last": None}

    def attempt() -> tuple[Prose, list[Problem]]:
        feedback = state["feedback"]
        if isinstance(feedback, list):
            tally.reasks += 1
        prose = writer.write(the_brief, feedback if isinstance(feedback, list) else None)
        problems = _problems(prose, the_brief, check, titles)
        if state["first"] is None:
            state["first"] = len(problems)
            verdicts = _verdicts(prose, check, titles)
            tally.first_draft_claims = len(verdicts)
            tally.first_draft_contradicted = sum(v.verdict == "contradicted" for v in verdicts)
        state["feedback"] = problems
        state["last"] = (prose, problems)
        return prose, problems

    retrying = Retrying(
        stop=stop_after_attempt(max_reasks + 1) | stop_after_delay(deadline_s),
        retry=retry_if_result(lambda result: bool(result[1])),
        reraise=True,
    )
    try:
        prose, problems = retrying(attempt)
    except RetryError as exc:  # the last attempt still had problems: keep its prose, drop what is wrong
        prose, problems = exc.last_attempt.result()
    except ReportgenError as exc:
        last = state["last"]
        if not isinstance(last, tuple):
            tally.notes.append(
                f"the {writer.name} writer failed ({exc}); the offline text is used throughout"
            )
            return None, 0
        # a re-ask failed: the previous draft is still an answer; step 4 removes what is wrong in it
        tally.notes.append(
            f"the {writer.name} writer failed on re-ask {tally.reasks} ({exc}); its previous draft was kept"
        )
        prose, problems = last
    if problems:
        tally.notes.append(f"{len(problems)} problems remained after the re-asks; the sentences were removed")
    first = state["first"]
    return prose, int(first) if isinstance(first, int) else 0


def _publish(
    prose: Prose | None,
    fallback: Prose,
    the_brief: Brief,
    check: _Checker,
    titles: dict[str, str],
    tally: _Tally,
) -> tuple[list[SectionProse], list[Recommendation]]:
    """Keep what is checked clean; drop contradicted sentences; fall back to the offline text per section."""
    known = the_brief.finding_ids()
    fallback_by_key = {s.key: s for s in fallback.sections}
    chosen = prose if prose is not None else fallback
    if prose is None:
        tally.replaced = [s.key for s in fallback.sections]
    out: list[SectionProse] = []
    written = {s.key: s for s in chosen.sections}
    for key in [s.key for s in fallback.sections] + [k for k in written if k not in fallback_by_key]:
        section = written.get(key)
        kept = _clean(section.paragraphs, titles.get(key, key), known, check, tally) if section else []
        if not any(p.cites for p in kept) and key != "overview" and key in fallback_by_key:
            kept = _clean(fallback_by_key[key].paragraphs, titles.get(key, key), known, check, tally)
            if prose is not None:
                tally.replaced.append(key)
        if key == "overview" and not kept:
            kept = _clean(fallback_by_key[key].paragraphs, titles.get(key, key), known, check, tally)
        if kept:
            out.append(SectionProse(key=key, paragraphs=kept))
    recs = []
    for r in chosen.recommendations:
        cites = [c for c in r.cites if c in known]
        cleaned = _clean([Paragraph(text=r.text, cites=cites)], "Recommendations", known, check, tally)
        if cleaned and cites:
            recs.append(Recommendation(title=r.title, text=cleaned[0].text, cites=cites))
    if not recs and prose is not None:
        recs = fallback.recommendations
    return out, recs


def _clean(
    paragraphs: list[Paragraph],
    heading: str,
    known: set[str],
    check: _Checker,
    tally: _Tally,
) -> list[Paragraph]:
    """The paragraphs without their contradicted sentences (and without unknown citations)."""
    out = []
    for p in paragraphs:
        units, verdicts = check(p.text, heading)
        bad_units = {v.claim.unit_index for v in verdicts if v.verdict == "contradicted"}
        for v in verdicts:
            tally.checked += 1
            if v.verdict == "supported":
                tally.supported += 1
            elif v.verdict == "unverifiable":
                tally.unverifiable += 1
        tally.removed += len(bad_units)
        kept = " ".join(u.text for i, u in enumerate(units) if i not in bad_units) if bad_units else p.text
        if kept.strip():
            out.append(Paragraph(text=kept.strip(), cites=[c for c in p.cites if c in known]))
    return out
