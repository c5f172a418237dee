"""Deploying one service into the running local platform, and how the platform is told.

`make deploy SERVICE=x STAGE=local` (through `saas-local deploy x`) POSTs to the platform's
control endpoint: an HTTP server on 127.0.0.1 only, on its own free port written to
.local/platform.json as `control_url`. A request, not a watched file: the caller gets the
outcome (deployed, or refused with the stack's reason) in the answer, and the port never
serves tenants' traffic (the gateway's port does, and a reserved path there could collide with a
route some template declares).

The platform then, per region of its map: translates the service's template, update_stack on
moto's CloudFormation, and swaps what it runs for that stack (see `LocalPlatform.redeploy`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib import error, parse, request

if TYPE_CHECKING:
    from saas_local.faults import FaultPlan

log = logging.getLogger("saas_local")

CONTROL_PATH = "/deploy"
FAULTS_PATH = "/faults"
# A redeploy translates and updates a stack per region and starts nothing eagerly: generous.
DEPLOY_TIMEOUT_SECONDS = 300.0


class DeployRefused(RuntimeError):
    """The running platform did not take the new version; the previous one keeps serving."""


Redeploy = Callable[[str], dict[str, Any]]
# Replace the fault plan (a plan) or read it (None): the plan and the counts injected so far.
SetFaults = Callable[["FaultPlan | None"], dict[str, Any]]
# Lambda's Invoke (a function's name or ARN, the event): the function's answer, or
# InvocationError. Served here because moto cannot run functions (saas-redrive invokes through it).
InvokeFunction = Callable[[str, Any], Any]
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class _ControlHandler(BaseHTTPRequestHandler):
    redeploy: Redeploy
    set_faults: SetFaults
    invoke: InvokeFunction | None

    def do_GET(self) -> None:
        if self.path != FAULTS_PATH:
            self._answer(404, {"message": f"GET {FAULTS_PATH} or POST {CONTROL_PATH}"})
            return
        self._answer(200, self.set_faults(None))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path == FAULTS_PATH:
            self._post_faults(self.rfile.read(length))
            return
        invocation = INVOKE_PATH.match(self.path.split("?", 1)[0])
        if invocation and self.invoke is not None:
            self._invoke(parse.unquote(invocation.group(1)), self.rfile.read(length))
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            service = body["service"]
            if self.path != CONTROL_PATH or not isinstance(service, str):
                raise KeyError("service")
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"message": 'POST /deploy with {"service": "<name>"}'})
            return
        try:
            self._answer(200, self.redeploy(service))
        except DeployRefused as exc:
            self._answer(409, {"message": str(exc)})
        except Exception as exc:  # the platform's own failure: said, not a dropped connection
            log.exception("deploying %s failed", service)
            self._answer(500, {"message": f"the platform failed: {exc}"})

    def _post_faults(self, body: bytes) -> None:
        from saas_local.faults import FaultPlan, FaultPlanError

        try:
            plan = FaultPlan.from_json(json.loads(body or b"{}"))
        except ValueError as exc:  # FaultPlanError and JSONDecodeError alike
            message = str(exc) if isinstance(exc, FaultPlanError) else f"not JSON: {exc}"
            self._answer(400, {"message": message})
            return
        self._answer(200, self.set_faults(plan))

    def _invoke(self, function: str, body: bytes) -> None:
        """As Lambda answers Invoke: 200 with the result, or with X-Amz-Function-Error."""
        from saas_local.platform import LocalPlatformError
        from saas_local.workers import InvocationError

        assert self.invoke is not None
        try:
            event = json.loads(body or b"{}")
        except ValueError as exc:
            error = {"Type": "User", "message": f"the payload is not JSON: {exc}"}
            self._answer(400, error, {"x-amzn-ErrorType": "InvalidRequestContentException"})
            return
        try:
            result = self.invoke(function, event)
        except LocalPlatformError as exc:
            error = {"Type": "User", "message": str(exc)}
            self._answer(404, error, {"x-amzn-ErrorType": "ResourceNotFoundException"})
            return
        except InvocationError as exc:
            failed = {"errorType": exc.error_type, "errorMessage": exc.error_message}
            self._answer(200, failed, {"X-Amz-Function-Error": "Unhandled"})
            return
        self._answer(200, result)

    def _answer(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ControlServer:
    """The platform's control endpoint: 127.0.0.1 only, whatever host the gateway binds."""

    def __init__(
        self,
        redeploy: Redeploy,
        set_faults: SetFaults,
        port: int = 0,
        invoke: InvokeFunction | None = None,
    ) -> None:
        handler = type(
            "ControlHandler",
            (_ControlHandler,),
            {
                "redeploy": staticmethod(redeploy),
                "set_faults": staticmethod(set_faults),
                "invoke": staticmethod(invoke) if invoke else None,
            },
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="saas-control"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def deploy_to_running_platform(state_file: Path, service: str) -> dict[str, Any]:
    """Ask the platform described by `state_file` to deploy `service`; its answer, or
    DeployRefused with the reason."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeployRefused(f"no running local platform ({state_file}: {exc}): make run") from None
    url = state.get("control_url")
    if not isinstance(url, str):
        raise DeployRefused(f"{state_file} names no control_url: restart the platform (make run)")
    call = request.Request(
        url + CONTROL_PATH,
        data=json.dumps({"service": service}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with request.urlopen(call, timeout=DEPLOY_TIMEOUT_SECONDS) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result
    except error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("message", str(exc))
        raise DeployRefused(f"{service}: {message}") from None
    except OSError as exc:
        raise DeployRefused(f"the local platform at {url} does not answer ({exc})") from None


def faults_of_running_platform(state_file: Path, plan: FaultPlan | None) -> dict[str, Any]:
    """Replace the running platform's fault plan (plan given) or read it: plan and counts."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        url = state["control_url"]
    except (OSError, ValueError, KeyError) as exc:
        raise DeployRefused(f"no running local platform ({state_file}: {exc}): make run") from None
    call = request.Request(
        url + FAULTS_PATH,
        data=None if plan is None else json.dumps(plan.to_json()).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if plan is None else "POST",
    )
    try:
        with request.urlopen(call, timeout=30) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result
    except error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("message", str(exc))
        raise DeployRefused(message) from None
    except OSError as exc:
        raise DeployRefused(f"the local platform at {url} does not answer ({exc})") from None
