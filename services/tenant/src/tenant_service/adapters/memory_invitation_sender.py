"""In-memory InvitationSender for unit tests and `BACKEND=memory`."""

from __future__ import annotations

from tenant_service.domain.users import Invitation


class MemoryInvitationSender:
    def __init__(self) -> None:
        self.sent: list[Invitation] = []

    def send(self, invitation: Invitation) -> None:
        self.sent.append(invitation)
