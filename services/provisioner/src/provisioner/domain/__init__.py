"""The provisioner's domain: tenants as the stream shows them, their desired environment,
convergence rules over a stack's state, and the events published. Pure: no I/O."""
