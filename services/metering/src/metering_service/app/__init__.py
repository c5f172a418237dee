"""The use cases: domain and ports only."""
