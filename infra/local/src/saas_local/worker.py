"""One Lambda execution environment: a process that imports one handler (the cold start) and
then runs the events its parent sends over a pipe, one at a time, until the pipe closes.

Protocol: each message is a 4-byte big-endian length and a JSON document, on stdin (requests)
and on the descriptor that was stdout at start (responses). The handler's own prints and logs
go to stderr. Kept to the standard library: this module is part of every cold start.

A request may carry an injected fault (saas_local.faults, decided by the platform): `crash_after`
seconds (the process kills itself with SIGKILL then, or before answering if the handler was
quicker: its work may be half done, never answered) or `hold` (the handler runs, then the answer
is held past the deadline, so the platform's timeout stops the environment).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("SAAS_LOCAL_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return json.loads(stream.read(size))


def write_message(stream: BinaryIO, message: Any) -> None:
    data = json.dumps(message, default=str).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(exc),
    }


def _arm(fault: dict[str, Any] | None) -> None:
    """Start the injected crash's clock (the handler runs meanwhile)."""
    if fault and fault.get("crash_after") is not None:
        import threading

        timer = threading.Timer(float(fault["crash_after"]), _die)
        timer.daemon = True
        timer.start()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _before_answer(fault: dict[str, Any] | None, deadline: float) -> None:
    """What an injected fault does once the handler returned: a crash dies before answering;
    a hold waits past the deadline (the platform kills the environment at its timeout)."""
    if not fault:
        return
    if fault.get("crash_after") is not None:
        _die()
    if fault.get("hold"):
        time.sleep(max(0.0, deadline - time.time()) + 60.0)


def main() -> None:
    # Ctrl-C reaches the whole process group: the platform stops its children itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.buffer
    responses = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the handler's prints go to stderr
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    init_error = None
    handler = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # reported on every invocation, as Lambda's Runtime.ImportModuleError
        init_error = {**_error(exc), "errorType": "Runtime.ImportModuleError"}
    write_message(responses, {"ready": True})
    while (request := read_message(requests)) is not None:
        if init_error is not None:
            write_message(responses, {"error": init_error})
            continue
        context = LambdaContext(request["request_id"], request["deadline"])
        fault = request.get("fault")
        _arm(fault)
        try:
            result = handler(request["event"], context)  # type: ignore[misc]
            answer = {"result": result}
        except Exception as exc:
            traceback.print_exc()
            answer = {"error": _error(exc)}
        _before_answer(fault, request["deadline"])
        write_message(responses, answer)


if __name__ == "__main__":
    main()
