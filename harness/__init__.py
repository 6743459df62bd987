"""harness: an evaluation-centred benchmark harness for LLM distillation."""

__version__ = "0.1.0"
