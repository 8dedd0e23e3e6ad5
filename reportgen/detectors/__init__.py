"""Deterministic detectors: each module finds one sweep pathology; `run.run_detectors` runs them all."""
