"""Entities, value objects, domain events and rules. Pure: no I/O."""
