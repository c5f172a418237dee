"""moto's ThreadedMotoServer in a process of its own: each local platform gets its own AWS state
(moto keeps its state per process), and moto's work runs beside the gateway and the pumps
instead of competing with them for one interpreter lock.

Protocol: prints one JSON line {"host", "port"} when serving; stops when stdin closes. Its AWS
state can be kept: started with ENV_STATE naming a snapshot that exists, it serves that state;
the line `save <path>` on stdin writes a snapshot there (every request waits while it is taken)
and answers one JSON line {"path", "bytes", "seconds"} (or {"error"}).
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import importlib
import json
import logging
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The snapshot moto's server starts from, when the file exists (LocalPlatform sets it).
ENV_STATE = "SAAS_LOCAL_AWS_STATE"
SNAPSHOT_FORMAT = 1


def _warm_up() -> None:
    # moto imports every service's models on the first CloudFormation call (seconds): do it now,
    # while the platform is still translating templates.
    import moto.cloudformation.parsing  # noqa: F401


def _serialize_dynamodb() -> None:
    """One DynamoDB request at a time. moto's tables are plain dicts with no locking: a
    transaction that is cancelled puts back the items it wrote, so a write another request
    thread commits to one of them in between would be lost, and a scan can fail with
    "dictionary changed size during iteration". DynamoDB is linearizable per item; this restores
    that for concurrent clients."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    call_action = DynamoHandler.call_action

    def serialized(self: DynamoHandler) -> object:
        with lock:
            return call_action(self)

    DynamoHandler.call_action = serialized  # type: ignore[method-assign]


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


def _gate_requests(gate: RequestGate) -> None:
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


def _serve_commands(gate: RequestGate) -> None:
    """stdin's lines until it closes: `save <path>` snapshots the state there."""
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command != "save" or not argument:
            answer: dict[str, Any] = {"error": f"unknown command {line.strip()!r}"}
        else:
            try:
                with gate.exclusive():
                    answer = snapshot(Path(argument))
            except Exception as exc:  # the server goes on serving; the platform reports it
                answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


def main() -> None:
    # Ctrl-C reaches the whole process group: the platform stops its children itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host, port = sys.argv[1], int(sys.argv[2])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    from saas_local.faults import serve_on_moto
    from saas_local.moto_gaps import (
        cache_event_path_parsing,
        cognito_revoke_token,
        enforce_assumed_role_policies,
        keep_session_tags,
        lean_transactions,
        serve_authorizer_cache_flushes,
    )

    cache_event_path_parsing()
    lean_transactions()
    cognito_revoke_token()
    keep_session_tags()
    enforce_assumed_role_policies()  # before serializing: its table lookups run under the lock
    serve_authorizer_cache_flushes()
    serve_on_moto(os.environ)

    _serialize_dynamodb()
    gate = RequestGate()
    _gate_requests(gate)
    saved = Path(os.environ.get(ENV_STATE) or os.devnull)
    restored = 0
    if saved.is_file():
        _warm_up()  # the models a snapshot holds are moto's: import them before loading it
        try:
            restored = restore(saved)
        except SnapshotError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            return

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    if not restored:
        threading.Thread(target=_warm_up, daemon=True).start()
    print(json.dumps({"host": bound_host, "port": bound_port, "restored": restored}), flush=True)
    _serve_commands(gate)  # until the parent closes the pipe (or dies)
    server.stop()


if __name__ == "__main__":
    main()
