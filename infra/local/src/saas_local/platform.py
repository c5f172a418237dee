"""The local platform as one object: start() brings it up, stop() leaves nothing behind."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
import secrets
import string
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saas_local import faults, moto_gaps, templates
from saas_local.authorizer import AuthorizerCache
from saas_local.console import ConsoleServer, config_document
from saas_local.gateway import (
    ApiResponses,
    AuthorizerFlushWatcher,
    Gateway,
    GatewayRoute,
    GatewayServer,
    RouteAuthorizer,
)
from saas_local.intrinsics import DeployedStack
from saas_local.log_subscriptions import LogSubscriptions, subscription_policies
from saas_local.pumps import SqsPump, StreamPump
from saas_local.redeploy import ControlServer, DeployRefused
from saas_local.usage_plans import ApiGatewayPlanLookup, UsagePlanEnforcer
from saas_local.workers import STOP_GRACE_SECONDS, FunctionConfig, FunctionRuntime

log = logging.getLogger("saas_local")

DEFAULT_REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}
CODE_BUCKET = "saas-local-code"
PLATFORM_STACK = "saas-platform"


# A template parameter the deploy tooling fills from the service's own file, as `make deploy`
# does: the service's route permissions, which its stack publishes for the authorizer.
ROUTE_PERMISSIONS_PARAMETER = "RoutePermissions"
ROUTE_PERMISSIONS_FILES = "src/*/entrypoints/permissions.json"
# The origin an API answers CORS for (its templates' parameter): the console's, locally.
CONSOLE_ORIGIN_PARAMETER = "ConsoleOrigin"
CONSOLE_DIST = Path("web") / "dist"


CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

# The platform's kept data, in its state_dir: moto's AWS state (written by moto's process) and
# what the platform deployed there (its stacks as deployed, user pools, SystemAdmin, the stream
# pollers' positions). Both or neither: a start restores from the two.
AWS_STATE_FILE = "aws.pickle"
PLATFORM_STATE_FILE = "platform.pickle"
STATE_FORMAT = 1


def _source_arn(pump: Any) -> str:
    return str(getattr(pump, "queue_arn", None) or getattr(pump, "stream_arn", ""))


def _code_digest(folder: Path) -> str:
    """What identifies a version of the service's code: a digest of its files (caches aside)."""
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts and ".venv" not in file.parts:
            digest.update(str(file.relative_to(folder)).encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class LocalPlatformError(RuntimeError):
    """The platform could not start; the message says which template or resource."""


def file_parameters(template: Path, sam: Mapping[str, Any]) -> list[dict[str, str]]:
    """The parameters filled from the service's files that the template declares: its
    RoutePermissions from `src/<package>/entrypoints/permissions.json` (compact JSON)."""
    if ROUTE_PERMISSIONS_PARAMETER not in (sam.get("Parameters") or {}):
        return []
    found = sorted(template.parent.glob(ROUTE_PERMISSIONS_FILES))
    if len(found) != 1:
        raise LocalPlatformError(
            f"{template}: declares {ROUTE_PERMISSIONS_PARAMETER} but has {len(found)} files "
            f"{ROUTE_PERMISSIONS_FILES} (one expected)"
        )
    try:
        document = json.loads(found[0].read_text(encoding="utf-8"))
    except ValueError as exc:
        raise LocalPlatformError(f"{found[0]}: not JSON ({exc})") from None
    value = json.dumps(document, separators=(",", ":"))
    return [{"ParameterKey": ROUTE_PERMISSIONS_PARAMETER, "ParameterValue": value}]


def service_templates(root: Path) -> list[Path]:
    """Every services/*/template.yaml, each after the stacks whose exports it imports."""
    return deploy_order(sorted(root.glob("services/*/template.yaml")))


def deploy_order(paths: Sequence[Path]) -> list[Path]:
    """The templates in an order that deploys: a template that imports (Fn::ImportValue) a name
    another one exports comes after it; otherwise by folder name. An import no template here
    exports is the platform stack's, deployed first. No list of services to keep up to date:
    a new service takes its place from what it imports."""
    loaded = {path: templates.load_template(path) for path in paths}
    exporter = {name: path for path, template in loaded.items() for name in _exports(template)}
    needs = {
        path: {exporter[name] for name in _imports(template) if name in exporter} - {path}
        for path, template in loaded.items()
    }
    ordered: list[Path] = []
    while len(ordered) < len(paths):
        ready = sorted(
            (p for p in paths if p not in ordered and needs[p] <= set(ordered)),
            key=lambda p: (p.parent.name, str(p)),
        )
        if not ready:
            cycle = ", ".join(sorted(p.parent.name for p in paths if p not in ordered))
            raise LocalPlatformError(
                f"the templates import each other's exports in a cycle: {cycle}"
            )
        ordered.append(ready[0])
    return ordered


def _exports(template: Mapping[str, Any]) -> list[str]:
    outputs = template.get("Outputs") or {}
    names = [(output.get("Export") or {}).get("Name") for output in outputs.values()]
    return [name for name in names if isinstance(name, str)]


def _imports(value: Any) -> set[str]:
    """Every literal name the template passes to Fn::ImportValue."""
    if isinstance(value, Mapping):
        found = set()
        for key, item in value.items():
            if key == "Fn::ImportValue" and isinstance(item, str):
                found.add(item)
            else:
                found |= _imports(item)
        return found
    if isinstance(value, list):
        return set().union(*(_imports(item) for item in value)) if value else set()
    return set()


@dataclass
class PlatformConfig:
    root: Path
    platform_template: Path | None = None  # default: <root>/infra/platform.yaml
    service_templates: Sequence[Path] | None = None  # default: services/*/template.yaml
    region_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REGION_MAP))
    home_region_group: str = "us"
    host: str = "127.0.0.1"
    api_port: int = 8080  # 0: a free port
    aws_port: int = 0  # moto's server; 0: a free port
    state_file: Path | None = None  # default: <root>/.local/platform.json; False-y to skip
    write_state: bool = True
    max_concurrency: int = 4  # execution environments per function
    function_log: Path | None = None  # every function's log lines; None: this process's stderr
    system_admin_username: str = "admin"
    # The web console (web/dist, built by `npm run build` in web/) on its own origin: True
    # serves it (an error when it is not built), False does not, None serves it when it is built.
    console: bool | None = None
    console_port: int = 8081  # 0: a free port
    # The origin the APIs answer CORS for: by default the console's URL ("*" without a console).
    cors_origin: str | None = None
    # Template parameters by stack ("platform", or a service's folder name): a test's own
    # limits, for example {"platform": {"BasicRateLimit": "2"}}.
    parameters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Faults injected on purpose (saas_local.faults): a plan, or its text (JSON, a file, or
    # `kind=share,...`). None: no faults.
    faults: faults.FaultPlan | str | None = None
    # Where the platform keeps its data across a stop and a start (`make run`: <root>/.local/
    # state): saved at stop (after the gateway, the pollers and the functions stopped), every
    # `snapshot_seconds` while it runs (0: only at stop) and by save_state(); a start restores
    # it. None: nothing kept (tests, unless they ask). fresh: start empty even when state is
    # there (it is replaced).
    state_dir: Path | None = None
    fresh: bool = False
    snapshot_seconds: float = 60.0

    @property
    def home_region(self) -> str:
        return self.region_map[self.home_region_group]

    @property
    def regions(self) -> list[str]:
        ordered = [self.home_region]
        ordered += [r for r in self.region_map.values() if r not in ordered]
        return ordered


@dataclass
class _Stack:
    service: str
    region: str
    sam: dict[str, Any]
    cfn: dict[str, Any]
    deployed: DeployedStack
    base: Path
    # Its REST APIs as created in the embedded AWS: logical id -> (api id, stages).
    apis: Mapping[str, tuple[str, list[str]]] = field(default_factory=dict)


def stack_name(template: Path) -> str:
    return f"saas-{template.parent.name}"


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def _api_responses(deployed: DeployedStack, spec: templates.ApiAnswers) -> ApiResponses:
    """The API's own answers with their values resolved: a header value in the template is a
    quoted literal ("'GET,POST'"); a mapping from the request is not served locally."""

    def literal(headers: Mapping[str, Any]) -> dict[str, str]:
        values = {name: deployed.resolve(value) for name, value in headers.items()}
        return {
            name: value[1:-1]
            for name, value in values.items()
            if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'"
        }

    return ApiResponses(
        preflight={path: literal(h) for path, h in spec.preflight.items()},
        gateway_responses={kind: literal(h) for kind, h in spec.gateway_responses.items()},
        templates=dict(spec.templates),
    )


class LocalPlatform:
    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self._moto: subprocess.Popen[str] | None = None
        self._aws_endpoint_url = ""
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None
        self._state_written: Path | None = None
        self.stacks: list[_Stack] = []
        self.functions: dict[tuple[str, str, str], FunctionRuntime] = {}
        self.pumps: list[SqsPump | StreamPump] = []
        self.gateway_server: GatewayServer | None = None
        self.gateway: Gateway | None = None
        self.console_server: ConsoleServer | None = None
        self.console_note = ""  # why the console is not served, when it is not
        self.flush_watcher: AuthorizerFlushWatcher | None = None
        self.cognito: dict[str, dict[str, dict[str, Any]]] = {}
        self.info: dict[str, Any] = {}
        self.control_server: ControlServer | None = None
        self._deploy_lock = threading.Lock()
        self._usage: UsagePlanEnforcer | None = None
        self._authorizer_caches: dict[str, AuthorizerCache] = {}
        self._moto_lock = threading.Lock()  # one command at a time on moto's stdin
        self._stream_positions: dict[str, dict[str, list[str]]] = {}  # restored, until used
        self._digests: dict[tuple[str, str], str] = {}  # (stack, region): as deployed
        self._locations: dict[tuple[str, str], str] = {}  # (stack, region): its template
        self._running = False  # started completely: a stop then saves the state
        self._snapshots_stop = threading.Event()
        self._snapshots: threading.Thread | None = None
        self.restored_from: dict[str, Any] | None = None  # the saved state this start resumed
        self.last_save: dict[str, Any] | None = None  # what the last save_state() wrote
        self._aws_restore_seconds = 0.0
        self.log_subscriptions: LogSubscriptions | None = None  # log_subscriptions.py
        plan = config.faults
        # The gateway's, the pumps' and the function runtimes' faults; the AWS APIs' are decided
        # in moto's process (faults.moto_injector), told each plan by set_faults.
        self.faults = faults.FaultInjector(
            faults.FaultPlan.parse(plan) if isinstance(plan, str) else plan
        )

    # -- AWS clients --------------------------------------------------------------------------
    @property
    def aws_endpoint_url(self) -> str:
        return self._aws_endpoint_url

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.config.home_region
        key = (service, region)
        with self._clients_lock:
            if key not in self._clients:
                import boto3
                from botocore.config import Config

                if self._session is None:  # one session: its loaded service models are shared
                    self._session = boto3.session.Session()
                self._clients[key] = self._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.aws_endpoint_url,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=Config(retries={"max_attempts": 2}, max_pool_connections=50),
                )
            return self._clients[key]

    def _region_clients(self, region: str) -> Any:
        return lambda service: self.client(service, region)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            self._bind_console()
            saved = self._saved_state()
            self._start_moto(restore=saved is not None)
            log.info(
                "moto's server at %s (%.1f s)", self.aws_endpoint_url, time.monotonic() - started
            )
            if saved is None:
                for region in self.config.regions:
                    self._deploy_region(region)
                log.info("stacks deployed (%.1f s)", time.monotonic() - started)
            else:
                self._restore_stacks(saved)
                log.info("stacks restored (%.1f s)", time.monotonic() - started)
            self._start_log_subscriptions()
            self._start_functions_and_pumps()
            self._stream_positions = {}
            self._start_gateway()
            log.info("pumps and gateway started (%.1f s)", time.monotonic() - started)
            self.info = self._create_system_admin(saved["system_admin"] if saved else None)
            self.info["state"] = self._state_note(saved)
            self._start_console()
            self.control_server = ControlServer(
                self.redeploy, self.set_faults, invoke=self.invoke_function
            )
            self.control_server.start()
            self.info["control_url"] = self.control_server.url
            self.info["startup_seconds"] = round(time.monotonic() - started, 2)
            if self.config.state_dir is not None:
                # From now on a start finds the stacks, whatever happens (a restore that changed
                # nothing finds them already).
                if saved is None or (self.restored_from or {}).get("updated"):
                    self.save_state()
                if self.config.snapshot_seconds > 0:
                    self._snapshots = threading.Thread(
                        target=self._snapshot_periodically, name="snapshots", daemon=True
                    )
                    self._snapshots.start()
            self._running = True
            if self.config.write_state:
                path = self.config.state_file or self.config.root / ".local" / "platform.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(self.info, indent=2) + "\n")
                self._state_written = path
        except BaseException:
            self.stop()
            raise
        return self.info

    def stop(self) -> None:
        """Stop everything started. Functions first: queued invocations are refused and running
        ones get a few seconds, so no gateway request or poller waits out a function timeout;
        each step is started everywhere before it is waited for. With a state_dir, the state is
        saved last, when nothing runs any more: all a client was answered is in it."""
        self._snapshots_stop.set()
        if self._snapshots is not None:
            self._snapshots.join()
            self._snapshots = None
        if self.control_server is not None:
            self.control_server.stop()
            self.control_server = None
        for pump in self.pumps:
            pump.signal_stop()
        if self.log_subscriptions is not None:  # what is pending, while its destination runs
            self.log_subscriptions.stop()
            self.log_subscriptions = None
        for runtime in self.functions.values():
            runtime.signal_close()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for runtime in self.functions.values():
            runtime.close(deadline)
        self.functions = {}
        if self.flush_watcher is not None:
            self.flush_watcher.stop()
            self.flush_watcher = None
        if self.gateway_server is not None:
            self.gateway_server.stop()
            self.gateway_server = None
        if self.console_server is not None:
            self.console_server.stop()
            self.console_server = None
        for pump in self.pumps:
            pump.join()
        if self._running and self.config.state_dir is not None:
            try:
                self.save_state()
            except Exception:  # the platform still stops; the previous snapshot is kept
                log.exception("the state could not be saved at stop")
        self._running = False
        self.pumps = []
        for client in self._clients.values():
            client.close()
        self._clients = {}
        self._stop_moto()
        if self._state_written is not None:  # what it says is no longer running
            self._state_written.unlink(missing_ok=True)
            self._state_written = None

    def __enter__(self) -> LocalPlatform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- steps --------------------------------------------------------------------------------
    @property
    def cors_origin(self) -> str:
        if self.config.cors_origin:
            return self.config.cors_origin
        return self.console_server.url if self.console_server is not None else "*"

    def _bind_console(self) -> None:
        """The console's port, taken first: its origin is what the APIs allow."""
        dist = self.config.root / CONSOLE_DIST
        built = (dist / "index.html").is_file()
        if self.config.console is False:
            self.console_note = "not served (console=False)"
            return
        if not built:
            self.console_note = (
                f"not built ({CONSOLE_DIST}/index.html missing): "
                "cd web && npm ci && npm run build, or make run"
            )
            if self.config.console:
                raise LocalPlatformError(f"the console is {self.console_note}")
            log.warning("the console is %s", self.console_note)
            return
        try:
            self.console_server = ConsoleServer(dist, self.config.host, self.config.console_port)
        except OSError as exc:
            raise LocalPlatformError(
                f"the console's port {self.config.console_port} is taken ({exc}): "
                "set CONSOLE_PORT (0 picks a free one)"
            ) from None

    def _start_console(self) -> None:
        server = self.console_server
        self.info["console_url"] = server.url if server is not None else None
        if server is None:
            return
        info = self.info
        server.configure(
            config_document(
                api_url=str(info["api_url"]),
                region=str(info["region"]),
                user_pool_id=str(info["user_pool_id"]),
                user_pool_client_id=str(info["user_pool_client_id"]),
                cognito=self.aws_endpoint_url,
            ),
            connect=[str(info["api_url"]), self.aws_endpoint_url],
        )
        server.start()
        log.info("console at %s", server.url)

    def set_faults(self, plan: faults.FaultPlan | None = None) -> dict[str, Any]:
        """Replace the fault plan everywhere (plan given; an empty plan turns faults off), or
        read it. The plan and what was injected so far, by kind, across the processes."""
        if plan is not None:
            self.faults.replace(plan)
        moto = faults.tell_moto(self.aws_endpoint_url, plan)
        counts = dict(self.faults.counts())
        for kind, count in moto["counts"].items():
            counts[kind] = counts.get(kind, 0) + count
        return {"plan": self.faults.plan.to_json(), "counts": counts}

    def _start_moto(self, restore: bool = False) -> None:
        from saas_local.aws_server import ENV_STATE

        environment = dict(os.environ)
        environment[faults.ENV_MOTO_PLAN] = json.dumps(self.faults.plan.to_json())
        environment.pop(ENV_STATE, None)
        if restore and self.config.state_dir is not None:
            environment[ENV_STATE] = str(self.config.state_dir / AWS_STATE_FILE)
        self._moto = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "saas_local.aws_server",
                self.config.host,
                str(self.config.aws_port),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        assert self._moto.stdout is not None
        line = self._moto.stdout.readline()
        if not line:
            raise LocalPlatformError("moto's server did not start (see its output above)")
        address = json.loads(line)
        if "error" in address:
            raise LocalPlatformError(f"moto's server did not start: {address['error']}")
        self._aws_endpoint_url = f"http://{address['host']}:{address['port']}"
        self._aws_restore_seconds = float(address.get("seconds") or 0.0)

    def _stop_moto(self) -> None:
        process, self._moto = self._moto, None
        if process is None:
            return
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def _deploy_region(self, region: str) -> None:
        platform_template = (
            self.config.platform_template or self.config.root / "infra/platform.yaml"
        )
        s3 = self.client("s3", region)
        create = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=f"{CODE_BUCKET}-{region}", **create)
        self._deploy(platform_template, PLATFORM_STACK, "platform", region)
        for template in (
            self.config.service_templates
            if self.config.service_templates is not None
            else service_templates(self.config.root)
        ):
            self._deploy(template, stack_name(template), template.parent.name, region)

    def _deploy(self, path: Path, name: str, service: str, region: str) -> None:
        sam, cfn, deployable, parameters = self._translate(path, service, region, create=True)
        cloudformation = self.client("cloudformation", region)
        try:
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=json.dumps(deployable),
                Parameters=parameters,
                Capabilities=CAPABILITIES,
            )
        except Exception as exc:
            raise LocalPlatformError(f"{path.name} ({region}): create_stack failed: {exc}") from exc
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            reason = f"{stack['StackStatus']} {stack.get('StackStatusReason', '')}"
            raise LocalPlatformError(f"{path.name} ({region}): {reason}")
        deployed = DeployedStack(name, region, deployable, self._region_clients(region))
        apigateway = self.client("apigateway", region)
        apis = moto_gaps.create_rest_apis(cfn, apigateway, name)
        moto_gaps.create_usage_plans(cfn, apigateway, apis, deployed.resolve)
        moto_gaps.create_cloudwatch_resources(
            cfn, self.client("cloudwatch", region), name, deployed.resolve
        )
        self.stacks.append(_Stack(service, region, sam, cfn, deployed, path.parent, apis))
        self._digests[(name, region)] = self._template_digest(path, service)
        self._locations[(name, region)] = self._location(path)
        log.info("deployed %s in %s", name, region)

    def _translate(
        self, path: Path, service: str, region: str, *, create: bool
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, str]]]:
        """The template as the platform deploys it: SAM translated, moto's gaps adapted, and its
        parameters. On an update the user pools already made for the region are reused."""
        sam = templates.load_template(path)
        preferences = sorted(set(templates.deployment_preferences(sam).values()))
        if preferences:
            log.info(
                "%s (%s): deployment preference %s applied at once (no gradual shift, no alarms)",
                service,
                region,
                ", ".join(preferences),
            )
        code = self._upload_code(service, region, _code_digest(path.parent))
        cache = self.config.root / ".local" / "sam-cache"
        cfn = templates.translate(sam, region, code=code, cache_dir=cache)
        if create:
            cognito = moto_gaps.create_cognito(cfn, self.client("cognito-idp", region))
            if cognito:
                self.cognito[region] = cognito
        else:
            cognito = self.cognito.get(region, {})
        deployable = moto_gaps.adapt_template(cfn, cognito)
        declared = sam.get("Parameters") or {}
        parameters = file_parameters(path, sam) + [
            {"ParameterKey": key, "ParameterValue": str(value)}
            for key, value in self.config.parameters.get(service, {}).items()
            if key in declared  # a template without the limits (a fixture) is left as it is
        ]
        if CONSOLE_ORIGIN_PARAMETER in declared:
            parameters.append(
                {"ParameterKey": CONSOLE_ORIGIN_PARAMETER, "ParameterValue": self.cors_origin}
            )
        return sam, cfn, deployable, parameters

    # -- one service's new version into the running platform ---------------------------------
    def redeploy(self, service: str) -> dict[str, Any]:
        """Deploy `service`'s template as it is now in every region where it runs: update_stack
        through CloudFormation, then its functions, event sources and routes swapped. Refused
        (DeployRefused, the previous version serving) when a stack does not update."""
        with self._deploy_lock:
            started = time.monotonic()
            old = [stack for stack in self.stacks if stack.service == service]
            if not old or service == "platform":
                known = sorted({s.service for s in self.stacks} - {"platform"})
                raise DeployRefused(f"no service {service!r} runs here (running: {known})")
            path = old[0].base / "template.yaml"
            updated: list[tuple[_Stack, _Stack]] = []
            for stack in old:
                try:
                    updated.append((stack, self._update_stack(path, stack)))
                except DeployRefused:
                    for previous, _ in updated:  # the regions done go back to what serves
                        self._update_stack(path, previous, template=previous)
                    raise
            for previous, current in updated:
                self.stacks[self.stacks.index(previous)] = current
            self._swap_functions_and_pumps([current for _, current in updated])
            if self.gateway is not None:
                self.gateway.replace_routes(self._routes())
            seconds = round(time.monotonic() - started, 2)
            log.info(
                "%s redeployed in %s (%.1f s): applied at once, no gradual shift",
                service,
                ", ".join(s.region for s in old),
                seconds,
            )
            return {
                "service": service,
                "stacks": [s.deployed.name for s in old],
                "regions": [s.region for s in old],
                "seconds": seconds,
                "rollout": "applied at once (the local platform has no gradual shift)",
            }

    def _update_stack(self, path: Path, stack: _Stack, template: _Stack | None = None) -> _Stack:
        """update_stack with the translated template (or `template`'s, to go back to it)."""
        region, name = stack.region, stack.deployed.name
        cloudformation = self.client("cloudformation", region)
        try:
            if template is None:
                sam, cfn, deployable, parameters = self._translate(
                    path, stack.service, region, create=False
                )
            else:
                sam, cfn = template.sam, template.cfn
                deployable = template.deployed.template
                parameters = [
                    {"ParameterKey": p["ParameterKey"], "ParameterValue": p["ParameterValue"]}
                    for p in cloudformation.describe_stacks(StackName=name)["Stacks"][0].get(
                        "Parameters", []
                    )
                ]
            found = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
            created = {r.get("LogicalResourceId") for r in found} - {None}
            deployable = moto_gaps.without_false_conditions(deployable, created)
            cloudformation.update_stack(
                StackName=name,
                TemplateBody=json.dumps(deployable),
                Parameters=parameters,
                Capabilities=CAPABILITIES,
            )
        except Exception as exc:
            if "No updates are to be performed" not in str(exc):
                raise DeployRefused(
                    f"{name} ({region}): update_stack failed, the previous version serves: {exc}"
                ) from exc
            log.info("%s (%s): the stack is unchanged; its functions restart", name, region)
        try:
            status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        except Exception as exc:
            raise DeployRefused(
                f"{name} ({region}): update_stack failed, the previous version serves: {exc}"
            ) from exc
        if status["StackStatus"] not in ("UPDATE_COMPLETE", "CREATE_COMPLETE"):
            reason = f"{status['StackStatus']} {status.get('StackStatusReason', '')}"
            raise DeployRefused(f"{name} ({region}): {reason}; the previous version serves")
        deployed = DeployedStack(name, region, deployable, self._region_clients(region))
        if template is None:
            self._digests[(name, region)] = self._template_digest(path, stack.service)
        moto_gaps.create_cloudwatch_resources(
            cfn, self.client("cloudwatch", region), name, deployed.resolve
        )
        return _Stack(stack.service, region, sam, cfn, deployed, stack.base, stack.apis)

    def _swap_functions_and_pumps(self, stacks: Sequence[_Stack]) -> None:
        """New runtimes for the stacks' functions (new processes, new environment); the old
        ones hand over (see FunctionRuntime.retire). An event source the template keeps keeps
        its poller (it invokes through the retired runtime, which forwards), so a stream goes
        on from where it was and an SQS message in flight is deleted only once processed; a
        source removed stops (its batch in flight finishes first); a new one starts."""
        names = {(s.region, s.deployed.name) for s in stacks}
        previous = {k: r for k, r in self.functions.items() if (k[0], k[1]) in names}
        for key in previous:
            del self.functions[key]
        by_name = {(s.region, s.deployed.name): s for s in stacks}
        for key, runtime in previous.items():
            stack = by_name[(key[0], key[1])]
            successor = None
            if key[2] in templates.functions(stack.sam, stack.cfn, stack.base):
                successor = self._runtime(stack, key[2])
            if successor is not None:
                runtime.retire(successor)
            else:  # the function is gone: what it runs finishes, nothing new reaches it
                runtime.close(time.monotonic() + runtime.config.timeout)
        wanted: dict[str, tuple[_Stack, templates.EventSource]] = {}
        for stack in stacks:
            for source in templates.event_sources(stack.cfn):
                name = f"{stack.deployed.name}:{source.function}:{stack.region}"
                arn = str(stack.deployed.resolve(source.source_arn))
                wanted[f"{name}|{arn}"] = (stack, source)
        kept: list[SqsPump | StreamPump] = []
        for pump in self.pumps:
            stack_name_, _, _ = pump.name.partition(":")
            ours = any(stack_name_ == n and pump.name.endswith(":" + r) for r, n in names)
            source_key = f"{pump.name}|{_source_arn(pump)}"
            if not ours or wanted.pop(source_key, None) is not None:
                kept.append(pump)
                continue
            pump.signal_stop()
            pump.join()
            log.info("%s: event source removed", pump.name)
        self.pumps = kept
        for stack, source in wanted.values():
            self._start_pump(stack, source)

    def _upload_code(self, service: str, region: str, digest: str) -> dict[str, str]:
        """Lambda functions need code in S3 to be created; the handlers themselves run from the
        workspace (see workers), so a placeholder archive is enough."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README.txt", "Run by the local platform from the workspace.\n")
        key = f"{service}-{digest}.zip"  # as `sam package` names it: a new version, a new key
        self.client("s3", region).put_object(
            Bucket=f"{CODE_BUCKET}-{region}", Key=key, Body=buffer.getvalue()
        )
        return {"Bucket": f"{CODE_BUCKET}-{region}", "Key": key}

    def _runtime(self, stack: _Stack, logical_id: str) -> FunctionRuntime:
        key = (stack.region, stack.deployed.name, logical_id)
        if key not in self.functions:
            specs = templates.functions(stack.sam, stack.cfn, stack.base)
            spec = specs[logical_id]
            deployed = stack.deployed
            environment = {k: str(deployed.resolve(v)) for k, v in spec.environment.items()}
            config = FunctionConfig(
                name=deployed.physical_id(logical_id),
                arn=deployed.get_att(logical_id, "Arn"),
                handler=spec.handler,
                region=stack.region,
                environment=environment,
                timeout=spec.timeout,
                memory_size=spec.memory_size,
                code_dir=spec.code_dir,
                aws_endpoint_url=self.aws_endpoint_url,
                log_file=self.config.function_log,
                log_sink=self.log_subscriptions.sink(stack.region)
                if self.log_subscriptions
                else None,
            )
            self.functions[key] = FunctionRuntime(config, self.config.max_concurrency, self.faults)
        return self.functions[key]

    def _runtime_by_arn(self, arn: str) -> FunctionRuntime:
        """The function of this ARN (or, given a name, of this name in the home region)."""
        region = arn.split(":")[3] if arn.startswith("arn:") else self.config.home_region
        for stack in self.stacks:
            if stack.region != region:
                continue
            for logical_id in templates.functions(stack.sam, stack.cfn, stack.base):
                known = str(stack.deployed.get_att(logical_id, "Arn"))
                if arn in (known, known.rsplit(":", 1)[-1]):
                    return self._runtime(stack, logical_id)
        raise LocalPlatformError(f"no deployed function has the ARN or name {arn}")

    def invoke_function(self, function: str, event: Any) -> Any:
        """Lambda's Invoke, by name or ARN (the control endpoint serves it)."""
        return self._runtime_by_arn(function).invoke(event)

    def _start_log_subscriptions(self) -> None:
        """The templates' account subscription filter policies, delivered locally (moto has
        none: saas_local/log_subscriptions.py)."""
        policies = [
            policy
            for stack in self.stacks
            for policy in subscription_policies(
                stack.cfn.get("Resources", {}), stack.deployed.resolve, stack.region
            )
        ]
        if policies:
            self.log_subscriptions = LogSubscriptions(
                policies, lambda arn, event: self._runtime_by_arn(arn).invoke(event)
            )

    def _start_functions_and_pumps(self) -> None:
        for stack in self.stacks:
            for source in templates.event_sources(stack.cfn):
                self._start_pump(stack, source)

    def _start_pump(self, stack: _Stack, source: templates.EventSource) -> None:
        runtime = self._runtime(stack, source.function)
        arn = str(stack.deployed.resolve(source.source_arn))
        name = f"{stack.deployed.name}:{source.function}:{stack.region}"
        if source.kind == "sqs":
            pump: SqsPump | StreamPump = SqsPump(
                name=name,
                clients=self._region_clients(stack.region),
                queue_arn=arn,
                invoke=runtime.invoke,
                batch_size=source.batch_size,
                report_batch_item_failures=source.report_batch_item_failures,
                filters=source.filters,
                concurrency=min(source.maximum_concurrency, self.config.max_concurrency),
                faults=self.faults,
            )
        else:
            on_failure = stack.deployed.resolve(source.on_failure) if source.on_failure else None
            pump = StreamPump(
                name=name,
                clients=self._region_clients(stack.region),
                stream_arn=arn,
                invoke=runtime.invoke,
                function_arn=runtime.config.arn,
                batch_size=source.batch_size,
                report_batch_item_failures=source.report_batch_item_failures,
                filters=source.filters,
                maximum_retry_attempts=source.maximum_retry_attempts,
                bisect_batch_on_function_error=source.bisect_batch_on_function_error,
                on_failure_arn=on_failure,
                starting_position=source.starting_position,
                faults=self.faults,
            )
        if isinstance(pump, StreamPump):  # where it was at the last save, when restored
            pump.start(self._stream_positions.get(f"{name}|{arn}"))
        else:
            pump.start()
        self.pumps.append(pump)

    def _routes(self) -> list[GatewayRoute]:
        """Every route the deployed templates declare, to the functions running now."""
        home = self.config.home_region
        routes = []
        caches = self._authorizer_caches  # kept across redeploys: a cached policy stays valid
        # One enforcer: a key's bucket and quota per plan, whichever route it comes by.
        if self._usage is None:
            self._usage = UsagePlanEnforcer(ApiGatewayPlanLookup(self.client("apigateway", home)))
        usage = self._usage
        for stack in self.stacks:
            if stack.region != home:
                continue  # the HTTP API lives in the home region
            answers = {
                api: _api_responses(stack.deployed, spec)
                for api, spec in templates.api_answers(stack.cfn).items()
            }
            for route in templates.routes(stack.sam):
                authorizer = None
                if route.authorizer is not None:
                    arn = str(stack.deployed.resolve(route.authorizer.function_arn))
                    cache_key = f"{stack.deployed.name}/{route.api}/{route.authorizer.name}"
                    cache = caches.setdefault(
                        cache_key, AuthorizerCache(route.authorizer.ttl_seconds)
                    )
                    authorizer = RouteAuthorizer(
                        invoke=self._runtime_by_arn(arn).invoke,
                        payload_type=route.authorizer.payload_type,
                        identity_headers=route.authorizer.identity_headers,
                        cache=cache,
                    )
                routes.append(
                    GatewayRoute(
                        method=route.method,
                        resource=route.path,
                        invoke=self._runtime(stack, route.function).invoke,
                        api_id=stack.apis[route.api][0]
                        if route.api in stack.apis
                        else f"{stack.service}-{route.api}".lower()[:10],
                        stage=route.stage,
                        region=home,
                        authorizer=authorizer,
                        responses=answers.get(route.api),
                        usage=usage if route.api_key_required else None,
                    )
                )
        return routes

    def _start_gateway(self) -> None:
        home = self.config.home_region
        routes = self._routes()
        self.gateway = Gateway(routes)
        self.gateway_server = GatewayServer(self.gateway, self.config.host, self.config.api_port)
        self.gateway_server.start()
        endpoint = self.aws_endpoint_url
        self.flush_watcher = AuthorizerFlushWatcher(
            self.gateway, lambda: moto_gaps.authorizer_cache_flushes(endpoint, home)
        )
        self.flush_watcher.start()

    def _create_system_admin(self, restored: Mapping[str, str] | None = None) -> dict[str, Any]:
        """What clients need (.local/platform.json); the SystemAdmin created in the user pool,
        or the one `restored` (already in the restored pool)."""
        home = self.config.home_region
        info: dict[str, Any] = {
            "api_url": f"http://{self.config.host}:{self.gateway_server.port}"
            if self.gateway_server
            else None,
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": home,
            "regions": dict(self.config.region_map),
            "event_bus_name": "saas",
            "user_pool_id": None,
            "user_pool_client_id": None,
            "system_admin": None,
        }
        pools = [v["Ref"] for v in self.cognito.get(home, {}).values() if "Arn" in v]
        clients = [v["ClientId"] for v in self.cognito.get(home, {}).values() if "ClientId" in v]
        if not pools:
            return info
        info["user_pool_id"], info["user_pool_client_id"] = pools[0], (clients or [None])[0]
        if restored is not None:
            info["system_admin"] = dict(restored)
            return info
        username, password = self.config.system_admin_username, _password()
        cognito = self.client("cognito-idp", home)
        cognito.admin_create_user(
            UserPoolId=pools[0],
            Username=username,
            MessageAction="SUPPRESS",
            TemporaryPassword=password,
        )
        cognito.admin_set_user_password(
            UserPoolId=pools[0], Username=username, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(
            UserPoolId=pools[0], Username=username, GroupName="SystemAdmin"
        )
        info["system_admin"] = {"username": username, "password": password}
        return info

    # -- the data kept across a stop and a start ---------------------------------------------
    def _saved_state(self) -> dict[str, Any] | None:
        """The state this start resumes: None when none is kept, none was saved, or the start is
        fresh (then what was saved goes)."""
        folder = self.config.state_dir
        if folder is None:
            return None
        files = [folder / AWS_STATE_FILE, folder / PLATFORM_STATE_FILE]
        if self.config.fresh or not all(f.is_file() for f in files):
            for stale in files:
                stale.unlink(missing_ok=True)
            return None
        try:
            with files[1].open("rb") as file:
                saved: dict[str, Any] = pickle.load(file)
        except Exception as exc:
            raise LocalPlatformError(
                f"{files[1]}: cannot be read ({exc}): start fresh (make run FRESH=1)"
            ) from exc
        if saved.get("format") != STATE_FORMAT:
            raise LocalPlatformError(
                f"{files[1]}: format {saved.get('format')}, this platform reads {STATE_FORMAT}: "
                "start fresh (make run FRESH=1)"
            )
        if saved["regions"] != self.config.regions:
            raise LocalPlatformError(
                f"{folder}: saved with the regions {saved['regions']}, started with "
                f"{self.config.regions}: use the same REGION_MAP or start fresh (make run FRESH=1)"
            )
        return saved

    def _state_note(self, saved: Mapping[str, Any] | None) -> dict[str, Any]:
        folder = self.config.state_dir
        if folder is None:
            return {"kept": False, "restored": False}
        note: dict[str, Any] = {"kept": True, "dir": str(folder), "restored": saved is not None}
        if saved is not None and self.restored_from is not None:
            note.update(self.restored_from)
        return note

    def _location(self, path: Path) -> str:
        """A template's place as kept: relative to the root when under it (a moved checkout)."""
        try:
            return str(path.resolve().relative_to(self.config.root.resolve()))
        except ValueError:
            return str(path.resolve())

    def _template_digest(self, path: Path, service: str) -> str:
        """What decides whether a kept stack is deployed as its template is now: the template,
        the parameters the platform gives it (its permission file, this start's overrides, the
        CORS origin). Taken when the stack is deployed: a save keeps what runs."""
        text = path.read_bytes()
        digest = hashlib.sha256(text)
        for permissions in sorted(path.parent.glob(ROUTE_PERMISSIONS_FILES)):
            digest.update(permissions.read_bytes())
        given = dict(self.config.parameters.get(service, {}))
        origin = self.cors_origin if CONSOLE_ORIGIN_PARAMETER.encode() in text else None
        digest.update(json.dumps([given, origin], sort_keys=True).encode())
        return digest.hexdigest()

    def _template_paths(self) -> list[tuple[Path, str, str]]:
        """(template, stack name, service) of every stack the configuration deploys."""
        platform_template = (
            self.config.platform_template or self.config.root / "infra/platform.yaml"
        )
        found = [(platform_template, PLATFORM_STACK, "platform")]
        for template in (
            self.config.service_templates
            if self.config.service_templates is not None
            else service_templates(self.config.root)
        ):
            found.append((template, stack_name(template), template.parent.name))
        return found

    def _restore_stacks(self, saved: Mapping[str, Any]) -> None:
        """The stacks as they were deployed (no redeploy: moto's restored state has them); one
        whose template or parameters changed since is updated as `make deploy` does, one whose
        template is new is deployed, one whose template is gone is left as it is, not run."""
        self.cognito = dict(saved["cognito"])
        wanted = {
            (self._location(path), region): (path, name, service)
            for region in self.config.regions
            for path, name, service in self._template_paths()
        }
        updated: list[str] = []
        for kept in saved["stacks"]:
            key = (kept["template_path"], kept["region"])
            if key not in wanted:
                log.warning("%s (%s): its template is gone; not run", kept["name"], kept["region"])
                continue
            path, name, service = wanted.pop(key)
            region = kept["region"]
            deployed = DeployedStack(name, region, kept["template"], self._region_clients(region))
            stack = _Stack(
                service, region, kept["sam"], kept["cfn"], deployed, path.parent, kept["apis"]
            )
            self._digests[(name, region)] = kept["digest"]
            self._locations[(name, region)] = kept["template_path"]
            if self._template_digest(path, service) != kept["digest"]:
                try:
                    stack = self._update_stack(path, stack)
                except DeployRefused as exc:
                    raise LocalPlatformError(str(exc)) from exc
                updated.append(f"{name} ({region})")
                log.info("%s (%s): changed since the state was saved: updated", name, region)
            self.stacks.append(stack)
        for (_, region), (path, name, service) in wanted.items():  # in deploy order
            self._deploy(path, name, service, region)
            updated.append(f"{name} ({region}, new)")
        self._stream_positions = dict(saved["positions"])
        self.restored_from = {
            "saved_at": saved["saved_at"],
            "updated": updated,
            "aws_restore_seconds": self._aws_restore_seconds,
        }

    def save_state(self) -> dict[str, Any]:
        """Save the platform's data now (config.state_dir): the stream pollers' positions first,
        then moto's state (no AWS request runs while it is taken), then the stacks as deployed.
        A poller's position is never ahead of the AWS state saved after it: after a restore a
        record is delivered again at most, never skipped. Size and seconds."""
        folder = self.config.state_dir
        if folder is None:
            raise LocalPlatformError("this platform keeps no state (no state_dir)")
        started = time.monotonic()
        with self._deploy_lock:
            positions = {
                f"{pump.name}|{_source_arn(pump)}": pump.positions()
                for pump in self.pumps
                if isinstance(pump, StreamPump)
            }
            folder.mkdir(parents=True, exist_ok=True)
            aws = self._tell_moto(f"save {folder / AWS_STATE_FILE}")
            stacks = []
            for stack in self.stacks:
                key = (stack.deployed.name, stack.region)
                stacks.append(
                    {
                        "name": stack.deployed.name,
                        "service": stack.service,
                        "region": stack.region,
                        "template_path": self._locations[key],
                        "digest": self._digests[key],
                        "sam": stack.sam,
                        "cfn": stack.cfn,
                        "template": stack.deployed.template,
                        "apis": dict(stack.apis),
                    }
                )
            state = {
                "format": STATE_FORMAT,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "regions": self.config.regions,
                "stacks": stacks,
                "cognito": self.cognito,
                "system_admin": (self.info or {}).get("system_admin"),
                "positions": positions,
            }
            target = folder / PLATFORM_STATE_FILE
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(target)
        self.last_save = {
            "dir": str(folder),
            "aws_bytes": aws["bytes"],
            "platform_bytes": target.stat().st_size,
            "aws_seconds": aws["seconds"],  # pickling
            "aws_held_seconds": aws["held_seconds"],  # new AWS requests waited (at most)
            "seconds": round(time.monotonic() - started, 3),
        }
        return self.last_save

    def _snapshot_periodically(self) -> None:
        while not self._snapshots_stop.wait(self.config.snapshot_seconds):
            try:
                self.save_state()
            except Exception:
                log.exception("periodic snapshot failed (the previous one is kept)")

    def _tell_moto(self, command: str) -> dict[str, Any]:
        """One command to moto's server process (see aws_server) and its answer."""
        with self._moto_lock:
            process = self._moto
            if process is None or process.stdin is None or process.stdout is None:
                raise LocalPlatformError("moto's server is not running")
            process.stdin.write(command + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        answer: dict[str, Any] = json.loads(line) if line else {"error": "no answer"}
        if "error" in answer:
            raise LocalPlatformError(f"moto's server: {command.split()[0]}: {answer['error']}")
        return answer
