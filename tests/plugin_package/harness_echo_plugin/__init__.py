"""harness-echo-plugin: one entry per harness registry, found through entry points.

Kept empty: `harness --help` imports the command module, and with it this package.
"""
