"""`reportgen check` on the command line: exit codes, input errors, outputs, one sweep load for drafts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.cli.main import main
from tests.conftest import FIXTURES, REPO

SEED = FIXTURES / "seed000"
SWEEP = ["--sweep", str(SEED / "runs.csv"), "--history", str(SEED / "history.csv")]
CONTRADICTED = "Trial 4 used a learning rate of 0.03.\n"
SUPPORTED = "Trial 0 used a learning rate of 0.001.\n"
UNVERIFIABLE = "A learning rate of 0.01 is a good default.\n"


def draft(tmp_path: Path, text: str, name: str = "draft.md") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args: str) -> int:
    return main(["check", *args, *SWEEP])


def test_exit_0_when_every_claim_is_supported(tmp_path: Path, capsys) -> None:
    assert run(draft(tmp_path, SUPPORTED)) == 0
    out = capsys.readouterr().out
    assert "0 contradicted" in out and "1 supported (hidden" in out


def test_exit_1_on_contradicted_unless_exit_zero(tmp_path: Path, capsys) -> None:
    path = draft(tmp_path, CONTRADICTED)
    assert run(path) == 1
    assert run(path, "--exit-zero") == 0
    assert run(path, "--fail-on", "unverifiable") == 1


def test_fail_on_unverifiable(tmp_path: Path) -> None:
    path = draft(tmp_path, UNVERIFIABLE)
    assert run(path) == 0
    assert run(path, "--fail-on", "unverifiable") == 1
    assert run(path, "--fail-on", "unverifiable", "--exit-zero") == 0


def test_suppressed_claims_do_not_fail(tmp_path: Path) -> None:
    path = draft(tmp_path, CONTRADICTED.rstrip() + " <!-- reportgen: ignore FCT002 -->\n")
    assert run(path) == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such draft file"), (b"caf\xe9 0.5\n", "not UTF-8 text (byte 3)"), ("folder", "is a folder")],
)
def test_exit_2_on_a_bad_draft_naming_the_file(tmp_path: Path, capsys, content, expected) -> None:
    path = tmp_path / "bad.md"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "folder":
        path.mkdir()
    # the sweep does not exist either: drafts are read first, so the draft is what gets named
    code = main(["check", str(path), "--sweep", str(tmp_path / "missing.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and expected in err and "Traceback" not in err


def test_exit_2_on_usage_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", draft(tmp_path, SUPPORTED)])  # no --sweep
    assert exc.value.code == 2
    assert "--sweep" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run(draft(tmp_path, SUPPORTED), "--fail-on", "supported")
    assert exc.value.code == 2


def test_several_drafts_share_one_sweep_load(tmp_path: Path, capsys, monkeypatch) -> None:
    import reportgen.io.load as load

    calls = []
    real = load.load_sweep

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "load_sweep", counting)
    monkeypatch.chdir(tmp_path)
    draft(tmp_path, CONTRADICTED, "a.md")
    draft(tmp_path, SUPPORTED, "b.md")
    assert run("a.md", "b.md", "--format", "concise", "--show-supported") == 1
    assert len(calls) == 1
    out = capsys.readouterr().out
    assert "a.md:1:33: FCT002 trial 4's lr is 0.02, not 0.03" in out
    assert "b.md:1:33: FCT001" in out and out.endswith(
        "2 drafts, 2 claims: 1 contradicted, 0 unverifiable, 1 supported, 0 suppressed\n"
    )


def test_json_lists_every_claim_and_writes_atomically_to_o(tmp_path: Path, capsys) -> None:
    text = CONTRADICTED + SUPPORTED + "Trial 2 ended with a val_loss of 0.7. <!-- reportgen: ignore -->\n"
    out_file = tmp_path / "out.json"
    assert run(draft(tmp_path, text), "--format", "json", "-o", str(out_file)) == 1
    assert capsys.readouterr().out == ""

    def no_constants(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    doc = json.loads(out_file.read_text(encoding="utf-8"), parse_constant=no_constants)
    assert doc["schema_version"] == 1
    keys = {
        "line",
        "column",
        "end_line",
        "end_column",
        "text",
        "verdict",
        "code",
        "message",
        "expected",
        "fix",
    }
    assert all(keys <= set(c) for c in doc["claims"])
    assert [(c["verdict"], c["code"], c["suppressed"]) for c in doc["claims"]] == [
        ("contradicted", "FCT002", False),
        ("supported", "FCT001", False),
        ("contradicted", "FCT002", True),
    ]
    assert doc["claims"][0]["fix"] == "0.02" and doc["claims"][2]["expected"] == "nan"
    assert doc["summary"] == {"supported": 1, "contradicted": 1, "unverifiable": 0, "suppressed": 1}
    assert doc["diagnostics"] == []


def test_full_shows_the_span_and_fix(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    draft(tmp_path, "# Notes\n\n" + CONTRADICTED)
    assert run("draft.md") == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "draft.md:3:33: FCT002 [contradicted] trial 4's lr is 0.02, not 0.03\n"
        "  |\n"
        "3 | Trial 4 used a learning rate of 0.03.\n"
        "  |                                 ^^^^\n"
        '  = fix: replace "0.03" with "0.02"\n'
    )


def test_help_does_not_import_pandas() -> None:
    code = "import sys; from reportgen.cli import main; main.build_parser(); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
