"""The LLM layer: prompts (``prompts.py``), token budgets (``budget.py``, ``tokens.py``), the
OpenAI-compatible writer (``openai_writer.py``) with its schema and answer validation, and record/replay of
exchanges for tests (``replay.py``). Errors are ``WriterError`` s; the report composer falls back to the
offline writer on any of them."""
