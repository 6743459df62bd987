"""The one exception type the CLI turns into a single line on stderr and exit code 2."""


class HarnessError(Exception):
    """Bad input from the user: an unknown spec, a missing file, mismatched results."""
