def keep_last(samples):
    """The last usable sample, verified or not."""
    return samples[-1] if samples else None
