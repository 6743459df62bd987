"""Built-in suites. Every public module here is imported by the suite registry on first use."""
