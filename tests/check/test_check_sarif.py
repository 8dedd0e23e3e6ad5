"""`--format sarif` validates against the official SARIF 2.1.0 schema (vendored, see schemas/README.md) and
carries rules, levels, locations, fixes and suppressions as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reportgen import __version__
from reportgen.cli.main import main
from reportgen.render.check_sarif import artifact_uri
from tests.conftest import REPO

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
DRAFT = "tests/check/drafts/seed000_review.md"
SWEEP = ["--sweep", "fixtures/seed000/runs.csv", "--history", "fixtures/seed000/history.csv"]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def sarif(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    monkeypatch.chdir(REPO)
    main(["check", DRAFT, *SWEEP, "--format", "sarif", *extra])
    return json.loads(capsys.readouterr().out)


def test_the_schema_rejects_a_broken_log(validator: jsonschema.Draft4Validator) -> None:
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})


@pytest.mark.parametrize("extra", [(), ("--show-supported",)])
def test_valid_sarif(validator, monkeypatch, capsys, extra: tuple[str, ...]) -> None:
    log = sarif(monkeypatch, capsys, *extra)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


def test_rules_results_fixes_and_suppressions(monkeypatch, capsys) -> None:
    log = sarif(monkeypatch, capsys)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("reportgen", __version__)
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(rule_ids) and {"FCT002", "FCT003", "FCT010", "FCT090", "FCT091"} <= set(
        rule_ids
    )
    results = run["results"]
    assert all(driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert {r["level"] for r in results} == {"error", "warning"}  # supported claims are left out
    first = results[0]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == DRAFT
    assert location["region"] == {
        "startLine": 3,
        "startColumn": 52,
        "endLine": 3,
        "endColumn": 55,
        "snippet": {"text": "5.4"},
    }
    [change] = first["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "startColumn": 52, "endLine": 3, "endColumn": 55},
            "insertedContent": {"text": "5.3"},
        }
    ]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 2 and all(r["suppressions"] == [{"kind": "inSource"}] for r in suppressed)
    assert run["columnKind"] == "unicodeCodePoints"


def test_supported_claims_are_passes_when_shown(monkeypatch, capsys) -> None:
    results = sarif(monkeypatch, capsys, "--show-supported")["runs"][0]["results"]
    passes = [r for r in results if r.get("kind") == "pass"]
    assert len(passes) == 4 and all(r["level"] == "none" for r in passes)


def test_artifact_uri() -> None:
    assert artifact_uri("docs/report draft.md") == "docs/report%20draft.md"
    assert artifact_uri("/abs/r.md") == "file:///abs/r.md"
