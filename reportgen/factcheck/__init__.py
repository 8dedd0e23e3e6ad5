"""Deterministic fact-checking of report drafts against a sweep's FactSheet."""
