"""The `releasegate` command: one module per command; parsing and printing only."""
