"""The Lambda handlers: thin, each calling one use case through the container."""
