"""moto's ThreadedMotoServer in a process of its own: each local platform gets its own AWS state
(moto keeps its state per process), and moto's work runs beside the gateway and the pumps
instead of competing with them for one interpreter lock.

Protocol: prints one JSON line {"host", "port"} when serving; stops when stdin closes. Its AWS
state can be kept: started with ENV_STATE naming a snapshot that exists, it serves that state;
the line `save <path>` on stdin writes a snapshot there (every request waits while it is taken)
and answers one JSON line {"path", "bytes", "seconds"} (or {"error"}).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from saas_local.aws_state import RequestGate, SnapshotError, gate_requests, restore, snapshot

# The snapshot moto's server starts from, when the file exists (LocalPlatform sets it).
ENV_STATE = "SAAS_LOCAL_AWS_STATE"


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


def _serve_commands(gate: RequestGate) -> None:
    """stdin's lines until it closes: `save <path>` snapshots the state there."""
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command != "save" or not argument:
            answer: dict[str, Any] = {"error": f"unknown command {line.strip()!r}"}
        else:
            try:
                began = time.monotonic()
                with gate.exclusive():  # new requests wait from here: held_seconds
                    answer = snapshot(Path(argument))
                answer["held_seconds"] = round(time.monotonic() - began, 3)
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
    from saas_local.faults_aws import install as install_aws_faults
    from saas_local.moto_gaps import (
        cache_event_path_parsing,
        cognito_revoke_token,
        enforce_assumed_role_policies,
        keep_session_tags,
        lean_transactions,
        serialize_sqs_receives,
        serve_authorizer_cache_flushes,
        transaction_consumed_capacity,
    )

    cache_event_path_parsing()
    lean_transactions()
    transaction_consumed_capacity()
    cognito_revoke_token()
    serialize_sqs_receives()
    keep_session_tags()
    enforce_assumed_role_policies()  # before serializing: its table lookups run under the lock
    serve_authorizer_cache_flushes()
    serve_on_moto(os.environ)
    install_aws_faults()  # the AWS APIs' faults: one wrapper of moto's dispatch

    _serialize_dynamodb()
    gate = RequestGate()
    gate_requests(gate)
    saved = Path(os.environ.get(ENV_STATE) or os.devnull)
    restored, restore_seconds = 0, 0.0
    if saved.is_file():  # loading imports the models it holds; the rest warm up after
        began = time.monotonic()
        try:
            restored = restore(saved)
            restore_seconds = round(time.monotonic() - began, 2)
        except SnapshotError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            return

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    threading.Thread(target=_warm_up, daemon=True).start()
    address = {"host": bound_host, "port": bound_port}
    print(json.dumps({**address, "restored": restored, "seconds": restore_seconds}), flush=True)
    _serve_commands(gate)  # until the parent closes the pipe (or dies)
    server.stop()


if __name__ == "__main__":
    main()
