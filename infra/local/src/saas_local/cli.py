"""`saas-local` (what `make run` runs): the local platform in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from saas_local.faults import FaultPlan, FaultPlanError
from saas_local.platform import DEFAULT_REGION_MAP, LocalPlatform, PlatformConfig


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="saas-local", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("API_PORT", "8080")),
        help="HTTP gateway port (env API_PORT; default 8080; 0 picks a free one)",
    )
    parser.add_argument(
        "--console-port",
        type=int,
        default=int(os.environ.get("CONSOLE_PORT", "8081")),
        help="the web console's port (env CONSOLE_PORT; default 8081; 0 picks a free one)",
    )
    parser.add_argument(
        "--no-console",
        action="store_true",
        help="do not serve the web console (web/dist) even when it is built",
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", "0")),
        help="moto server port (env AWS_PORT; default: a free one)",
    )
    parser.add_argument(
        "--region-map",
        default=os.environ.get("REGION_MAP", json.dumps(DEFAULT_REGION_MAP)),
        help="JSON map of region group to region (env REGION_MAP)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("FUNCTION_CONCURRENCY", "4")),
        help="execution environments (worker processes) per function (env FUNCTION_CONCURRENCY)",
    )
    parser.add_argument(
        "--template",
        dest="templates",
        type=Path,
        action="append",
        help="deploy only these service templates, in this order (repeatable; default: every "
        "services/*/template.yaml)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        help="where to write what to call (default: <root>/.local/platform.json)",
    )
    parser.add_argument(
        "--function-log",
        type=Path,
        default=os.environ.get("FUNCTION_LOG") or None,
        help="append every function's log lines to this file (env FUNCTION_LOG; default: this "
        "terminal)",
    )
    parser.add_argument(
        "--faults",
        default=os.environ.get("FAULTS"),
        help="run: inject faults (env FAULTS): JSON, a .json/.yaml file, or kind=share,... "
        "(README, Faults); faults: the new plan for the running platform ('' turns them off; "
        "omitted: print the plan and the counts)",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=int(os.environ["FAULT_SEED"]) if os.environ.get("FAULT_SEED") else None,
        help="the faults' seed (env FAULT_SEED): the same seed repeats a run's faults",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        default=os.environ.get("FRESH", "") not in ("", "0"),
        help="run: start empty, replacing the data kept from the last run (env FRESH=1)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="run: where the platform keeps its data across a stop and a start (default: "
        "<root>/.local/state)",
    )
    parser.add_argument(
        "--snapshot-seconds",
        type=float,
        default=float(os.environ.get("SNAPSHOT_SECONDS", "60")),
        help="run: save the data this often while running, besides at stop (env "
        "SNAPSHOT_SECONDS; default 60; 0: only at stop)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every deployment step")
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "token", "build-console", "deploy", "faults"],
        help="run: start the platform (default); deploy: deploy --service's template into the "
        "running platform (make deploy SERVICE=x STAGE=local); token: print an ID token from "
        "the running platform (.local/platform.json) for --username/--password (default: the "
        "SystemAdmin); faults: set or show the running platform's faults (make faults); "
        "build-console: build web/dist when the console's sources changed (npm ci, npm run build)",
    )
    parser.add_argument("--service", help="deploy: the service (its folder under services/)")
    parser.add_argument("--username")
    parser.add_argument("--password")
    return parser.parse_args(argv)


def print_token(args: argparse.Namespace) -> int:
    """An ID token of the running platform's user pool (USER_PASSWORD_AUTH)."""
    import boto3

    state = json.loads((args.state_file or args.root / ".local" / "platform.json").read_text())
    admin = state["system_admin"]
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["aws_endpoint_url"],
        region_name=state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    answer = cognito.initiate_auth(
        ClientId=state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": args.username or admin["username"],
            "PASSWORD": args.password or admin["password"],
        },
    )
    print(answer["AuthenticationResult"]["IdToken"])
    return 0


def deploy(args: argparse.Namespace) -> int:
    """One service's new version into the running platform, through its control endpoint."""
    from saas_local.redeploy import DeployRefused, deploy_to_running_platform

    if not args.service:
        print("saas-local deploy: --service is required", file=sys.stderr)
        return 2
    try:
        result = deploy_to_running_platform(
            args.state_file or args.root / ".local" / "platform.json", args.service
        )
    except DeployRefused as exc:
        print(f"saas-local deploy: {exc}", file=sys.stderr)
        return 1
    print(
        f"{result['service']}: {', '.join(result['stacks'])} updated in "
        f"{', '.join(result['regions'])} ({result['seconds']} s); {result['rollout']}"
    )
    return 0


def set_faults(args: argparse.Namespace) -> int:
    """Replace the running platform's faults (--faults given) or print them and the counts."""
    from saas_local.redeploy import DeployRefused, faults_of_running_platform

    try:
        given = args.faults is not None
        plan = FaultPlan.parse(args.faults, args.fault_seed) if given else None
        result = faults_of_running_platform(
            args.state_file or args.root / ".local" / "platform.json", plan
        )
    except (FaultPlanError, DeployRefused) as exc:
        print(f"saas-local faults: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def build_console(args: argparse.Namespace) -> int:
    from saas_local.console import ConsoleBuildError, build

    try:
        print(build(args.root.resolve()), file=sys.stderr)
    except ConsoleBuildError as exc:
        print(f"saas-local: {exc}", file=sys.stderr)
        return 1
    return 0


def state_line(info: dict[str, Any]) -> str:
    """What the banner says of the data: resumed from the last run, or started empty."""
    state: dict[str, Any] = info.get("state") or {}
    if not state.get("kept"):
        return "not kept (started empty)"
    if state.get("restored"):
        updated = state.get("updated") or []
        changed = f"; updated: {', '.join(updated)}" if updated else ""
        return f"restored from {state['dir']} (saved {state.get('saved_at')}){changed}"
    return f"started empty (fresh); kept in {state['dir']}"


def banner(info: dict[str, Any], console_note: str = "") -> str:
    admin: dict[str, str] = info.get("system_admin") or {}
    console = info.get("console_url") or f"(none: the console is {console_note or 'not served'})"
    return "\n".join(
        [
            "",
            "SaaS platform running locally (Ctrl-C stops it)",
            f"  data               {state_line(info)}",
            f"  console_url        {console}",
            f"  api_url            {info['api_url']}",
            f"  aws_endpoint_url   {info['aws_endpoint_url']}",
            f"  region             {info['region']}",
            f"  event_bus_name     {info['event_bus_name']}",
            f"  user_pool_id       {info['user_pool_id']}",
            f"  user_pool_client_id {info['user_pool_client_id']}",
            f"  system_admin       {admin.get('username')} / {admin.get('password')}",
            "  written to .local/platform.json; for example:",
            "    TOKEN=$(.venv/bin/saas-local token)",
            f'    curl -H "Authorization: Bearer $TOKEN" {info["api_url"]}/tenants',
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.command == "token":
        return print_token(args)
    if args.command == "build-console":
        return build_console(args)
    if args.command == "deploy":
        return deploy(args)
    if args.command == "faults":
        return set_faults(args)
    try:
        fault_plan = FaultPlan.parse(args.faults or "", args.fault_seed)
    except FaultPlanError as exc:
        print(f"saas-local: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = PlatformConfig(
        root=args.root.resolve(),
        api_port=args.port,
        console=False if args.no_console else None,
        console_port=args.console_port,
        aws_port=args.aws_port,
        region_map=json.loads(args.region_map),
        max_concurrency=args.concurrency,
        service_templates=[t.resolve() for t in args.templates] if args.templates else None,
        state_file=args.state_file,
        function_log=args.function_log.resolve() if args.function_log else None,
        faults=fault_plan,
        state_dir=(args.state_dir or args.root / ".local" / "state").resolve(),
        fresh=args.fresh,
        snapshot_seconds=args.snapshot_seconds,
    )
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    platform = LocalPlatform(config)
    print("starting the local platform...", file=sys.stderr)
    try:
        info = platform.start()
    except Exception as exc:
        print(f"saas-local: {exc}", file=sys.stderr)
        return 1
    print(banner(info, platform.console_note), flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        print("stopping...", file=sys.stderr)
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
