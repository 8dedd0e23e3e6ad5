"""Splitting a Markdown draft into checkable units with exact source positions."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.factcheck.markdown import Unit, find_directives, split, split_units

SEED_000 = Path(__file__).parents[2].parent / "shared" / "seeds" / "000_9ab8bf534450d193.txt"


def position(source: str, offset: int) -> tuple[int, int]:
    """(line, column) of a source offset, computed independently of the module."""
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]
    line = max(i for i, s in enumerate(line_starts) if s <= offset)
    return line + 1, offset - line_starts[line] + 1


def assert_exact(source: str, unit: Unit) -> None:
    """Every unit character is the source character it maps to (a space may stand for any whitespace)."""
    offsets = [unit.source_offset(k) for k in range(len(unit.text))]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    for k, ch in enumerate(unit.text):
        if ch == " ":  # stands for whitespace, a line break or a removed comment
            off = offsets[k]
            assert off == len(source) or source[off].isspace() or source.startswith("<!--", off)
        else:
            assert source[offsets[k]] == ch, (unit, k)
    assert (unit.line, unit.column) == position(source, offsets[0])
    end_line, last_column = position(source, offsets[-1])
    assert (unit.end_line, unit.end_column) == (end_line, last_column + 1)


def one(units: list[Unit], needle: str) -> Unit:
    found = [u for u in units if needle in u.text]
    assert len(found) == 1, [u.text for u in units]
    return found[0]


# -------------------------------------------------------------------------------------------- the seed report


@pytest.fixture
def seed() -> str:
    if not SEED_000.is_file():
        pytest.skip("../shared/seeds is not beside this checkout")
    return SEED_000.read_text(encoding="utf-8")


def test_seed_table_cell_carries_row_and_column(seed: str) -> None:
    units = split_units(seed)
    cells = [u for u in units if u.kind == "table_cell" and u.row_label == "nan_or_inf_metric"]
    assert [(u.table_header, u.text) for u in cells] == [
        ("Issue Type", "nan_or_inf_metric"),
        ("Count", "2"),
        ("Example Trial IDs", "2, 4"),
    ]
    ids = cells[2]
    assert (ids.line, ids.column, ids.end_line, ids.end_column) == (11, 27, 11, 31)
    count = cells[1]
    assert (count.line, count.column, count.end_column) == (11, 23, 24)
    assert len([u for u in units if u.kind == "table_cell"]) == 9  # header cells are not units


def test_seed_heading_is_a_claim(seed: str) -> None:
    units = split_units(seed)
    heading = one(units, "Frequently Leads to NaN Loss")
    assert heading.kind == "heading"
    assert heading.text == "Learning Rate above 0.01 Frequently Leads to NaN Loss"
    assert (heading.line, heading.column, heading.end_line, heading.end_column) == (17, 5, 17, 58)
    below = one(units, "For example, trial_id 2")
    assert below.section == heading.text


def test_seed_sentence_and_number_position(seed: str) -> None:
    units = split_units(seed)
    sentence = one(units, "Specifically, trial_id 3")
    assert sentence.kind == "paragraph"
    assert sentence.text == (
        "Specifically, trial_id 3 had a weight decay of 0.0 and an extremely high "
        "val_loss/train_loss ratio of 5.33, indicating strong overfitting."
    )
    assert (sentence.line, sentence.column) == (30, 113)
    assert sentence.source_position(sentence.text.index("5.33")) == (30, 215)
    assert sentence.source_span(sentence.text.index("5.33"), sentence.text.index("5.33") + 4) == (
        30,
        215,
        30,
        219,
    )
    [first] = [u for u in units if u.line == 30 and u.text.startswith("The issue with zero weight decay")]
    assert first.block == sentence.block and first.kind == "paragraph" and first.line == 30


def test_seed_code_intervals_are_text_and_spans(seed: str) -> None:
    units = split_units(seed)
    sentence = one(units, "Specifically, buckets (0.01, 0.02]")
    k = sentence.text.index("(0.005, 0.01]")
    assert (k, k + len("(0.005, 0.01]")) in sentence.code_spans
    assert sentence.source_position(k) == (18, 145)
    assert sentence.text.endswith("consistently experiencing NaN loss.")


def test_seed_list_items_split_into_sentences(seed: str) -> None:
    units = split_units(seed)
    lead = one(units, "Avoid learning rates above 0.01: The correlation")
    assert lead.kind == "list_item" and (lead.line, lead.column) == (37, 5)  # after "- **"
    second = one(units, "Avoid setting learning rates above 0.01 to prevent NaN loss.")
    assert second.block == lead.block
    assert one(units, "e.g., 0.0001, to prevent overfitting").text.startswith("Use a non-zero weight decay")


def test_seed_every_unit_maps_exactly(seed: str) -> None:
    units = split_units(seed)
    assert len(units) == 47
    for unit in units:
        assert_exact(seed, unit)


# -------------------------------------------------------------------------------------------- prose


def test_wrapped_paragraph_sentences_span_lines() -> None:
    md = "First claim wraps\nover two lines. Second claim\nwraps too.\nThird on its own line.\n"
    units = split_units(md)
    assert [u.text for u in units] == [
        "First claim wraps over two lines.",
        "Second claim wraps too.",
        "Third on its own line.",
    ]
    assert [(u.line, u.column, u.end_line, u.end_column) for u in units] == [
        (1, 1, 2, 16),
        (2, 17, 3, 11),
        (4, 1, 4, 23),
    ]
    assert len({u.block for u in units}) == 1
    for unit in units:
        assert_exact(md, unit)


@pytest.mark.parametrize(
    ("md", "count"),
    [
        ("The lr was 0.01. The loss was 5.33.", 2),
        ("Use a decay, e.g. Adam with 0.01 works. Next.", 2),
        ("Runs i.e. Trial 2 and vs. Trial 4 were approx. Equal. Fig. 3 shows it.", 2),
        ("Bucket (0.005, 0.01] has rate 1.0. Bucket [0.01, 0.02) has rate 0.5.", 2),
        ("Inline `a. B` code stays. Done!", 2),
        ("Is it stable? Yes! It is.", 3),
        ("lower case after dot. stays one unit", 1),
        ("Results (see Sec. 2. Also Table 3.) hold. Next one.", 2),
        ("Smith J. Doe wrote it. Ok.", 2),
        ('He said "It diverged." Then it stopped.', 2),
        ("学習率は高い。損失はNaN。", 2),
    ],
)
def test_sentence_splitting(md: str, count: int) -> None:
    units = split_units(md)
    assert len(units) == count, [u.text for u in units]
    for unit in units:
        assert_exact(md, unit)


def test_numbers_are_not_split() -> None:
    [unit] = split_units("A ratio of 5.33 and a rate of 0.01 and 1e-3 and 48.65% hold")
    assert unit.text == "A ratio of 5.33 and a rate of 0.01 and 1e-3 and 48.65% hold"


def test_markup_is_stripped_with_positions_kept() -> None:
    md = "**Bold** claim with `lr` = *0.01* and __x__ and [a link](http://x.org/a_(b)) ![img](p.png) end.\n"
    [unit] = split_units(md)
    assert unit.text == "Bold claim with lr = 0.01 and x and a link img end."
    assert (unit.line, unit.column) == (1, 3)
    k = unit.text.index("0.01")
    assert unit.source_position(k) == (1, md.index("0.01") + 1)
    assert unit.source_position(unit.text.index("lr")) == (1, md.index("lr") + 1)
    assert unit.code_spans == ((unit.text.index("lr"), unit.text.index("lr") + 2),)
    assert unit.source_position(unit.text.index("link")) == (1, md.index("link") + 1)
    assert_exact(md, unit)


def test_markup_that_is_not_markup_stays() -> None:
    md = (
        "The nan_or_inf_metric count is 2 * 3 and ~5 runs, trial_id 4, val_loss/train_loss, a\\*b, ``a`b``.\n"
    )
    [unit] = split_units(md)
    assert (
        unit.text
        == "The nan_or_inf_metric count is 2 * 3 and ~5 runs, trial_id 4, val_loss/train_loss, a*b, a`b."
    )
    assert_exact(md, unit)


def test_references_footnotes_html_and_strikethrough() -> None:
    md = (
        "See [the docs][d] and [d] and <https://x.org> or <b>bold</b> and ~~old~~ text[^1].\n\n"
        "[d]: https://example.org\n[^1]: A footnote about 3 runs.\n"
    )
    units = split_units(md)
    assert units[0].text == "See the docs and d and https://x.org or bold and old text."
    assert [u.text for u in units[1:]] == ["A footnote about 3 runs."]
    for unit in units:
        assert_exact(md, unit)


# -------------------------------------------------------------------------------------------- blocks


def test_lists_nested_numbered_and_all_markers() -> None:
    md = (
        "* star item. Second sentence.\n"
        "- dash item\n"
        "  wrapped on.\n"
        "    - nested item\n"
        "+ plus item\n"
        "\n"
        "1. first\n"
        "2) second\n"
        "   continued paragraph of second\n"
        "\n"
        "   Another paragraph of second.\n"
        "- [x] done task\n"
        "\n"
        "Back to prose in\n"
        "2019. Then more.\n"
    )
    units = split_units(md)
    assert [(u.kind, u.text) for u in units] == [
        ("list_item", "star item."),
        ("list_item", "Second sentence."),
        ("list_item", "dash item wrapped on."),
        ("list_item", "nested item"),
        ("list_item", "plus item"),
        ("list_item", "first"),
        ("list_item", "second continued paragraph of second"),
        ("list_item", "Another paragraph of second."),
        ("list_item", "done task"),
        ("paragraph", "Back to prose in 2019."),
        ("paragraph", "Then more."),
    ]
    nested = units[3]
    assert (nested.line, nested.column) == (4, 7)
    for unit in units:
        assert_exact(md, unit)


def test_headings_atx_setext_and_closing_hashes() -> None:
    md = (
        "# Title ##\n\n# ##\n\nSetext heading\nwith two lines\n===\n\nText\n---\n\n"
        "####### not a heading\n#5 not either\n"
    )
    units = split_units(md)
    assert [(u.kind, u.text) for u in units] == [
        ("heading", "Title"),
        ("heading", "Setext heading with two lines"),
        ("heading", "Text"),
        ("paragraph", "####### not a heading #5 not either"),
    ]
    assert (units[1].line, units[1].end_line) == (5, 6)
    assert units[3].section == "Text"


def test_blockquotes() -> None:
    md = "> Quoted claim one. Quoted\n> claim two.\nlazy line.\n>\n> - quoted item\n\nAfter.\n"
    units = split_units(md)
    assert [(u.kind, u.text) for u in units] == [
        ("blockquote", "Quoted claim one."),
        ("blockquote", "Quoted claim two. lazy line."),
        ("blockquote", "quoted item"),
        ("paragraph", "After."),
    ]
    assert (units[1].line, units[1].column, units[1].end_line) == (1, 21, 3)
    for unit in units:
        assert_exact(md, unit)


def test_table_escaped_pipes_no_outer_pipes_alignment() -> None:
    md = (
        "Run | Note | lr\n"
        ":--- | :---: | ---:\n"
        "trial 2 | a \\| b | **0.01**\n"
        "trial 4 | `x \\| y` |\n"
        "trial 5 | c | 0.1 | extra\n"
        "\n"
        "After the table.\n"
    )
    units = split_units(md)
    cells = [u for u in units if u.kind == "table_cell"]
    assert [(u.row_label, u.table_header, u.text) for u in cells] == [
        ("trial 2", "Run", "trial 2"),
        ("trial 2", "Note", "a | b"),
        ("trial 2", "lr", "0.01"),
        ("trial 4", "Run", "trial 4"),
        ("trial 4", "Note", "x | y"),
        ("trial 5", "Run", "trial 5"),
        ("trial 5", "Note", "c"),
        ("trial 5", "lr", "0.1"),
    ]
    lr = cells[2]
    assert (lr.line, lr.column, lr.end_column) == (3, 22, 26)
    assert units[-1].kind == "paragraph"
    for unit in units:
        assert_exact(md, unit)


def test_table_after_paragraph_without_blank_line_and_non_tables() -> None:
    md = "Here is the table:\n| a | b |\n|---|---|\n| x | 1 |\n\nA | B without delimiter row.\n"
    units = split_units(md)
    assert [(u.kind, u.text) for u in units] == [
        ("paragraph", "Here is the table:"),
        ("table_cell", "x"),
        ("table_cell", "1"),
        ("paragraph", "A | B without delimiter row."),
    ]
    mismatch = "| a | b |\n|---|\n| 1 | 2 |\n"
    assert {u.kind for u in split_units(mismatch)} == {"paragraph"}


def test_code_is_skipped() -> None:
    md = (
        "Before.\n"
        "```python\n"
        "x = 0.01. Not prose.\n"
        "```\n"
        "~~~~\n"
        "```\n"
        "still code\n"
        "~~~~\n"
        "\n"
        "    indented code 0.5\n"
        "\n"
        "- item\n"
        "  ```\n"
        "  code in item\n"
        "  ```\n"
        "After.\n"
        "```\n"
        "unclosed fence runs to the end\n"
    )
    assert [u.text for u in split_units(md)] == ["Before.", "item", "After."]


def test_front_matter_is_skipped() -> None:
    md = "---\ntitle: A Claim. Not checked.\n---\n# Heading\n"
    assert [u.text for u in split_units(md)] == ["Heading"]
    no_close = "---\nNot front matter.\n"
    assert [u.text for u in split_units(no_close)] == ["Not front matter."]


def test_thematic_breaks_and_reference_definitions_are_not_units() -> None:
    md = "* * *\n\n___\n\n[ref]: https://x.org 'Title'\n\nText.\n"
    assert [u.text for u in split_units(md)] == ["Text."]


# -------------------------------------------------------------------------------------------- directives


def test_directives_found_and_comments_stripped() -> None:
    md = (
        "<!-- reportgen: ignore FCT002, FCT003 -->\n"
        "Trials with lr above 0.01 diverged. <!-- expect: contradicted -->\n"
        "<!-- a plain comment with a Claim. -->\n"
        "<!--\nexpect: supported FCT001\n-->\n"
        "<!-- reportgen: ignore -->\n"
        "<!-- reportgen: ignor FCT002 -->\n"
        "<!-- expect: maybe -->\n"
        "`<!-- reportgen: ignore X001 -->` is code.\n"
        "```\n<!-- reportgen: ignore FCT009 -->\n```\n"
        "<!-- unclosed comment stays text\n"
    )
    directives = find_directives(md)
    assert [(d.kind, d.codes, d.verdict, d.line, d.column) for d in directives] == [
        ("ignore", ("FCT002", "FCT003"), None, 1, 1),
        ("expect", (), "contradicted", 2, 37),
        ("expect", ("FCT001",), "supported", 4, 1),
        ("ignore", (), None, 7, 1),
        ("invalid", (), None, 8, 1),
        ("invalid", (), None, 9, 1),
    ]
    assert (directives[1].end_line, directives[1].end_column) == (2, 66)
    assert (directives[2].end_line, directives[2].end_column) == (6, 4)
    units = split_units(md)
    assert [u.text for u in units] == [
        "Trials with lr above 0.01 diverged.",
        "<!-- reportgen: ignore X001 --> is code.",
        "<!-- unclosed comment stays text",
    ]
    assert split(md).directives == directives


# -------------------------------------------------------------------------------------------- encodings


def test_crlf_and_cr_line_endings() -> None:
    md = "# Title\r\n\r\nA wrapped\r\nclaim of 0.01. Next one.\r\n| a | b |\r\n|---|---|\r\n| x | 5 |\r\n"
    units = split_units(md)
    assert [(u.kind, u.text, u.line, u.column) for u in units] == [
        ("heading", "Title", 1, 3),
        ("paragraph", "A wrapped claim of 0.01.", 3, 1),
        ("paragraph", "Next one.", 4, 16),
        ("table_cell", "x", 7, 3),
        ("table_cell", "5", 7, 7),
    ]
    assert units[1].source_position(units[1].text.index("0.01")) == (4, 10)
    for unit in units:
        assert_exact(md, unit)
    assert [(u.text, u.line, u.column) for u in split_units(md.replace("\r\n", "\r"))] == [
        (u.text, u.line, u.column) for u in units
    ]


def test_unicode_columns_count_characters() -> None:
    md = "Le modèle é 漢字 😀 a un taux de 0.5. **Très** bien 🎉 0.25.\n| 漢字 | 😀 |\n|---|---|\n| é | 7 |\n"
    units = split_units(md)
    first = units[0]
    assert first.source_position(first.text.index("0.5")) == (1, md.index("0.5") + 1) == (1, 31)
    second = units[1]
    assert second.text == "Très bien 🎉 0.25."
    assert (second.line, second.column) == (1, 38)
    assert second.source_position(second.text.index("0.25")) == (1, md.index("0.25") + 1)
    cell = units[-1]
    assert (cell.text, cell.table_header, cell.row_label, cell.column) == ("7", "😀", "é", 7)
    for unit in units:
        assert_exact(md, unit)


def test_byte_order_mark_is_not_a_column() -> None:
    [unit] = split_units("\ufeffClaim.\n")
    assert (unit.line, unit.column) == (1, 1)


# -------------------------------------------------------------------------------------------- api edges


def test_source_position_bounds() -> None:
    [unit] = split_units("Claim 12.\n")
    assert unit.source_position(len(unit.text)) == (1, 10)
    with pytest.raises(IndexError):
        unit.source_position(len(unit.text) + 1)
    with pytest.raises(IndexError):
        unit.source_span(3, 3)


@pytest.mark.parametrize("md", ["", "\n\n", "   ", "***", "|", "- ", "#", "> ", "```", "<!--", "[", "`", "*"])
def test_degenerate_input(md: str) -> None:
    assert split_units(md) == []


# -------------------------------------------------------------------------------------------- properties

_MARKDOWNISH = st.lists(
    st.sampled_from(
        [*"aZ1 .#*_`[]()|-\\>!:\n\r\t<!-~é漢😀=+0^", "<!--", "-->", "```", "\r\n", "    ", "- ", "1. "]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "400")), deadline=None)
@given(st.one_of(st.text(max_size=200), _MARKDOWNISH))
def test_arbitrary_text_maps_exactly(md: str) -> None:
    draft = split(md)
    for unit in draft.units:
        assert unit.text and unit.text == unit.text.strip()
        assert_exact(md, unit)
        # the source between the reported positions holds the unit's first word, markup aside
        start, end = unit.source_offset(0), unit.source_offset(len(unit.text))
        span = iter(md[start:end])
        assert all(ch in span for ch in unit.text.split(" ")[0])
        for s, e in unit.code_spans:
            assert 0 <= s < e <= len(unit.text)
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", md)]
    for directive in draft.directives:
        assert md.startswith("<!--", line_starts[directive.line - 1] + directive.column - 1)


# -------------------------------------------------------------------------------------------- speed


def test_thousand_claim_draft_splits_fast() -> None:
    row = "| trial_{i} | {i} | 0.0{i} |\n"
    parts = ["# Sweep report\n\n| Run | Epochs | lr |\n| --- | --- | --- |\n"]
    parts += [row.format(i=i) for i in range(100)]
    for i in range(300):
        parts.append(
            f"\n## Finding {i}: learning rate above 0.01 leads to NaN loss\n"
            f"Trial_id {i} had a **learning rate** of `0.01` and a val_loss/train_loss ratio\n"
            f"of 5.{i:02d}, e.g. above the (0.005, 0.01] bucket. Runs above 0.01 diverged in 48.65%.\n"
            f"- Batch size {i} led to *longer* runs, i.e. about 2.5 hours more. See [the table](#t).\n"
            f"- Weight decay of 0.0 on trial {i} gave overfitting_suspect with ratio inf.\n"
        )
    md = "".join(parts)
    assert len(md) > 90_000
    started = time.perf_counter()
    units = split_units(md)
    elapsed = time.perf_counter() - started
    assert len(units) >= 1_000
    assert elapsed < 1.0, f"{elapsed:.3f} s"  # measured ~0.1 s; the bound only catches a quadratic regression


@pytest.mark.parametrize(
    "md",
    [
        "[x " * 20_000,  # unmatched brackets
        "a ` b " * 10_000,  # unmatched backticks
        "_a " * 10_000 + "b* " * 10_000,  # openers of one kind, closers of another
        "Claim `x` (a) holds. " * 3_000,  # many code spans and brackets in one paragraph
        "(" * 20_000 + "x. Y" + ")" * 20_000,  # deep nesting
        "<!-- x\n" * 5_000,  # unclosed comments
    ],
    ids=["brackets", "backticks", "emphasis", "spans", "nesting", "comments"],
)
def test_hostile_input_stays_linear(md: str) -> None:
    started = time.perf_counter()
    split(md)
    assert time.perf_counter() - started < 1.0  # each runs in ~0.05 s; quadratic behaviour takes seconds
