"""Lambda handlers: parse, call one use case, map the result. Thin."""
