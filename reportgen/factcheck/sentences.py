"""Sentence boundaries in plain text: split on . ! ? (and CJK full stops) followed by a space and a
capital (or a digit) or the end, but never inside numbers (0.01),
abbreviations (e.g., vs., Fig.), brackets such as the interval `(0.005, 0.01]`, or inline code."""

from __future__ import annotations

import re

_CLOSERS = "\"'\u201d\u2019)]*_"  # closing quotes and brackets that belong to the sentence before
_TERMINATOR = re.compile(
    rf"[.!?]+[{re.escape(_CLOSERS)}]*(?=\s|$)|[\u3002\uff01\uff1f]+"
)  # and CJK full stops
# "etc." is left out on purpose: it ends sentences as often as not, and a capital after it decides
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "eg", "ie", "vs", "v", "approx", "fig", "figs", "eq", "eqs", "cf", "al", "no", "nos"}
    | {"mr", "mrs", "ms", "dr", "prof", "st", "vol", "ch", "sec", "pp", "resp", "incl", "est", "ca", "viz"}
)
_OPENERS = "\"'\u201c\u2018(["


def _bracket_ranges(text: str, code: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Matched ()/[] pairs outside code; any closer closes the innermost opener (``(0.005, 0.01]``)."""
    in_code = bytearray(len(text))
    for s, e in code:
        in_code[s:e] = b"\x01" * (e - s)
    stack: list[int] = []
    pairs = []
    for x, c in enumerate(text):
        if in_code[x]:
            continue
        if c in "([":
            stack.append(x)
        elif c in ")]" and stack:
            pairs.append((stack.pop(), x))
    return pairs


def sentence_spans(text: str, code: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``."""
    guarded = bytearray(len(text))
    reach = 0  # ranges nest or are disjoint: mark each character once
    for s, e in sorted(code + _bracket_ranges(text, code)):
        s = max(s, reach)
        if e > s:
            guarded[s:e] = b"\x01" * (e - s)
            reach = e
    bounds = []
    start = 0
    for m in _TERMINATOR.finditer(text):
        t = m.start()
        if guarded[t]:
            continue
        nxt = m.end()
        while nxt < len(text) and text[nxt] == " ":
            nxt += 1
        if m.group(0)[0] in ".!?":
            if nxt < len(text):
                c = text[nxt]
                opens = c.isupper() or (c in _OPENERS and nxt + 1 < len(text) and text[nxt + 1].isupper())
                # a digit opens a sentence too ("... the short runs. 1 run ended", "= 0.5148. 3 of 8 runs"):
                # a number cannot end with a bare point, so the point ends the sentence
                opens = opens or (c.isdigit() and t > 0 and text[t - 1].isalnum())
                if not opens:
                    continue
            if m.group(0)[0] == "." and len(m.group(0).rstrip(_CLOSERS)) == 1:
                word_start = max(text.rfind(" ", 0, t), text.rfind("(", 0, t)) + 1
                word = text[word_start:t].casefold()
                if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
        bounds.append((start, m.end()))
        start = nxt
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


# ---------------------------------------------------------------------------------------------------- units
