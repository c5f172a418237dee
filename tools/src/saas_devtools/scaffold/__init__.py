"""Scaffold a new service in the one shape of docs/conventions.md."""
