"""saas-redrive: a dead-letter queue's messages back to where they are processed.

The dead-letter queues and failure destinations are those the templates declare (--list).

    saas-redrive --list                                  # each queue, its kind, its depth
    saas-redrive --queue saas-product-events-dlq         # back to saas-product-events
    saas-redrive --queue saas-order-relay-failures --dry-run
    saas-redrive --queue saas-provisioner-stream-dlq --aws --region eu-west-1

The running local platform by default (.local/platform.json: moto's endpoint for SQS, streams
and CloudFormation, the control endpoint for Lambda's Invoke); AWS with --aws (the profile's
credentials and region). Each message is reported: moved (to where, and why it had been
dead-lettered) or refused (why; it stays in the queue). Exit status 1 when any was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from saas_devtools.redrive.destinations import Destination, as_json, destinations, find
from saas_devtools.redrive.mover import Redrive, lambda_invoker

PLATFORM_FILE = Path(".local/platform.json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saas-redrive",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").split("\n")[1:]),
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="the queues, with their depth")
    action.add_argument("--queue", help="the dead-letter queue to redrive")
    parser.add_argument("--max", type=int, default=1000, help="at most this many messages")
    parser.add_argument("--dry-run", action="store_true", help="say what would move; move none")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--aws", action="store_true", help="AWS of the profile")
    parser.add_argument("--region", help="with --aws (default: the profile's)")
    parser.add_argument("--platform-file", type=Path, default=PLATFORM_FILE)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    return parser


class Clients:
    """boto3 clients on AWS, or on the local platform (moto; Lambda at the control endpoint)."""

    def __init__(self, aws: bool, region: str | None, platform_file: Path) -> None:
        import boto3

        self._boto3 = boto3
        if aws:
            self._kwargs: dict[str, Any] = {"region_name": region} if region else {}
            self._lambda_kwargs = dict(self._kwargs)
            return
        if not platform_file.is_file():
            raise FileNotFoundError(
                f"{platform_file} not found: start the local platform (make run), or pass --aws"
            )
        info = json.loads(platform_file.read_text(encoding="utf-8"))
        local = {
            "region_name": str(info.get("region", "us-east-1")),
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        self._kwargs = {**local, "endpoint_url": info["aws_endpoint_url"]}
        self._lambda_kwargs = {**local, "endpoint_url": info["control_url"]}

    def __call__(self, service: str) -> Any:
        kwargs = self._lambda_kwargs if service == "lambda" else self._kwargs
        return self._boto3.client(service, **kwargs)


def _function_of(clients: Clients) -> Any:
    def function_of(destination: Destination) -> str:
        resource = clients("cloudformation").describe_stack_resource(
            StackName=destination.stack, LogicalResourceId=destination.function
        )
        return str(resource["StackResourceDetail"]["PhysicalResourceId"])

    return function_of


def _depth(sqs: Any, queue: str) -> str:
    try:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return "not deployed"
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        f"{attributes['ApproximateNumberOfMessages']} messages "
        f"({attributes['ApproximateNumberOfMessagesNotVisible']} in flight)"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    found = destinations(args.root.resolve())
    if args.list and args.json:
        print(as_json(found))
        return 0
    try:
        clients = Clients(args.aws, args.region, args.platform_file)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        if args.list:  # the templates' queues, without their depth
            print("\n".join(d.describe() for d in found))
            return 0
        print(f"saas-redrive: {exc}", file=sys.stderr)
        return 2
    if args.list:
        sqs = clients("sqs")
        for destination in found:
            print(f"{destination.describe()}: {_depth(sqs, destination.queue)}")
        return 0
    try:
        destination = find(found, args.queue)
    except LookupError as exc:
        print(f"saas-redrive: {exc}", file=sys.stderr)
        return 2
    redrive = Redrive(
        clients("sqs"),
        streams=clients("dynamodbstreams"),
        invoke=lambda_invoker(clients("lambda")),
        function_of=_function_of(clients),
    )
    report = redrive.run(destination, limit=args.max, dry_run=args.dry_run)
    if args.json:
        print(json.dumps({"queue": report.queue, "moved": report.moved, "refused": report.refused}))
    else:
        print("\n".join(report.lines()))
    return 1 if report.refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
