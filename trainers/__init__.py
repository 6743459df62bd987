"""The built-in SFT backend: teacher data (distill), TRL training (sft) and the retention-driven loop."""
