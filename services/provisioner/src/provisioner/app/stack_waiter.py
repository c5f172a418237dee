"""A bounded wait for a stack to settle: poll with backoff until it leaves *_IN_PROGRESS, or
give up at the deadline with StackStillInProgress (the record is retried and resumes the wait)."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.domain.environment import StackRef
from provisioner.domain.errors import StackStillInProgress
from provisioner.domain.stack import Condition, StackState, condition_of
from provisioner.ports.clock import Clock
from provisioner.ports.tenant_stacks import TenantStacks


@dataclass(frozen=True, slots=True)
class WaitPolicy:
    timeout_seconds: float = 600.0
    first_delay_seconds: float = 2.0
    max_delay_seconds: float = 20.0
    backoff: float = 1.5


class StackWaiter:
    def __init__(self, stacks: TenantStacks, clock: Clock, policy: WaitPolicy) -> None:
        self._stacks = stacks
        self._clock = clock
        self._policy = policy

    def settled(self, ref: StackRef) -> StackState | None:
        """The stack's state once it is no longer in progress (None when it is gone)."""
        policy = self._policy
        started = self._clock.monotonic()
        delay = policy.first_delay_seconds
        while True:
            state = self._stacks.describe(ref)
            if condition_of(state) is not Condition.IN_PROGRESS:
                return state
            assert state is not None
            waited = self._clock.monotonic() - started
            remaining = policy.timeout_seconds - waited
            if remaining <= 0:
                raise StackStillInProgress(ref.stack_name, state.status, waited)
            self._clock.sleep(min(delay, remaining))
            delay = min(delay * policy.backoff, policy.max_delay_seconds)
