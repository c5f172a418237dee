"""Use cases: one method per command or query, on domain and ports only."""
