"""In-memory UnitOfWork over a MemoryTenantRepository: checks everything before it writes
anything, so a commit is all or nothing as DynamoDB's transaction is."""

from __future__ import annotations

from types import TracebackType

from pydantic import BaseModel

from tenant_context import Cause, OutboxMessage, TenantContext, outbox_message
from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
from tenant_service.domain.errors import ConcurrentModification, UserAlreadyExists, UserNotFound
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser
from tenant_service.ports.unit_of_work import EventAlreadyProcessed

SOURCE = "saas.tenant"


class _Staged:
    def __init__(self) -> None:
        self.new: list[Tenant] = []
        self.changed: list[Tenant] = []
        self.users: list[TenantUser] = []
        self.changed_users: list[TenantUser] = []
        self.removed_users: list[TenantUser] = []

    def clear(self) -> None:
        self.new.clear()
        self.changed.clear()
        self.users.clear()
        self.changed_users.clear()
        self.removed_users.clear()


class _TenantChanges:
    def __init__(self, staged: _Staged) -> None:
        self._staged = staged

    def add(self, tenant: Tenant) -> None:
        self._staged.new.append(tenant)

    def save(self, tenant: Tenant) -> None:
        self._staged.changed.append(tenant)


class _UserChanges:
    def __init__(self, staged: _Staged) -> None:
        self._staged = staged

    def add(self, user: TenantUser) -> None:
        self._staged.users.append(user)

    def save(self, user: TenantUser) -> None:
        self._staged.changed_users.append(user)

    def remove(self, user: TenantUser) -> None:
        self._staged.removed_users.append(user)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryTenantRepository, ctx: TenantContext, cause: Cause) -> None:
        self._store = store
        self._ctx = ctx
        self._cause = cause
        self._staged = _Staged()
        self._messages: list[OutboxMessage] = []
        self.tenants = _TenantChanges(self._staged)
        self.users = _UserChanges(self._staged)

    def emit(self, event: BaseModel) -> None:
        self._messages.append(outbox_message(self._ctx, event, source=SOURCE, cause=self._cause))

    def commit(self) -> None:
        store, staged, tenant_id = self._store, self._staged, self._ctx.tenant_id
        marker = (tenant_id, self._cause.event_id) if self._cause.event_id else None
        if marker is not None and marker in store.processed:
            raise EventAlreadyProcessed(marker[1])
        for tenant in staged.new:
            if tenant.id in store.tenants:
                raise ConcurrentModification(tenant.id)
        for tenant in staged.changed:
            stored = store.tenants.get(tenant.id)
            if stored is None or stored.version != tenant.version - 1:
                raise ConcurrentModification(tenant.id)
        for user in staged.users:
            if (user.tenant_id, user.username) in store.users:
                raise UserAlreadyExists(user.email)
        for user in [*staged.changed_users, *staged.removed_users]:
            if (user.tenant_id, user.username) not in store.users:
                raise UserNotFound(user.username)
        for tenant in [*staged.new, *staged.changed]:
            store.tenants[tenant.id] = tenant
        for user in staged.users:
            store.users[(user.tenant_id, user.username)] = user
            store.removed_users.discard((user.tenant_id, user.username))
        for user in staged.changed_users:
            store.users[(user.tenant_id, user.username)] = user
        for user in staged.removed_users:
            del store.users[(user.tenant_id, user.username)]
            store.removed_users.add((user.tenant_id, user.username))
        store.outbox.extend(self._messages)
        if marker is not None:
            store.processed.add(marker)
        self._discard()

    def _discard(self) -> None:
        self._staged.clear()
        self._messages.clear()

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._discard()


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryTenantRepository) -> None:
        self.store = store

    def __call__(self, ctx: TenantContext, cause: Cause) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, ctx, cause)
