"""Use cases: reconcile a tenant's environment with a change to its record."""
