"""Use cases: one function or class per command or query."""
