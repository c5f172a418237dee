"""The product domain: pure Python and pydantic, no I/O."""
