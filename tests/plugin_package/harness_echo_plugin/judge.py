def always_abstains(question: str, output: str) -> bool:
    """Reads every reply as an abstention."""
    return True


always_abstains.version = "7"
