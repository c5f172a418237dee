"""Functions run as Lambda runs them: one worker process per execution environment, with the
function's own environment variables; a worker is reused while warm, and more are started (up
to a limit) when invocations overlap.

Injected faults (the platform's FaultInjector, selector `function`: the deployed name):
`lambda.crash` kills the environment in the middle of the invocation (Runtime.ExitError,
"signal: killed"), `lambda.timeout` holds the answer past the function's Timeout
(Sandbox.Timedout). Either way the environment is discarded: the next invocation is a cold start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from saas_local.faults import FaultInjector
from saas_local.worker import read_message, write_message

log = logging.getLogger("saas_local.workers")

# Lambda gives a function's init (its imports) 10 s; a loaded laptop or CI runner needs more.
INIT_TIMEOUT_SECONDS = 60.0


# How long a running invocation may go on once the platform stops.
STOP_GRACE_SECONDS = 3.0

# An injected crash kills the environment at most this long after the event reached it (the
# delay drawn from the plan's seed), so it lands before, during or after a batch's work (then the
# answer is lost): tests/local_platform/test_faults_lambda.py shows each.
CRASH_WINDOW_SECONDS = 0.5


class InvocationError(RuntimeError):
    """The function failed: it raised, timed out or its process died. Lambda's error shape."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.error_message = message
        self.stack = stack or []


@dataclass(frozen=True)
class FunctionConfig:
    name: str  # the deployed function name
    arn: str
    handler: str
    region: str
    environment: dict[str, str]  # resolved from the template
    timeout: int
    memory_size: int
    code_dir: Path | None
    aws_endpoint_url: str
    log_file: Path | None = None  # the function's log lines (its stderr); None: this process's
    # Also offered each log line (log group, line): CloudWatch Logs subscriptions
    # (saas_local.log_subscriptions); None: the lines go straight to log_file or stderr.
    log_sink: Callable[[str, str], None] | None = None


def lambda_environment(config: FunctionConfig) -> dict[str, str]:
    """The process environment of the function: Lambda's reserved variables, the template's
    variables, and what points the AWS SDK at the local platform. Nothing of the parent's leaks
    in except PATH."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "_HANDLER": config.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "SAAS_LOCAL_FUNCTION_ARN": config.arn,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": config.aws_endpoint_url,
        # No X-Ray daemon runs locally: tracing off, so no UDP traffic anywhere.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
        "POWERTOOLS_SERVICE_NAME": config.name,
        "POWERTOOLS_METRICS_NAMESPACE": "saas",
    }
    if config.code_dir is not None:
        environment["PYTHONPATH"] = str(config.code_dir)
        environment["LAMBDA_TASK_ROOT"] = str(config.code_dir)
    environment.update(config.environment)
    return environment


class _Worker:
    def __init__(self, config: FunctionConfig) -> None:
        log = None
        if config.log_file is not None:
            config.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = config.log_file.open("ab")
        sink = config.log_sink
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "saas_local.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log if sink is None else subprocess.PIPE,
                env=lambda_environment(config),
                cwd=str(config.code_dir or Path.cwd()),
            )
        except BaseException:
            if log is not None:
                log.close()
            raise
        if sink is None or self.process.stderr is None:
            if log is not None:
                log.close()  # the worker holds its own descriptor
        else:
            threading.Thread(
                target=_copy_log_lines,
                args=(self.process.stderr, log, sink, f"/aws/lambda/{config.name}"),
                name=f"log-{config.name}",
                daemon=True,
            ).start()
        self.ready = False

    def call(self, message: dict[str, Any], timeout: float) -> Any:
        assert self.process.stdin is not None
        if not self.ready:  # the init phase has its own limit, as in Lambda (generous here)
            self._read(INIT_TIMEOUT_SECONDS)
            self.ready = True
        write_message(self.process.stdin, message)
        return self._read(timeout)

    def _read(self, timeout: float) -> Any:
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not readable:
            raise TimeoutError
        response = read_message(self.process.stdout)
        if response is None:
            raise EOFError
        return response

    def signal_stop(self) -> None:
        """Close the request pipe: the worker finishes its event, if any, and exits."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def stop(self, deadline: float | None = None) -> None:
        self.signal_stop()
        if deadline is None:
            deadline = time.monotonic() + STOP_GRACE_SECONDS
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()


def _copy_log_lines(
    lines: IO[bytes], log: IO[bytes] | None, sink: Callable[[str, str], None], group: str
) -> None:
    """The worker's stderr, line by line, to where it goes anyway and to the subscriptions."""
    out = log if log is not None else sys.stderr.buffer
    try:
        for line in iter(lines.readline, b""):
            out.write(line)
            out.flush()
            try:
                sink(group, line.decode("utf-8", "replace").rstrip("\n"))
            except Exception:  # a subscription's failure never stops the function's logs
                continue
    except (OSError, ValueError):
        pass  # the worker is gone
    finally:
        lines.close()
        if log is not None:
            log.close()


class _Retired(Exception):
    """Raised inside `invoke` when the runtime was retired while the invocation waited."""


class FunctionRuntime:
    """Invokes one deployed function; thread-safe. At most `max_concurrency` workers."""

    def __init__(
        self,
        config: FunctionConfig,
        max_concurrency: int = 4,
        faults: FaultInjector | None = None,
    ) -> None:
        self.config = config
        self._faults = faults
        self._crashes = 0  # injected so far: the index of the next crash's delay draw
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._closed = False
        self._successor: FunctionRuntime | None = None
        self.cold_starts = 0

    def invoke(self, event: Any) -> Any:
        """The handler's result, or InvocationError as Lambda would report it."""
        successor = self._successor
        if successor is not None:  # a newer version is deployed: it takes what comes now
            return successor.invoke(event)
        try:
            return self._invoke_here(event)
        except _Retired:
            assert self._successor is not None
            return self._successor.invoke(event)

    def _injected_fault(self) -> dict[str, Any] | None:
        """The fault the plan injects into this invocation, as the worker reads it."""
        faults = self._faults
        if faults is None or not faults.plan:
            return None
        if faults.fault("lambda.crash", function=self.config.name):
            with self._lock:
                draw = self._crashes
                self._crashes += 1
            seed = f"{faults.plan.seed}|{self.config.name}|crash|{draw}"
            window = min(CRASH_WINDOW_SECONDS, float(self.config.timeout))
            return {"crash_after": round(random.Random(seed).uniform(0.0, window), 3)}
        if faults.fault("lambda.timeout", function=self.config.name):
            return {"hold": True}
        return None

    def _invoke_here(self, event: Any) -> Any:
        with self._slots:
            worker = self._acquire()
            request_id = str(uuid.uuid4())
            deadline = time.time() + self.config.timeout
            message = {"event": event, "request_id": request_id, "deadline": deadline}
            fault = self._injected_fault()
            if fault is not None:
                message["fault"] = fault
                log.info("%s %s: injected %s", self.config.name, request_id, fault)
            try:
                response = worker.call(message, timeout=self.config.timeout)
            except TimeoutError:
                self._discard(worker)
                raise InvocationError(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: "
                    f"Task timed out after {self.config.timeout:.2f} seconds",
                ) from None
            except (EOFError, OSError, ValueError):
                status = self._discard(worker, exited=True)
                raise InvocationError(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: Runtime exited with error: {status}",
                ) from None
            self._release(worker)
        if "error" in response:
            error = response["error"]
            raise InvocationError(
                error.get("errorType", "Error"),
                error.get("errorMessage", ""),
                error.get("stackTrace"),
            )
        return response["result"]

    def retire(self, successor: FunctionRuntime) -> None:
        """A new version replaces this one: invocations from now go to `successor`; idle
        workers exit now, busy ones once their event is answered (drain)."""
        with self._lock:
            self._successor = successor
            idle, self._idle = self._idle, []
        for worker in idle:
            with self._lock:
                if worker in self._all:
                    self._all.remove(worker)
            worker.stop()

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._successor is not None:
                raise _Retired
            if self._closed:
                raise InvocationError("Runtime.Stopped", "the local platform is stopping")
            if self._idle:
                return self._idle.pop()
            worker = _Worker(self.config)
            self._all.append(worker)
            self.cold_starts += 1
            return worker

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed or self._successor is not None:
                if worker in self._all:
                    self._all.remove(worker)
                worker.stop()
            else:
                self._idle.append(worker)

    def _discard(self, worker: _Worker, exited: bool = False) -> str:
        """Kill the environment; how it ended, as Lambda words it ("signal: killed")."""
        code = None
        if exited:  # its pipe closed: it is dying, let it be reaped to read how
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = worker.process.wait(timeout=2.0)
        worker.process.kill()
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        return _exit_status(code if code is not None else worker.process.returncode)

    def signal_close(self) -> None:
        """Refuse new invocations and let every worker exit (see `close` to wait for them)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            worker.signal_stop()

    def close(self, deadline: float | None = None) -> None:
        """Stop every worker; those still running an event at `deadline` are killed."""
        self.signal_close()
        if deadline is None:
            deadline = time.monotonic() + STOP_GRACE_SECONDS
        with self._lock:
            workers, self._all, self._idle = self._all, [], []
        for worker in workers:
            worker.stop(deadline)


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        name = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated"}.get(
            signal.Signals(-code), signal.Signals(-code).name
        )
        return f"signal: {name}"
    return f"exit status {code}"
