"""Inline Markdown for the draft splitter: strips emphasis, inline code, links, images, autolinks, HTML
tags and escapes from a block's raw text while keeping, for every character left, its offset in the
source (so a claim found in the plain text is reported where it stands in the draft)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_INLINE_SPECIAL = re.compile(r"[\\`<]")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+\.[A-Za-z]{2,})>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_DELIM_RUN = re.compile(r"\*+|_+|~~")


@dataclass
class Inline:
    text: str
    offsets: list[int]
    code_spans: list[tuple[int, int]]
    span_starts: list[int] = field(init=False)
    span_ends: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.span_starts = [s for s, _ in self.code_spans]
        self.span_ends = [e for _, e in self.code_spans]


def strip_inline(raw: str, offs: list[int], ref_labels: set[str], table: bool = False) -> Inline:
    """Strip inline markup from ``raw`` (whose char k sits at source offset ``offs[k]``)."""
    n = len(raw)
    keep = bytearray(b"\x01") * n
    prot = bytearray(n)
    code_raw: list[tuple[int, int]] = []
    if table:
        for esc in re.finditer(r"\\\|", raw):
            keep[esc.start()] = 0
            prot[esc.start() + 1] = 1
    unclosed: set[int] = set()  # backtick run lengths with no closer further on: keeps `-heavy text linear
    pos = 0
    while (m := _INLINE_SPECIAL.search(raw, pos)) is not None:
        i = m.start()
        c = raw[i]
        pos = i + 1
        if prot[i]:
            continue
        if c == "\\":
            if i + 1 < n and (raw[i + 1] in _ASCII_PUNCT or raw[i + 1] == "\n"):
                keep[i] = 0
                if raw[i + 1] != "\n":
                    prot[i + 1] = 1
                pos = i + 2
        elif c == "`":
            j = i
            while j < n and raw[j] == "`":
                j += 1
            ticks = j - i
            close = None if ticks in unclosed else re.compile(rf"(?<!`)`{{{ticks}}}(?!`)").search(raw, j)
            if close is None:
                unclosed.add(ticks)
                pos = j
                continue
            k = close.start()
            for x in range(i, j):
                keep[x] = 0
            for x in range(k, k + ticks):
                keep[x] = 0
            s, e = j, k
            inner = raw[s:e]
            if len(inner) >= 2 and inner[0] in " \n" and inner[-1] in " \n" and inner.strip(" \n"):
                keep[s] = keep[e - 1] = 0
                s, e = s + 1, e - 1
            for x in range(s, e):
                prot[x] = 1
            code_raw.append((s, e))
            pos = k + ticks
        elif (a := _AUTOLINK.match(raw, i)) is not None:
            keep[i] = keep[a.end() - 1] = 0
            for x in range(i + 1, a.end() - 1):
                prot[x] = 1
            pos = a.end()
        elif (t := _HTML_TAG.match(raw, i)) is not None:
            for x in range(i, t.end()):
                keep[x] = 0
            pos = t.end()
    _strip_links(raw, keep, prot, ref_labels)
    _strip_emphasis(raw, keep, prot)
    return _assemble(raw, offs, keep, code_raw)


def _pairs(raw: str, opener: str, closer: str, skip: bytearray) -> dict[int, int]:
    """Opener index -> matching closer index, in one pass; characters flagged in ``skip`` are ignored."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for m in re.finditer(f"[{re.escape(opener + closer)}]", raw):
        x = m.start()
        if skip[x]:
            continue
        if raw[x] == opener:
            stack.append(x)
        elif stack:
            pairs[stack.pop()] = x
    return pairs


def _strip_links(raw: str, keep: bytearray, prot: bytearray, ref_labels: set[str]) -> None:
    n = len(raw)
    skip = bytearray(p | (1 - k) for p, k in zip(prot, keep, strict=True))
    brackets = _pairs(raw, "[", "]", skip)
    parens = _pairs(raw, "(", ")", bytearray(n))  # a URL may hold anything, code-looking or not
    for i, j in sorted(brackets.items()):
        if not keep[i] or not keep[j]:  # inside a link already stripped
            continue
        if raw.startswith("^", i + 1):  # footnote reference
            for x in range(i, j + 1):
                keep[x] = 0
            continue
        end = -1
        if j + 1 < n and raw[j + 1] == "(":
            end = parens.get(j + 1, -1)
        elif j + 1 < n and raw[j + 1] == "[":
            end = brackets.get(j + 1, -1)
        elif label_key(raw[i + 1 : j]) in ref_labels:
            end = j
        if end < 0:
            continue
        keep[i] = 0
        if i > 0 and raw[i - 1] == "!" and not prot[i - 1]:
            keep[i - 1] = 0
        for x in range(j, end + 1):
            keep[x] = 0
            prot[x] = 1


def _is_punct(c: str) -> bool:
    return not c.isalnum() and not c.isspace()


def _strip_emphasis(raw: str, keep: bytearray, prot: bytearray) -> None:
    """Remove matched ``*``, ``_`` and ``~~`` delimiter runs; unmatched ones (``2 * 3``, ``~5``) stay."""
    n = len(raw)
    openers: dict[str, list[tuple[int, int]]] = {}  # per delimiter kind, (start, end) of runs that can open
    for m in _DELIM_RUN.finditer(raw):
        s, e = m.span()
        if any(prot[x] or not keep[x] for x in range(s, e)):
            continue
        ch = raw[s]
        before = raw[s - 1] if s > 0 else " "
        after = raw[e] if e < n else " "
        left = not after.isspace() and (not _is_punct(after) or before.isspace() or _is_punct(before))
        right = not before.isspace() and (not _is_punct(before) or after.isspace() or _is_punct(after))
        if ch == "_":
            can_open = left and (not right or _is_punct(before))
            can_close = right and (not left or _is_punct(after))
        else:
            can_open, can_close = left, right
        stack = openers.setdefault(ch, [])
        if can_close and stack:
            o_s, o_e = stack.pop()  # the nearest opener of the same kind
            used = min(o_e - o_s, e - s)
            for x in range(o_e - used, o_e):
                keep[x] = 0
            for x in range(s, s + used):
                keep[x] = 0
            s += used
        if s < e and can_open:
            stack.append((s, e))


def _assemble(raw: str, offs: list[int], keep: bytearray, code_raw: list[tuple[int, int]]) -> Inline:
    out: list[str] = []
    out_offs: list[int] = []
    raw_to_out = [0] * (len(raw) + 1)
    space = True  # collapse leading whitespace
    for x, c in enumerate(raw):
        raw_to_out[x] = len(out)
        if not keep[x]:
            continue
        if c.isspace():
            if space:
                continue
            c = " "
            space = True
        else:
            space = False
        out.append(c)
        out_offs.append(offs[x])
    raw_to_out[len(raw)] = len(out)
    if out and out[-1] == " ":
        out.pop()
        out_offs.pop()
    size = len(out)
    spans = []
    for s, e in code_raw:
        a, b = min(raw_to_out[s], size), min(raw_to_out[e], size)
        if b > a:
            spans.append((a, b))
    return Inline("".join(out), out_offs, spans)


# ------------------------------------------------------------------------------------------------ sentences
