"""What can go wrong while making a tenant's environment match its record."""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base of the provisioner's domain errors."""


class InvalidTenantRecord(ProvisionerError):
    """A stream record does not describe a tenant we can provision; the message says why."""

    def __init__(self, tenant_id: str | None, problem: str) -> None:
        super().__init__(f"tenant record {tenant_id or '(no tenant_id)'} is invalid: {problem}")
        self.tenant_id = tenant_id
        self.problem = problem


class UnknownRegionGroup(ProvisionerError):
    """The region map has no region for the tenant's region group (configuration)."""

    def __init__(self, region_group: str) -> None:
        super().__init__(f"no region is configured for region group {region_group!r}")
        self.region_group = region_group


class StackOperationRejected(ProvisionerError):
    """CloudFormation refused a create/update/delete outright (a ValidationError and the like)."""

    def __init__(self, stack_name: str, reason: str) -> None:
        super().__init__(f"{stack_name}: {reason}")
        self.stack_name = stack_name
        self.reason = reason


class StackStillInProgress(ProvisionerError):
    """The bounded wait ran out while the stack was still changing. Retrying resumes the wait."""

    def __init__(self, stack_name: str, status: str, waited_seconds: float) -> None:
        super().__init__(
            f"{stack_name} is still {status} after waiting {waited_seconds:.0f} s; "
            "the next delivery resumes waiting"
        )
        self.stack_name = stack_name
        self.status = status


class PublishFailed(ProvisionerError):
    """The event bus did not accept an event; the record is retried, the event is not lost."""
