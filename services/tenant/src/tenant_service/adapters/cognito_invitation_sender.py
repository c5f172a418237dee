"""InvitationSender in AWS: Cognito has already emailed the invitation."""

from __future__ import annotations

from tenant_service.domain.users import Invitation


class CognitoInvitationSender:
    """In AWS, Cognito emails the invitation itself when it creates the user (no
    MessageAction=SUPPRESS), so there is nothing left to send here."""

    def send(self, invitation: Invitation) -> None:
        return None
