"""The use case: make a tenant's environment match a change to its record, then say so on the bus.

Convergent: every step starts from the stack's current state, so the same record twice, a replay
of old records, or a retry after a crash or a failed publish ends in the same single stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from provisioner.app.event_messages import message_for
from provisioner.app.stack_waiter import StackWaiter
from provisioner.domain.changes import Intent, TenantChange
from provisioner.domain.environment import (
    DesiredEnvironment,
    StackRef,
    desired_environment,
    stack_ref_for,
)
from provisioner.domain.errors import ProvisionerError, PublishFailed, StackOperationRejected
from provisioner.domain.events import (
    OutgoingEvent,
    ProvisionerEvent,
    TenantDeprovisioned,
    TenantProvisioned,
    TenantProvisioningFailed,
)
from provisioner.domain.stack import (
    Step,
    first_failure_reason,
    operation_succeeded,
    step_towards_absent,
    step_towards_present,
)
from provisioner.domain.tenant import Tenant
from provisioner.ports.event_publisher import EventPublisher
from provisioner.ports.tenant_data_space import TenantDataSpace
from provisioner.ports.tenant_stacks import TenantStacks


class DeprovisioningFailed(ProvisionerError):
    """The stack would not go away within the attempts: the record is retried, then parked."""


@dataclass(frozen=True, slots=True)
class Outcome:
    intent: Intent
    event: OutgoingEvent | None


# What the reconciler does for each intent a record can carry: one table, as a message bus has.
# The intent, not the stream's eventName, picks the step: a MODIFY can mean provision, update,
# deprovision or nothing, which only the two images tell (domain/changes.py).
IntentHandler = Callable[["Reconciler", Tenant], ProvisionerEvent | None]


class Reconciler:
    def __init__(
        self,
        stacks: TenantStacks,
        waiter: StackWaiter,
        data_space: TenantDataSpace,
        publisher: EventPublisher,
        region_map: Mapping[str, str],
        max_attempts: int = 3,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._stacks = stacks
        self._waiter = waiter
        self._data_space = data_space
        self._publisher = publisher
        self._region_map = region_map
        self._max_attempts = max_attempts

    def handle(self, change: TenantChange) -> Outcome:
        intent = change.intent()
        tenant = change.tenant
        data = INTENT_HANDLERS[intent](self, tenant)
        if data is None:
            return Outcome(intent, None)
        event = OutgoingEvent.caused_by(change.change_id, data, tenant.tier, tenant.region_group)
        if self._publisher.publish([message_for(event)]):
            raise PublishFailed(
                f"the bus did not take {event.detail_type} {event.event_id} of tenant "
                f"{tenant.tenant_id}; the record is retried"
            )
        return Outcome(intent, event)

    def _nothing(self, tenant: Tenant) -> None:
        """Our own event's echo, a suspension, a change of nothing the environment holds."""

    def _provision(self, tenant: Tenant) -> TenantProvisioned | TenantProvisioningFailed:
        desired = desired_environment(tenant, self._region_map)
        ref = desired.ref
        reason = "no attempt was made"
        for _ in range(self._max_attempts):
            try:
                outputs = self._attempt(desired)
            except StackOperationRejected as rejected:
                reason = rejected.reason
                continue
            if outputs is not None:
                facts = self._data_space.ensure(tenant, ref, outputs)
                return TenantProvisioned(
                    tenant_id=tenant.tenant_id,
                    stack_name=ref.stack_name,
                    region=ref.region,
                    outputs={**outputs, **facts},
                )
            reason = self._failure_reason(ref)
        return TenantProvisioningFailed(tenant_id=tenant.tenant_id, reason=reason)

    def _attempt(self, desired: DesiredEnvironment) -> Mapping[str, str] | None:
        """One try at making the stack match: its outputs, or None when the operation failed."""
        ref = desired.ref
        state = self._waiter.settled(ref)
        step = step_towards_present(state)
        if step is Step.DELETE:
            # ROLLBACK_COMPLETE or *_FAILED: nothing to keep, and it cannot be updated.
            self._delete(ref)
            step = Step.CREATE
        if step is Step.UPDATE:
            assert state is not None
            if not self._stacks.update(desired):
                return state.outputs  # "No updates are to be performed": already converged
        else:
            try:
                self._stacks.create(desired)
            except StackOperationRejected:
                # A refused create leaves nothing in CloudFormation; some emulators keep a stack
                # record stuck in CREATE_IN_PROGRESS, so clear the name for the next attempt.
                self._stacks.delete(ref)
                raise
        final = self._waiter.settled(ref)
        if operation_succeeded(step, final):
            assert final is not None
            return final.outputs
        return None

    def _failure_reason(self, ref: StackRef) -> str:
        reason = first_failure_reason(self._stacks.events(ref))
        if reason is not None:
            return reason
        state = self._stacks.describe(ref)
        if state is None:
            return f"{ref.stack_name} disappeared while it was being deployed"
        return state.status_reason or f"{ref.stack_name} ended in {state.status}"

    def _delete(self, ref: StackRef) -> None:
        self._stacks.delete(ref)
        self._waiter.settled(ref)

    def _deprovision(self, tenant: Tenant) -> TenantDeprovisioned:
        ref = stack_ref_for(tenant, self._region_map)
        self._data_space.remove(tenant, ref)
        for _ in range(self._max_attempts):
            state = self._waiter.settled(ref)
            if step_towards_absent(state) is Step.DONE:
                return TenantDeprovisioned(tenant_id=tenant.tenant_id)
            self._delete(ref)
        if step_towards_absent(self._waiter.settled(ref)) is Step.DONE:
            return TenantDeprovisioned(tenant_id=tenant.tenant_id)
        raise DeprovisioningFailed(
            f"{ref.stack_name} is still there after {self._max_attempts} deletes: "
            f"{self._failure_reason(ref)}"
        )


INTENT_HANDLERS: Mapping[Intent, IntentHandler] = {
    Intent.PROVISION: Reconciler._provision,
    # An update converges the same way: the stack is made to match the record from its state.
    Intent.UPDATE: Reconciler._provision,
    Intent.DEPROVISION: Reconciler._deprovision,
    Intent.NOTHING: Reconciler._nothing,
}
