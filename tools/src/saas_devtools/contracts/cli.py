"""saas-contracts: export the contracts from code, check them for drift, run the history gate.

saas-contracts export   write services/<svc>/contracts/ from the code
saas-contracts check    exit 1 listing the contract files that drifted from the code
saas-contracts gate     exit 1 listing breaking changes against the schemas' git history
saas-contracts record --service x --stage s
                        record service x's version and contracts as deployed in stage s
saas-contracts can-i-deploy --service x --stage s
                        exit 1 with the reasons when x's working-tree contracts break what the
                        other services have recorded in stage s

The stage's store is reached through AWS_ENDPOINT_URL when set (the local platform), else
through .local/platform.json for --stage local, else the AWS account of the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from saas_devtools.contracts import deployed, gate
from saas_devtools.contracts import export as exporter
from saas_devtools.contracts.discovery import find_services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saas-contracts", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["export", "check", "gate", "record", "can-i-deploy"])
    parser.add_argument(
        "--workspace", type=Path, default=Path.cwd(), help="the repository root (default: .)"
    )
    parser.add_argument("--service", help="record / can-i-deploy: the service (services/<name>)")
    parser.add_argument("--stage", help="record / can-i-deploy: the stage (local, dev, prod...)")
    parser.add_argument(
        "--bucket",
        default=os.environ.get(deployed.BUCKET_ENV),
        help="the stage's contracts bucket (default: $SAAS_CONTRACTS_BUCKET, else "
        "saas-<stage>-contracts-<account>)",
    )
    args = parser.parse_args(argv)
    workspace: Path = args.workspace.resolve()

    if args.command in {"record", "can-i-deploy"}:
        if not args.service or not args.stage:
            parser.error(f"{args.command} needs --service and --stage")
        return _deployed_command(args.command, workspace, args.service, args.stage, args.bucket)

    if args.command == "export":
        written = exporter.export(workspace)
        for path in written:
            print(f"wrote {path.relative_to(workspace)}")
        print(f"{len(written)} contract file(s) written")
        return 0

    if args.command == "check":
        drifts = exporter.check(workspace)
        for drift in drifts:
            print(f"{drift.path.relative_to(workspace)}: {drift.problem}", file=sys.stderr)
        if drifts:
            print(
                f"{len(drifts)} contract file(s) drifted from the code: run `make contracts` "
                "and commit the result",
                file=sys.stderr,
            )
            return 1
        print("contracts match the code")
        return 0

    try:
        violations = gate.check_history(
            workspace,
            gate.contracts_in(workspace),
            gate.workspace_readers(find_services(workspace)),
        )
    except gate.ShallowClone as exc:
        print(f"compatibility gate skipped: {exc}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation, file=sys.stderr)
    if violations:
        return 1
    print("no breaking change against the schemas' history")
    return 0


def _deployed_command(
    command: str, workspace: Path, service: str, stage: str, bucket: str | None
) -> int:
    try:
        candidate = deployed.candidate(workspace, service)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 2
    # The record and the check read the contract files: they must be what the code says.
    folder = workspace / "services" / service
    drifts = [d for d in exporter.check(workspace) if d.path.is_relative_to(folder)]
    for drift in drifts:
        print(f"{drift.path.relative_to(workspace)}: {drift.problem}", file=sys.stderr)
    if drifts:
        print(
            f"{command}: the contracts of {service} drifted from its code: run `make contracts`",
            file=sys.stderr,
        )
        return 1
    s3, sts = _clients(workspace, stage, "s3"), _clients(workspace, stage, "sts")
    store = deployed.DeployedContracts(
        s3, bucket or deployed.bucket_name(stage, sts.get_caller_identity()["Account"])
    )
    if command == "record":
        key = store.record(candidate)
        print(f"recorded {service} {candidate.version} in stage {stage}: s3://{store.bucket}/{key}")
        return 0
    records = store.all()
    findings = deployed.can_i_deploy(candidate, records)
    for finding in findings:
        print(finding, file=sys.stderr)
    refused = [f for f in findings if f.severity == "refused"]
    others = ", ".join(f"{r.service} {r.version}" for r in records.values() if r.service != service)
    if refused:
        print(
            f"can-i-deploy: {service} {candidate.version} to {stage} refused "
            f"({len(refused)} reason(s)) against {others or 'no other service'}",
            file=sys.stderr,
        )
        return 1
    print(
        f"can-i-deploy: {service} {candidate.version} to {stage} accepted "
        f"against {others or 'no other service recorded yet'}"
    )
    return 0


def _clients(workspace: Path, stage: str, service: str) -> Any:
    from saas_devtools.replay.sources import Endpoint, local_platform

    # Records of a stage live in its home region (the first of the region map).
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return Endpoint(region, endpoint).client(service)
    platform_file = workspace / ".local" / "platform.json"
    if stage == "local":
        return local_platform(platform_file).client(service)
    return Endpoint(region).client(service)


if __name__ == "__main__":
    sys.exit(main())
