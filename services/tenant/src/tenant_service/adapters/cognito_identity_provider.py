"""IdentityProvider on a Cognito user pool.

Users carry `custom:tenant_id` and belong to the group of their role. The temporary password is
ours (so a local invitation can carry it); the first login answers NEW_PASSWORD_REQUIRED.
`send_invitation=True` lets Cognito email the invitation itself (in AWS); locally it is
suppressed and the FileInvitationSender writes it instead.

One pool holds every tenant's users, and IAM cannot scope Cognito's Admin* actions to a tenant
(they take a username, no condition key names an attribute). So this adapter is the guard: every
Admin* call on an existing user (disable, enable, sign out, delete, re-send) is made only after
AdminGetUser shows the user's `custom:tenant_id` is the tenant asked for; a user of another tenant
is UserNotFound (404), untouched. Creating a user writes the caller's tenant id into the new
user (immutable in the pool's schema), and a username taken in any tenant is UserAlreadyExists.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

from tenant_service.domain.errors import UserAlreadyExists, UserNotFound
from tenant_service.domain.users import Invitation, UserRole


def temporary_password() -> str:
    """16 random characters with each class a default Cognito password policy asks for."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return (
        body
        + secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
        + secrets.choice("!#%+-=?@^_")
    )


class CognitoIdentityProvider:
    def __init__(self, client: Any, *, user_pool_id: str, send_invitation: bool) -> None:
        self._client = client
        self._pool = user_pool_id
        self._send_invitation = send_invitation

    def create_user(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation:
        message = {"DesiredDeliveryMediums": ["EMAIL"]} if self._send_invitation else {}
        try:
            return self._create(
                tenant_id, email, role, MessageAction=None if message else "SUPPRESS", **message
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UsernameExistsException":
                raise UserAlreadyExists(email) from None
            raise

    def reinvite(self, *, tenant_id: str, email: str, role: UserRole) -> Invitation | None:
        try:
            user = self._of_tenant(tenant_id, email)
        except UserNotFound:
            return None  # another tenant's user
        if user is None or user.get("UserStatus") != "FORCE_CHANGE_PASSWORD":
            return None
        # RESEND: a new temporary password (and, in AWS, a new email) for the same user.
        return self._create(tenant_id, email, role, MessageAction="RESEND")

    def subject(self, tenant_id: str, username: str) -> str | None:
        user = self._of_tenant(tenant_id, username)
        return None if user is None else _attributes(user).get("sub")

    def disable(self, tenant_id: str, username: str) -> None:
        if self._of_tenant(tenant_id, username) is None:
            return
        # Disabled first: no login succeeds after this; then the refresh tokens are revoked.
        self._if_exists(self._client.admin_disable_user, username)
        self._if_exists(self._client.admin_user_global_sign_out, username)

    def enable(self, tenant_id: str, username: str) -> None:
        if self._of_tenant(tenant_id, username) is None:
            return
        self._if_exists(self._client.admin_enable_user, username)

    def delete(self, tenant_id: str, username: str) -> None:
        if self._of_tenant(tenant_id, username) is None:
            return
        self._if_exists(self._client.admin_user_global_sign_out, username)
        self._if_exists(self._client.admin_delete_user, username)

    def _of_tenant(self, tenant_id: str, username: str) -> dict[str, Any] | None:
        """The user (AdminGetUser's answer) if it belongs to `tenant_id`; None when it does not
        exist; UserNotFound when it is another tenant's: the check before every Admin* call."""
        try:
            user: dict[str, Any] = self._client.admin_get_user(
                UserPoolId=self._pool, Username=username
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                return None
            raise
        if _attributes(user).get("custom:tenant_id") != tenant_id:
            raise UserNotFound(username)
        return user

    def _if_exists(self, operation: Any, username: str) -> None:
        try:
            operation(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "UserNotFoundException":
                raise

    def _create(self, tenant_id: str, email: str, role: UserRole, **options: Any) -> Invitation:
        password = temporary_password()
        request: dict[str, Any] = {
            "UserPoolId": self._pool,
            "Username": email,
            "TemporaryPassword": password,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:tenant_id", "Value": tenant_id},
            ],
            **{k: v for k, v in options.items() if v is not None},
        }
        created = self._client.admin_create_user(**request)
        # With email as the pool's username attribute Cognito names the user itself.
        username = created["User"]["Username"]
        self._client.admin_add_user_to_group(
            UserPoolId=self._pool, Username=username, GroupName=role.value
        )
        return Invitation(
            to=email, username=username, temporary_password=password, tenant_id=tenant_id
        )


def _attributes(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
