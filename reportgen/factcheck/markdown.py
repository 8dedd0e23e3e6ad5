"""Split a Markdown draft into checkable text units with exact source positions.

A unit is a sentence of a paragraph, list item or blockquote, a whole heading, or one table body cell. Its
``text`` has the Markdown markup removed (emphasis, inline-code backticks, link and image syntax, escapes,
inline HTML) and keeps a per-character map back to the original source, so a number found at ``text``
offset *k* is reported where it stands in the draft (``Unit.source_position(k)``). Every character of
``text`` is the very character found at its mapped position, except a single space that stands for a run of
whitespace, a line break or a removed HTML comment (it maps to the run's first character).

Positions are 1-based lines and columns as editors show them. Columns count characters (Unicode code points),
not bytes; ``end_column`` is exclusive (the column just after the unit's last character), as in SARIF and LSP.
Lines end at ``\\n``, ``\\r\\n`` or ``\\r``; a leading byte-order mark is not a column.

Skipped: YAML front matter, fenced code (``` and ~~~), indented code, thematic breaks, link reference
definitions and HTML comments. Comments of the forms ``<!-- reportgen: ignore CODE[,CODE] -->`` and
``<!-- expect: VERDICT [CODE] -->`` come back as ``Directive`` objects instead (``find_directives``).

This is a hand-written line scanner for the CommonMark + GFM-table subset that reports are written in, not a
full CommonMark parser: block parsers such as markdown-it only map tokens to lines, and the checker needs
columns. Known simplifications: HTML blocks are read as paragraphs with their tags stripped; lists and
blockquotes nested inside each other are flattened; emphasis pairing ignores CommonMark's "multiple of 3"
rule; a table cell is one unit however many sentences it holds.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Literal

from reportgen.factcheck.markdown_inline import Inline, label_key, strip_inline
from reportgen.factcheck.sentences import sentence_spans

UnitKind = Literal["heading", "paragraph", "list_item", "blockquote", "table_cell"]
DirectiveKind = Literal["ignore", "expect", "invalid"]

__all__ = [
    "Directive",
    "DirectiveKind",
    "SplitDraft",
    "Unit",
    "UnitKind",
    "find_directives",
    "split",
    "split_units",
]


class _LineIndex:
    """Maps absolute character offsets of the source to 1-based (line, column)."""

    __slots__ = ("starts",)

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


@dataclass(frozen=True, slots=True)
class Unit:
    """One checkable piece of the draft: a sentence, a heading or a table cell.

    ``block`` numbers the paragraph, list item, heading or table the unit came from (sentences of one
    paragraph share it), ``section`` is the text of the nearest heading above, ``code_spans`` are the
    ``(start, end)`` offsets in ``text`` of inline code (bucket intervals, metric names). Table cells carry
    the column's header text and the row's first cell (the entity the row is about).
    """

    kind: UnitKind
    text: str
    line: int
    column: int
    end_line: int
    end_column: int
    block: int
    section: str | None = None
    table_header: str | None = None
    row_label: str | None = None
    code_spans: tuple[tuple[int, int], ...] = ()
    offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _index: _LineIndex = field(default_factory=lambda: _LineIndex([0]), repr=False, compare=False)

    def source_offset(self, offset: int) -> int:
        """The absolute character offset in the source of ``text[offset]`` (``len(text)``: just after it)."""
        if not 0 <= offset <= len(self.text):
            raise IndexError(f"offset {offset} outside unit text of length {len(self.text)}")
        if offset == len(self.text):
            return self.offsets[-1] + 1
        return self.offsets[offset]

    def source_position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) in the source of ``text[offset]``; ``len(text)`` gives the end column."""
        return self._index.position(self.source_offset(offset))

    def source_span(self, start: int, end: int) -> tuple[int, int, int, int]:
        """(line, column, end_line, end_column) of ``text[start:end]``, end exclusive; ``start < end``."""
        if not 0 <= start < end <= len(self.text):
            raise IndexError(f"bad span {start}:{end} of unit text of length {len(self.text)}")
        line, column = self.source_position(start)
        end_line, last_column = self.source_position(end - 1)
        return line, column, end_line, last_column + 1


@dataclass(frozen=True, slots=True)
class Directive:
    """An instruction to the checker written as an HTML comment in the draft.

    ``ignore``: ``<!-- reportgen: ignore FCT002, FCT003 -->`` (``codes`` empty for a bare ``ignore``).
    ``expect``: ``<!-- expect: contradicted [FCT002] -->``, a test expectation (``verdict`` set).
    ``invalid``: a comment that starts like a directive but does not parse; reported, never guessed at.
    """

    kind: DirectiveKind
    codes: tuple[str, ...]
    verdict: str | None
    body: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class SplitDraft:
    """Units and directives of one draft, from a single pass."""

    units: list[Unit]
    directives: list[Directive]


def split_units(markdown: str) -> list[Unit]:
    """The checkable units of a Markdown draft, in source order."""
    return split(markdown).units


def find_directives(markdown: str) -> list[Directive]:
    """The ``reportgen:`` and ``expect:`` comments of a draft (outside code), in source order."""
    return split(markdown).directives


def split(markdown: str) -> SplitDraft:
    """Units and directives of a draft in one pass (what the checker calls)."""
    parser = _Parser(markdown)
    blocks = parser.parse()
    return SplitDraft(_emit_units(parser, blocks), parser.directives)


# ---------------------------------------------------------------------------------------------------- blocks

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ATX = re.compile(r"(#{1,6})(?:[ \t]+|$)")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"([-*_])[ \t]*(?:\1[ \t]*){2,}$")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
_LIST_MARKER = re.compile(r"([-*+]|(\d{1,9})[.)])([ \t]+|$)")
_TASK = re.compile(r"\[[ xX]\][ \t]+")
_REF_DEF = re.compile(r"\[(?!\^)((?:[^\]\\]|\\.)+)\]:[ \t]*\S")
_FOOTNOTE_DEF = re.compile(r"\[\^[^\]\s]+\]:[ \t]*")
_DELIM_ROW = re.compile(r"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_COMMENT_OR_TICKS = re.compile(r"`+|<!--")
_FRONT_MATTER_END = re.compile(r"(?:---|\.\.\.)[ \t]*$")

_DIRECTIVE_IGNORE = re.compile(r"\s*reportgen\s*:\s*ignore\b(.*)$", re.S)
_DIRECTIVE_EXPECT = re.compile(r"\s*expect\s*:\s*(supported|contradicted|unverifiable)\b(.*)$", re.S)
_DIRECTIVE_LIKE = re.compile(r"\s*(?:reportgen|expect)\s*:", re.I)
_CODE = re.compile(r"[A-Z]+[0-9]+")

_Segment = tuple[int, int, int]  # (line index, start char, end char) within one line


@dataclass
class _Block:
    kind: UnitKind
    segments: list[_Segment] = field(default_factory=list)
    header: list[_Segment] = field(default_factory=list)
    rows: list[list[_Segment]] = field(default_factory=list)


def _indent(line: str, start: int) -> tuple[int, int]:
    """(indent width with tabs to multiples of 4, index of the first non-blank char) from ``start``."""
    width = 0
    i = start
    while i < len(line) and line[i] in " \t":
        width = width + 4 - width % 4 if line[i] == "\t" else width + 1
        i += 1
    return width, i


def _strip_quote(line: str) -> tuple[int, int]:
    """(blockquote depth, index where the quoted content starts)."""
    depth = 0
    pos = 0
    while True:
        width, first = _indent(line, pos)
        if width > 3 or first >= len(line) or line[first] != ">":
            return depth, pos
        depth += 1
        pos = first + 1
        if pos < len(line) and line[pos] == " ":
            pos += 1


def _rstrip_end(line: str, end: int) -> int:
    while end > 0 and line[end - 1] in " \t":
        end -= 1
    return end


def _split_row(line: str, start: int, end: int) -> list[_Segment] | None:
    """Cells of a pipe-table row as (start, end) pairs; ``\\|`` is not a separator. None: no pipe."""
    bounds: list[tuple[int, int]] = []
    cell_start = start
    i = start
    piped = False
    while i < end:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == "|":
            piped = True
            bounds.append((cell_start, i))
            cell_start = i + 1
        i += 1
    bounds.append((cell_start, end))
    if not piped:
        return None
    if line[start] == "|":
        bounds.pop(0)
    if bounds and bounds[-1][0] == end and end > start and line[end - 1] == "|":
        bounds.pop()
    cells: list[_Segment] = []
    for s, e in bounds:
        while s < e and line[s] in " \t":
            s += 1
        cells.append((-1, s, _rstrip_end(line, e) if e > s else s))
    return cells


class _Parser:
    """A line scanner that turns the draft into leaf blocks, blanking comments as it goes."""

    def __init__(self, markdown: str) -> None:
        starts = [0]
        ends = []
        for m in _LINE_BREAK.finditer(markdown):
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(markdown))
        if markdown.startswith("\ufeff"):
            starts[0] = 1
        self.index = _LineIndex(starts)
        # working copy: comments are overwritten with spaces, so columns never move
        self.lines = [markdown[s:e] for s, e in zip(starts, ends, strict=True)]
        self.directives: list[Directive] = []
        self.ref_labels: set[str] = set()
        self._no_close_from: tuple[int, int] | None = None

    # -- comments ---------------------------------------------------------------------------------------

    def _blank_comments(self, i: int) -> None:
        """Blank every closed ``<!-- -->`` starting on line ``i`` outside code spans; record directives."""
        pos = 0
        while True:
            line = self.lines[i]
            m = _COMMENT_OR_TICKS.search(line, pos)
            if m is None:
                return
            if m.group(0).startswith("`"):
                ticks = m.group(0)
                close = re.compile(rf"(?<!`){ticks}(?!`)").search(line, m.end())
                pos = close.end() if close else m.end()
                continue
            end = self._comment_end(i, m.end())
            if end is None:
                pos = m.end()
                continue
            end_i, end_pos = end
            body = "\n".join(
                self.lines[k][m.end() if k == i else 0 : end_pos - 3 if k == end_i else None]
                for k in range(i, end_i + 1)
            )
            self._record_directive(body, i, m.start(), end_i, end_pos)
            for k in range(i, end_i + 1):
                text = self.lines[k]
                s = m.start() if k == i else 0
                e = end_pos if k == end_i else len(text)
                self.lines[k] = text[:s] + " " * (e - s) + text[e:]
            if end_i != i:
                return
            pos = end_pos

    def _comment_end(self, i: int, pos: int) -> tuple[int, int] | None:
        if self._no_close_from is not None and (i, pos) >= self._no_close_from:
            return None
        for k in range(i, len(self.lines)):
            found = self.lines[k].find("-->", pos if k == i else 0)
            if found >= 0:
                return k, found + 3
        self._no_close_from = (i, pos)
        return None

    def _record_directive(self, body: str, i: int, start: int, end_i: int, end: int) -> None:
        kind: DirectiveKind
        verdict: str | None = None
        rest = ""
        if m := _DIRECTIVE_IGNORE.match(body):
            kind, rest = "ignore", m.group(1)
        elif m := _DIRECTIVE_EXPECT.match(body):
            kind, verdict, rest = "expect", m.group(1), m.group(2)
        elif _DIRECTIVE_LIKE.match(body):
            kind = "invalid"
        else:
            return
        codes = tuple(c for c in re.split(r"[\s,]+", rest.strip()) if c)
        if kind != "invalid" and not all(_CODE.fullmatch(c) for c in codes):
            kind, verdict = "invalid", None
        line, column = self.index.position(self.index.starts[i] + start)
        end_line, end_column = self.index.position(self.index.starts[end_i] + end)
        self.directives.append(
            Directive(
                kind,
                codes if kind != "invalid" else (),
                verdict,
                body.strip(),
                line,
                column,
                end_line,
                end_column,
            )
        )

    # -- blocks -----------------------------------------------------------------------------------------

    def parse(self) -> list[_Block]:
        lines = self.lines
        n = len(lines)
        blocks: list[_Block] = []
        leaf: _Block | None = None
        lists: list[int] = []  # content indents of the open list items, innermost last
        fence: tuple[str, int, int] | None = None  # (char, length, quote depth)
        quote = 0
        prev_blank = True

        def close() -> None:
            nonlocal leaf
            if leaf is not None and leaf.segments:
                blocks.append(leaf)
            leaf = None

        i = self._skip_front_matter()
        while i < n:
            if fence is not None:
                depth, cs = _strip_quote(lines[i]) if fence[2] else (0, 0)
                if depth >= fence[2]:
                    _, first = _indent(lines[i], cs)
                    rest = lines[i][first:].rstrip(" \t")
                    if len(rest) >= fence[1] and rest == fence[0] * len(rest):
                        fence = None
                    i += 1
                    continue
                fence = None
            self._blank_comments(i)
            line = lines[i]
            depth, cs = _strip_quote(line)
            width, first = _indent(line, cs)
            content = line[first:]
            blank = not content.strip()
            if depth != quote:
                lazy = (
                    depth == 0
                    and leaf is not None
                    and not prev_blank
                    and not blank
                    and not self._starts_block(content, width)
                )
                if lazy and leaf is not None:
                    leaf.segments.append((i, first, _rstrip_end(line, len(line))))
                    i += 1
                    continue
                close()
                lists = []
                quote = depth
            if blank:
                close()
                prev_blank = True
                i += 1
                continue
            base = next((c for c in reversed(lists) if width >= c), 0)
            rel = width - base
            para_open = leaf is not None and not prev_blank
            prev_blank = False
            if rel >= 4 and not para_open:
                i += 1  # indented code
                continue
            if rel <= 3 and (m := _FENCE.match(content)) and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                close()
                lists = [c for c in lists if width >= c]
                fence = (m.group(1)[0], len(m.group(1)), depth)
                i += 1
                continue
            if rel <= 3 and (m := _ATX.match(content)):
                close()
                lists = [c for c in lists if width >= c]
                s = first + m.end()
                e = _rstrip_end(line, len(line))
                closing = _ATX_CLOSING.search(line[s:e])  # on a slice: "^" must match at the content start
                if closing:
                    e = s + closing.start()
                blocks.append(_Block("heading", [(i, s, e)] if e > s else []))
                i += 1
                continue
            if (
                leaf is not None
                and para_open
                and leaf.kind == "paragraph"
                and rel <= 3
                and _SETEXT.match(content)
            ):
                leaf.kind = "heading"
                close()
                i += 1
                continue
            if rel <= 3 and _THEMATIC.match(content):
                close()
                lists = [c for c in lists if width >= c]
                i += 1
                continue
            if "|" in content and (table := self._table(i, first, depth)) is not None:
                close()
                lists = [c for c in lists if width >= c]
                blocks.append(table[0])
                i = table[1]
                prev_blank = True
                continue
            if (m := _LIST_MARKER.match(content)) and rel <= 3:
                nested = not lists or width >= lists[-1]
                empty = not content[m.end() :].strip()
                interrupts = para_open and (leaf is None or leaf.kind != "list_item" or nested)
                if not interrupts or (not empty and m.group(2) in (None, "1")):
                    close()
                    lists = [c for c in lists if width >= c]
                    spaces = m.group(3)
                    marker_end = first + len(m.group(1))
                    if empty or len(spaces.expandtabs(4)) > 4:
                        content_start = min(marker_end + 1, len(line))
                        lists.append(width + len(m.group(1)) + 1)
                    else:
                        content_start = marker_end + len(spaces)
                        lists.append(width + len(m.group(1)) + len(spaces.expandtabs(4)))
                    if task := _TASK.match(line, content_start):
                        content_start = task.end()
                    leaf = _Block("blockquote" if depth else "list_item")
                    end = _rstrip_end(line, len(line))
                    if end > content_start:
                        leaf.segments.append((i, content_start, end))
                    i += 1
                    continue
            if para_open and leaf is not None:
                leaf.segments.append((i, first, _rstrip_end(line, len(line))))
                i += 1
                continue
            close()
            lists = [c for c in lists if width >= c]
            if m := _REF_DEF.match(content):
                self.ref_labels.add(label_key(m.group(1)))
                prev_blank = True
                i += 1
                continue
            if note := _FOOTNOTE_DEF.match(content):  # the note's text is prose like any other
                first += note.end()
            kind: UnitKind = "blockquote" if depth else ("list_item" if lists else "paragraph")
            leaf = _Block(kind, [(i, first, _rstrip_end(line, len(line)))])
            i += 1
        close()
        return blocks

    def _skip_front_matter(self) -> int:
        if not self.lines or self.lines[0].lstrip("\ufeff").rstrip(" \t") != "---":
            return 0
        for k in range(1, len(self.lines)):
            if _FRONT_MATTER_END.match(self.lines[k]):
                return k + 1
        return 0

    @staticmethod
    def _starts_block(content: str, width: int) -> bool:
        if width > 3:
            return False
        return bool(
            _FENCE.match(content)
            or _ATX.match(content)
            or _THEMATIC.match(content)
            or content.startswith(">")
            or ((m := _LIST_MARKER.match(content)) and content[m.end() :].strip())
        )

    def _table(self, i: int, first: int, depth: int) -> tuple[_Block, int] | None:
        """A GFM pipe table whose header row is line ``i``: (block, index of the line after it)."""
        lines = self.lines
        if i + 1 >= len(lines):
            return None
        self._blank_comments(i + 1)
        d_depth, d_cs = _strip_quote(lines[i + 1])
        if d_depth != depth:
            return None
        _, d_first = _indent(lines[i + 1], d_cs)
        delim = lines[i + 1][d_first:]
        if "|" not in delim or not _DELIM_ROW.match(delim):
            return None
        header = _split_row(lines[i], first, _rstrip_end(lines[i], len(lines[i])))
        delim_cells = _split_row(lines[i + 1], d_first, _rstrip_end(lines[i + 1], len(lines[i + 1])))
        if header is None or delim_cells is None or len(header) != len(delim_cells):
            return None
        block = _Block("table_cell", header=[(i, s, e) for _, s, e in header])
        k = i + 2
        while k < len(lines):
            self._blank_comments(k)
            r_depth, r_cs = _strip_quote(lines[k])
            width, r_first = _indent(lines[k], r_cs)
            content = lines[k][r_first:]
            if (
                r_depth != depth
                or not content.strip()
                or (self._starts_block(content, width) and "|" not in content)
            ):
                break
            cells = _split_row(lines[k], r_first, _rstrip_end(lines[k], len(lines[k])))
            if cells is None:
                cells = [(-1, r_first, _rstrip_end(lines[k], len(lines[k])))]
            block.rows.append([(k, s, e) for _, s, e in cells[: len(header)]])
            k += 1
        block.segments = [seg for row in block.rows for seg in row]
        return block, k


def _raw(parser: _Parser, segments: list[_Segment]) -> tuple[str, list[int]]:
    """The segments' characters joined by newlines, with each character's source offset."""
    parts: list[str] = []
    offs: list[int] = []
    starts = parser.index.starts
    for k, (li, s, e) in enumerate(segments):
        if k:
            prev_li, _, prev_e = segments[k - 1]
            parts.append("\n")
            offs.append(starts[prev_li] + prev_e)
        parts.append(parser.lines[li][s:e])
        offs.extend(range(starts[li] + s, starts[li] + e))
    return "".join(parts), offs


def _make_unit(
    parser: _Parser,
    kind: UnitKind,
    inl: Inline,
    start: int,
    end: int,
    block: int,
    section: str | None,
    header: str | None = None,
    row_label: str | None = None,
) -> Unit | None:
    while start < end and inl.text[start] == " ":
        start += 1
    while end > start and inl.text[end - 1] == " ":
        end -= 1
    text = inl.text[start:end]
    if not any(c.isalnum() for c in text):
        return None
    line, column = parser.index.position(inl.offsets[start])
    end_line, last = parser.index.position(inl.offsets[end - 1])
    # code spans are sorted and disjoint: bisect for the ones overlapping [start, end)
    lo = bisect_right(inl.span_ends, start)
    hi = bisect_left(inl.span_starts, end)
    spans = tuple((max(s, start) - start, min(e, end) - start) for s, e in inl.code_spans[lo:hi])
    return Unit(
        kind=kind,
        text=text,
        line=line,
        column=column,
        end_line=end_line,
        end_column=last + 1,
        block=block,
        section=section,
        table_header=header,
        row_label=row_label,
        code_spans=spans,
        offsets=tuple(inl.offsets[start:end]),
        _index=parser.index,
    )


def _emit_units(parser: _Parser, blocks: list[_Block]) -> list[Unit]:
    units: list[Unit] = []
    section: str | None = None
    labels = parser.ref_labels
    for number, block in enumerate(blocks):
        if block.kind == "table_cell":
            headers = [strip_inline(*_raw(parser, [seg]), labels, table=True).text for seg in block.header]
            for row in block.rows:
                cells = [strip_inline(*_raw(parser, [seg]), labels, table=True) for seg in row]
                label = cells[0].text if cells else None
                for col, cell in enumerate(cells):
                    unit = _make_unit(
                        parser, "table_cell", cell, 0, len(cell.text), number, section, headers[col], label
                    )
                    if unit is not None:
                        units.append(unit)
            continue
        inl = strip_inline(*_raw(parser, block.segments), labels)
        if block.kind == "heading":
            unit = _make_unit(parser, "heading", inl, 0, len(inl.text), number, section)
            if unit is not None:
                section = unit.text
                units.append(unit)
            continue
        for start, end in sentence_spans(inl.text, inl.code_spans):
            unit = _make_unit(parser, block.kind, inl, start, end, number, section)
            if unit is not None:
                units.append(unit)
    return units
