"""The LLM layer: token budgets now; the writer backends come with the report issue."""
