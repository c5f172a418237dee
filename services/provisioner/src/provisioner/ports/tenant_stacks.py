"""The tenant's CloudFormation stack, in its region, reached through the deployment role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from provisioner.domain.environment import DesiredEnvironment, StackRef
from provisioner.domain.stack import StackEvent, StackState


class TenantStacks(Protocol):
    def describe(self, ref: StackRef) -> StackState | None:
        """The stack's state, or None when there is no such stack (or it is DELETE_COMPLETE)."""
        ...

    def create(self, desired: DesiredEnvironment) -> None:
        """Start creating the stack. StackOperationRejected when CloudFormation refuses."""
        ...

    def update(self, desired: DesiredEnvironment) -> bool:
        """Start updating the stack; False when there is nothing to update (not an error)."""
        ...

    def delete(self, ref: StackRef) -> None:
        """Start deleting the stack; deleting a missing stack is not an error."""
        ...

    def events(self, ref: StackRef) -> Sequence[StackEvent]:
        """The stack's event log, oldest first."""
        ...
