"""reportgen: fact-checked pathology reports for hyperparameter sweeps."""

__version__ = "0.1.0"
