"""TenantStacks in memory, for unit tests: CloudFormation's observable behaviour, scriptable
(a create that rolls back, an update that rolls back, a refused create, a slow stack)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from provisioner.domain.environment import DesiredEnvironment, StackRef
from provisioner.domain.errors import StackOperationRejected
from provisioner.domain.stack import StackEvent, StackState

_STACK = "AWS::CloudFormation::Stack"
_TABLE = "AWS::DynamoDB::Table"
_PARAMETER = "AWS::SSM::Parameter"


@dataclass
class _Stack:
    status: str
    parameters: dict[str, str]
    events: list[StackEvent] = field(default_factory=list)
    polls_until_settled: int = 0
    settles_to: str = ""


class MemoryTenantStacks:
    def __init__(self) -> None:
        self.stacks: dict[tuple[str, str], _Stack] = {}
        self.calls: list[tuple[str, str]] = []
        self._create_failures: list[str] = []
        self._update_failures: list[str] = []
        self._create_rejections: list[str] = []
        self._delete_failures: list[str] = []
        self.in_progress_polls = 0

    # -- scripting -------------------------------------------------------------------------
    def fail_creates(self, *reasons: str) -> None:
        """The next creates roll back (ROLLBACK_COMPLETE), each with its resource's reason."""
        self._create_failures.extend(reasons)

    def fail_updates(self, *reasons: str) -> None:
        self._update_failures.extend(reasons)

    def reject_creates(self, *reasons: str) -> None:
        """The next create calls are refused outright (CloudFormation's ValidationError)."""
        self._create_rejections.extend(reasons)

    def fail_deletes(self, *reasons: str) -> None:
        self._delete_failures.extend(reasons)

    def put(self, region: str, stack_name: str, status: str, **parameters: str) -> None:
        """A stack that exists before the provisioner looks (created by someone, or stuck)."""
        self.stacks[(region, stack_name)] = _Stack(status=status, parameters=dict(parameters))

    def status_of(self, region: str, stack_name: str) -> str | None:
        stack = self.stacks.get((region, stack_name))
        return stack.status if stack else None

    # -- the port --------------------------------------------------------------------------
    def describe(self, ref: StackRef) -> StackState | None:
        self.calls.append(("describe", ref.stack_name))
        stack = self.stacks.get((ref.region, ref.stack_name))
        if stack is None:
            return None
        if stack.polls_until_settled > 0:
            stack.polls_until_settled -= 1
            if stack.polls_until_settled == 0:
                self._settle(ref, stack)
        if stack.status == "DELETE_COMPLETE":
            return None
        return StackState(status=stack.status, outputs=self._outputs(stack))

    def create(self, desired: DesiredEnvironment) -> None:
        ref = desired.ref
        self.calls.append(("create", ref.stack_name))
        if self._create_rejections:
            raise StackOperationRejected(ref.stack_name, self._create_rejections.pop(0))
        existing = self.stacks.get((ref.region, ref.stack_name))
        if existing is not None and existing.status != "DELETE_COMPLETE":
            raise StackOperationRejected(ref.stack_name, f"Stack [{ref.stack_name}] already exists")
        stack = _Stack(status="CREATE_IN_PROGRESS", parameters=dict(desired.parameters))
        stack.events.append(StackEvent(ref.stack_name, _STACK, "CREATE_IN_PROGRESS", "User"))
        if self._create_failures:
            reason = self._create_failures.pop(0)
            stack.events.append(StackEvent("ProductsTable", _TABLE, "CREATE_FAILED", reason))
            stack.events.append(StackEvent("OrdersTable", _TABLE, "CREATE_FAILED", "cancelled"))
            stack.settles_to = "ROLLBACK_COMPLETE"
        else:
            stack.settles_to = "CREATE_COMPLETE"
        self.stacks[(ref.region, ref.stack_name)] = stack
        self._start(ref, stack)

    def update(self, desired: DesiredEnvironment) -> bool:
        ref = desired.ref
        self.calls.append(("update", ref.stack_name))
        stack = self.stacks[(ref.region, ref.stack_name)]
        if stack.parameters == dict(desired.parameters):
            return False
        stack.events.append(StackEvent(ref.stack_name, _STACK, "UPDATE_IN_PROGRESS", "User"))
        stack.status = "UPDATE_IN_PROGRESS"
        if self._update_failures:
            reason = self._update_failures.pop(0)
            stack.events.append(StackEvent("ConfigParameter", _PARAMETER, "UPDATE_FAILED", reason))
            stack.settles_to = "UPDATE_ROLLBACK_COMPLETE"
        else:
            stack.parameters = dict(desired.parameters)
            stack.settles_to = "UPDATE_COMPLETE"
        self._start(ref, stack)
        return True

    def delete(self, ref: StackRef) -> None:
        self.calls.append(("delete", ref.stack_name))
        stack = self.stacks.get((ref.region, ref.stack_name))
        if stack is None or stack.status == "DELETE_COMPLETE":
            return
        stack.status = "DELETE_IN_PROGRESS"
        if self._delete_failures:
            reason = self._delete_failures.pop(0)
            stack.events.append(StackEvent("ProductsTable", _TABLE, "DELETE_FAILED", reason))
            stack.settles_to = "DELETE_FAILED"
        else:
            stack.settles_to = "DELETE_COMPLETE"
        self._start(ref, stack)

    def events(self, ref: StackRef) -> Sequence[StackEvent]:
        stack = self.stacks.get((ref.region, ref.stack_name))
        return list(stack.events) if stack else []

    # -- internals -------------------------------------------------------------------------
    def _start(self, ref: StackRef, stack: _Stack) -> None:
        stack.polls_until_settled = self.in_progress_polls
        if stack.polls_until_settled == 0:
            self._settle(ref, stack)

    @staticmethod
    def _settle(ref: StackRef, stack: _Stack) -> None:
        stack.status = stack.settles_to
        stack.events.append(StackEvent(ref.stack_name, _STACK, stack.status))

    @staticmethod
    def _outputs(stack: _Stack) -> dict[str, str]:
        tenant_id = stack.parameters.get("TenantId", "")
        outputs = {"TenantId": tenant_id, "Tier": stack.parameters.get("Tier", "")}
        if stack.parameters.get("Tier") == "premium":
            outputs["ProductsTableName"] = f"tenant-{tenant_id}-products"
            outputs["OrdersTableName"] = f"tenant-{tenant_id}-orders"
        return outputs
