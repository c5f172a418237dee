"""Local invitations: what Cognito would email, written to `<dir>/<username>.json`."""

from __future__ import annotations

import json
from pathlib import Path

from tenant_service.domain.users import Invitation


class FileInvitationSender:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def send(self, invitation: Invitation) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        target = self._directory / f"{invitation.username}.json"
        body = {
            "to": invitation.to,
            "username": invitation.username,
            "temporary_password": invitation.temporary_password,
            "tenant_id": invitation.tenant_id,
        }
        partial = target.with_suffix(".json.tmp")
        partial.write_text(json.dumps(body, indent=2))
        partial.replace(target)  # a reader never sees half a file
