"""The answer's JSON schema: ``Prose`` in the strict subset OpenAI structured outputs accept, narrowed to
one brief.

Derived from the pydantic model so the two cannot drift, then made strict (every property required,
``additionalProperties: false`` on every object, no ``title``/``default``, ``$ref`` inlined because some
OpenAI-compatible servers' grammar compilers handle references poorly) and bounded: ``maxItems`` and
``maxLength`` keep a small model from rambling until the token limit, and enums limit section keys and
cited ids to the brief's own, so a server that honours the schema cannot cite an unknown finding. The
client validates the answer anyway (``answer.py``): servers that ignore ``response_format`` exist.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from reportgen.report.writing import Brief, Prose

_DROPPED_KEYWORDS = ("title", "default")


@dataclass(frozen=True)
class Limits:
    """Size bounds of one answer, stated in the prompt and enforced by the schema."""

    paragraphs_per_section: int = 3
    paragraph_chars: int = 1200
    recommendations: int = 6
    recommendation_title_chars: int = 120
    recommendation_chars: int = 600
    cites: int = 8

    def shorter(self) -> Limits:
        """Tighter bounds for the re-ask after an answer was cut off at the completion-token limit."""
        return Limits(
            paragraphs_per_section=max(1, self.paragraphs_per_section - 1),
            paragraph_chars=max(300, self.paragraph_chars // 2),
            recommendations=max(1, self.recommendations // 2),
            recommendation_title_chars=self.recommendation_title_chars,
            recommendation_chars=max(200, self.recommendation_chars // 2),
            cites=self.cites,
        )


def prose_schema(brief: Brief, limits: Limits, ordered: bool = False) -> dict[str, Any]:
    """The strict JSON schema of ``Prose`` for this brief and these limits.

    ``ordered`` turns ``sections`` into a fixed sequence, one ``prefixItems`` entry per brief section
    with its key as a ``const``: a grammar-constrained server (llama.cpp) then cannot repeat or skip a
    section. OpenAI's strict mode does not take ``prefixItems``, hence the default."""
    root = Prose.model_json_schema()
    schema = _strict(_inline(root, root.get("$defs", {})))
    ids = sorted(brief.finding_ids())
    keys = [s.key for s in brief.sections]

    sections = schema["properties"]["sections"]
    sections["minItems"] = sections["maxItems"] = len(keys)
    section = sections["items"]["properties"]
    if keys:
        section["key"]["enum"] = keys
    section["paragraphs"]["maxItems"] = limits.paragraphs_per_section
    paragraph = section["paragraphs"]["items"]["properties"]
    paragraph["text"]["maxLength"] = limits.paragraph_chars
    _bound_cites(paragraph["cites"], ids, limits)

    recommendations = schema["properties"]["recommendations"]
    # A recommendation must cite a finding (minItems 1), so a brief without findings allows none.
    recommendations["maxItems"] = limits.recommendations if ids else 0
    recommendation = recommendations["items"]["properties"]
    recommendation["title"]["maxLength"] = limits.recommendation_title_chars
    recommendation["text"]["maxLength"] = limits.recommendation_chars
    _bound_cites(recommendation["cites"], ids, limits)
    if ordered:
        item = sections.pop("items")
        # minItems = maxItems = len(keys) already bounds the sequence; llama.cpp rejects "items": false
        sections["prefixItems"] = [_with_key(item, key) for key in keys]
    return schema


def _with_key(section: dict[str, Any], key: str) -> dict[str, Any]:
    """The section item schema with ``key`` fixed to one value."""
    fixed = copy.deepcopy(section)
    fixed["properties"]["key"] = {"type": "string", "const": key}
    return fixed


def _bound_cites(cites: dict[str, Any], ids: list[str], limits: Limits) -> None:
    cites["maxItems"] = limits.cites if ids else 0
    if ids:
        cites["items"]["enum"] = ids


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/X"}`` replaced by a copy of X (Prose has no recursion)."""
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _inline(copy.deepcopy(defs[ref.rsplit("/", 1)[-1]]), defs)
    return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}


def _strict(node: Any) -> Any:
    """``node`` made strict: all properties required, no extra properties, no unsupported keywords."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":  # a map of property names (one may be called "title"), not keywords
            out[key] = {name: _strict(prop) for name, prop in value.items()}
        elif key not in _DROPPED_KEYWORDS:
            out[key] = _strict(value)
    if out.get("type") == "object":
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out
