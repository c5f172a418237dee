"""moto's AWS state kept across a restart of the local platform: a snapshot of every backend
moto's server process has loaded (pickled, with what does not pickle as such - locks, Cognito's
signing key, weak indexes, defaultdicts of local lambdas - rebuilt on load) and its restore
before the server serves. Runs in moto's server process (aws_server).

Why a snapshot and not moto's recorder (/moto-api/recorder/*) replayed: a replay makes new
random ids (user pool and client ids, API key ids, Cognito subs, stream ARNs), so every stored
reference to one - a tenant's user pool, a user's sub in a token - would break.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import importlib
import os
import pickle
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SNAPSHOT_FORMAT = 1


class RequestGate:
    """Requests share the gate; a snapshot takes it alone, so it sees no half-done request and
    no request changes a dict while it is pickled."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._exclusive = True  # new requests wait from now on
            while self._active:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


def gate_requests(gate: RequestGate) -> None:
    """Every request to moto's server passes the gate (its whole work is done before the WSGI
    call returns: moto's Flask views build the full answer)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    call = DomainDispatcherApplication.__call__

    def gated(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        with gate.shared():
            return call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = gated  # type: ignore[method-assign]


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _fresh_lock(lock: Any) -> tuple[Any, tuple[()]]:
    # A lock is not state: the restored object gets a new one, unlocked.
    return (threading.RLock if isinstance(lock, _LOCK_TYPES[1]) else threading.Lock), ()


def _import_key(document: dict[str, Any]) -> Any:
    from joserfc import jwk

    return jwk.RSAKey.import_key(document)


def _portable_key(key: Any) -> tuple[Any, tuple[dict[str, Any]]]:
    # Cognito's signing key (the same key file for every pool): pickled as its JWK, so tokens
    # issued before a restart still verify after it.
    return _import_key, (key.as_dict(private=True),)


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(pem)


def _portable_private_key(key: Any) -> tuple[Any, tuple[bytes]]:
    # Keys moto makes (SNS's signing key, KMS's, ACM's): pickled as PEM, the same key restored.
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _private_key, (pem,)


def _portable_public_key(key: Any) -> tuple[Any, tuple[bytes]]:
    from cryptography.hazmat.primitives import serialization

    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _public_key, (pem,)


def _weak_values(values: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(values)


def _portable_weak_values(
    mapping: weakref.WeakValueDictionary[Any, Any],
) -> tuple[Any, tuple[dict[Any, Any]]]:
    # An index of objects held elsewhere (Lambda's functions by ARN): pickled as the objects,
    # which the restored backend holds again.
    return _weak_values, (dict(mapping.items()),)


def _portable_factory(factory: Any) -> Any:
    """A default factory that pickles for one that does not (a local lambda) and makes the same
    empty value: a builtin container type, or a defaultdict of such."""
    if factory is None or "<locals>" not in getattr(factory, "__qualname__", "<locals>"):
        return factory
    sample = factory()
    if isinstance(sample, defaultdict) and not sample:
        return functools.partial(defaultdict, _portable_factory(sample.default_factory))
    if type(sample) not in (dict, list, set, int, str) or sample:
        raise pickle.PicklingError(f"a defaultdict's default cannot be kept: {factory!r}")
    return type(sample)


def _portable_defaultdict(mapping: defaultdict[Any, Any]) -> Any:
    # moto's defaultdicts made with a local lambda (`defaultdict(lambda: {})`).
    factory = _portable_factory(mapping.default_factory)
    return defaultdict, (factory,), None, None, iter(mapping.items())


def _defaultdict_subclass(cls: type[Any], factory: Any, state: dict[str, Any]) -> Any:
    mapping = defaultdict.__new__(cls)
    defaultdict.__init__(mapping, factory)
    mapping.__dict__.update(state)
    return mapping


def _portable_defaultdict_subclass(mapping: defaultdict[Any, Any]) -> Any:
    # A defaultdict subclass with its own __init__ (SSM's ParameterDict): made without calling
    # it, its attributes set back.
    factory = _portable_factory(mapping.default_factory)
    state = dict(vars(mapping))
    return _defaultdict_subclass, (type(mapping), factory, state), None, None, iter(mapping.items())


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _dispatch_table() -> dict[Any, Any]:
    from joserfc import jwk

    table: dict[Any, Any] = copyreg.dispatch_table.copy()
    for lock_type in _LOCK_TYPES:
        table[lock_type] = _fresh_lock
    table[jwk.RSAKey] = _portable_key
    from cryptography.hazmat.bindings._rust import openssl

    for private in (openssl.rsa.RSAPrivateKey, openssl.ec.ECPrivateKey):
        table[private] = _portable_private_key
    for public in (openssl.rsa.RSAPublicKey, openssl.ec.ECPublicKey):
        table[public] = _portable_public_key
    table[weakref.WeakValueDictionary] = _portable_weak_values
    table[defaultdict] = _portable_defaultdict
    for subclass in _subclasses(defaultdict):
        table.setdefault(subclass, _portable_defaultdict_subclass)
    return table


def _backend_key(backends: Any) -> str:
    return f"{backends.backend.__module__}:{backends.backend.__qualname__}"


def snapshot(path: Path) -> dict[str, Any]:
    """Every backend moto has loaded (every account and region of every service used), and the
    session tags moto_gaps keeps beside them, pickled to `path` (written whole, then renamed).
    Call with no request running (RequestGate.exclusive)."""
    import moto
    from moto.core.base_backend import BackendDict

    from saas_local import moto_gaps

    started = time.monotonic()
    state = {
        "format": SNAPSHOT_FORMAT,
        "moto": moto.__version__,
        "backends": {_backend_key(b): b for b in BackendDict._instances},  # type: ignore[misc]
        "session_tags": dict(moto_gaps.SESSION_TAGS),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as file:
            pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _dispatch_table()
            pickler.dump(state)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "path": str(path),
        "bytes": path.stat().st_size,
        "seconds": round(time.monotonic() - started, 3),
    }


class SnapshotError(RuntimeError):
    """The snapshot cannot be loaded (another moto version, another format, damaged)."""


def restore(path: Path) -> int:
    """Load a snapshot into this process's moto before it serves; the number of backends."""
    import moto
    from moto.core.base_backend import BackendDict, backend_lock

    from saas_local import moto_gaps

    try:
        with path.open("rb") as file:
            state = pickle.load(file)
    except Exception as exc:
        raise SnapshotError(f"{path}: not a snapshot this platform can load ({exc})") from exc
    if state.get("format") != SNAPSHOT_FORMAT or state.get("moto") != moto.__version__:
        raise SnapshotError(
            f"{path}: written by moto {state.get('moto')} (format {state.get('format')}), "
            f"this is moto {moto.__version__}: start fresh (make run FRESH=1)"
        )
    with backend_lock:
        for key, saved in state["backends"].items():
            module_name, _, class_name = key.partition(":")
            module = importlib.import_module(module_name)
            live = next(
                value
                for value in vars(module).values()
                if isinstance(value, BackendDict) and value.backend.__qualname__ == class_name
            )
            dict.clear(live)
            dict.update(live, saved)
            if live not in BackendDict._instances:  # type: ignore[misc]
                BackendDict._instances.append(live)  # type: ignore[misc]
    moto_gaps.SESSION_TAGS.update(state["session_tags"])
    return len(state["backends"])
