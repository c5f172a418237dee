"""moto's ThreadedMotoServer in a process of its own: each local platform gets its own AWS state
(moto keeps its state per process), and moto's work runs beside the gateway and the pumps
instead of competing with them for one interpreter lock.

Protocol: prints one JSON line {"host", "port"} when serving; stops when stdin closes.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading


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
        transaction_consumed_capacity,
    )

    cache_event_path_parsing()
    lean_transactions()
    transaction_consumed_capacity()
    cognito_revoke_token()
    keep_session_tags()
    enforce_assumed_role_policies()  # before serializing: its table lookups run under the lock
    serve_authorizer_cache_flushes()
    serve_on_moto(os.environ)

    _serialize_dynamodb()

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    threading.Thread(target=_warm_up, daemon=True).start()
    print(json.dumps({"host": bound_host, "port": bound_port}), flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or dies)
    server.stop()


if __name__ == "__main__":
    main()
