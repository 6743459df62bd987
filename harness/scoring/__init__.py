"""Answer extraction and scorers the suites share: numeric, logic, code, instructions, style, abstention."""
