"""Table cells as text: each format's rules, and the property the fact-checker relies on: a shown number,
read back at its stated precision, contains the raw value (and a non-zero value never reads as zero)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen.factcheck.numbers import parse_numbers
from reportgen.render.report_format import format_cell


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (12000, "int", "12000"),
        (1000.0, "int", "1000"),
        (3.7, "int", "3.7"),  # not "4": a bare integer would claim exactly 4
        (0.0099, "float2", "0.0099"),  # significant digits, never "0.01" or "0.00"
        (0.012345, "float4", "0.01235"),
        (2.0, "float4", "2.000"),  # trailing zeros are stated digits
        (123.4, "float3", "123.4"),  # not "123", which reads as exact
        (12345.6, "float3", "1.23e4"),
        (12345.0, "float3", "12345"),  # integral: shown whole rather than rounded away
        (-0.0, "float3", "0.00"),
        (5, "float3", "5"),  # a Python int is exact under any format
        (0.4867, "percent1", "48.7%"),
        (0.00004, "percent1", "0.004%"),  # not "0.0%": only exactly 0 shows as zero
        (0.9996, "percent1", "99.96%"),  # not "100.0%": only exactly 1 shows as all
        (1.0, "percent1", "100.0%"),
        (0.0, "percent0", "0%"),
        (1.234e-4, "sci", "1.23e-4"),
        (2.5e-7, "sci2", "2.5e-7"),
        (1e-05, "auto", "1e-5"),
        (0.0003, "auto", "0.0003"),
        (1e300, "auto", "1e300"),
        (1200.0, "auto", "1200"),
        (0.1 + 0.2, "text", "0.30000000000000004"),  # inputs are shown as given, to the last digit
        ("adamw", "float3", "adamw"),
        (True, "int", "True"),
        (None, "percent1", "\u2014"),
        (math.nan, "float3", "nan"),
        (math.inf, "percent1", "inf"),
        (-math.inf, "sci", "-inf"),
    ],
)
def test_each_format(value: object, fmt: str, shown: str) -> None:
    assert format_cell(value, fmt) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fmt", ["float", "percent", "int2", "text1", "float0", "float18", "pct1", "", "Float3"]
)
def test_unknown_formats_are_refused(fmt: str) -> None:
    with pytest.raises(ValueError, match="format"):
        format_cell(1.0, fmt)


NUMERIC_FORMATS = ["int", "auto", "text", "sci", "sci2", "sci5", "percent0", "percent1", "percent3"] + [
    f"float{n}" for n in range(1, 8)
]
reals = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-12, max_value=1e12),
    st.floats(min_value=-1e12, max_value=-1e-12),
    st.integers(min_value=-(10**9), max_value=10**9).map(float),
    st.integers(min_value=0, max_value=1000).map(lambda k: k / 1000),  # rates with exact-looking decimals
)


@given(value=reals, fmt=st.sampled_from(NUMERIC_FORMATS))
def test_shown_numbers_read_back_at_their_precision(value: float, fmt: str) -> None:
    text = format_cell(value, fmt)
    spans = parse_numbers(text)
    assert len(spans) == 1, (text, spans)
    span = spans[0]
    assert span.is_percent == fmt.startswith("percent")
    tolerance = span.half_width * (1 + 1e-9) + abs(value) * 1e-15
    assert abs(span.value - value) <= tolerance, (value, fmt, text, span)
    if value != 0:
        assert span.value != 0, (value, fmt, text)
    if fmt.startswith("percent") and value != 1:
        assert span.value != 1, (value, fmt, text)
