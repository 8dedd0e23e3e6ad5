"""The model flags ``report`` and ``eval`` share, and the one place that resolves them: ``--model`` names
the model on an OpenAI-compatible server, ``--model-path`` the GGUF file for ``--llm local``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from reportgen.errors import UsageError


def add_model_arguments(group: argparse._ActionsContainer) -> None:
    group.add_argument(
        "--model", default=None, help="model name for --llm openai (default: $REPORTGEN_MODEL)"
    )
    group.add_argument(
        "--model-path",
        type=Path,
        default=None,
        help="GGUF model for --llm local (default: $REPORTGEN_MODEL_PATH, else the bundled SmolLM2)",
    )


def openai_model(args: argparse.Namespace) -> str:
    """The model for ``--llm openai``: ``--model``, else ``$REPORTGEN_MODEL``; a GGUF path is a mistake."""
    if args.model_path is not None:
        raise UsageError("--model-path is for --llm local")
    model = args.model or os.environ.get("REPORTGEN_MODEL", "").strip()
    if not model:
        raise UsageError("--llm openai needs a model: pass --model or set REPORTGEN_MODEL")
    return str(model)
