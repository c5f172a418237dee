"""The metering service, in the shape of docs/conventions.md."""
