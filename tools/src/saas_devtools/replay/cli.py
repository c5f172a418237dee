"""saas-replay: a tenant's events from the event log, as a timeline or replayed.

    saas-replay --tenant t1 --since 1h --print
    saas-replay --tenant t1 --from 2026-11-23T20:00:00Z --to 2026-11-23T21:00:00Z \\
        --detail-type OrderPlaced --correlation-id <id> --json > events.jsonl
    saas-replay --tenant t1 --since 1d --into product:event_consumer --memory
    saas-replay --tenant t1 --since 1d --bus saas-order-from-product

Events come from the event log table of the running local platform (.local/platform.json), of
AWS (--aws, the profile's credentials and region) or from a file (--events events.jsonl). A
handler replayed into without --memory, and --bus, reach the same place: the local platform
unless --aws says AWS.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from saas_devtools.event_log.logged_event import TABLE_NAME, LoggedEvent
from saas_devtools.replay import sources
from saas_devtools.replay.selection import Selection, replay_order
from saas_devtools.replay.timeline import json_lines, timeline


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saas-replay",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").split("\n")[1:]),
    )
    parser.add_argument("--tenant", required=True, help="the tenant id")
    window = parser.add_argument_group("time window (default: all of the tenant's history)")
    window.add_argument("--since", help="a duration back from now: 90s, 15m, 1h, 2d, 1w")
    window.add_argument("--from", dest="start", help="start time, RFC 3339 (UTC if no offset)")
    window.add_argument("--to", dest="end", help="end time, RFC 3339 (UTC if no offset)")
    parser.add_argument("--detail-type", action="append", default=[], help="repeatable")
    parser.add_argument("--correlation-id")
    parser.add_argument("--events", type=Path, help="read events from a JSON-lines file")
    parser.add_argument(
        "--aws", action="store_true", help="AWS of the profile instead of the local platform"
    )
    parser.add_argument("--platform-file", type=Path, default=sources.PLATFORM_FILE)
    parser.add_argument("--table", default=TABLE_NAME, help="the event log table")
    parser.add_argument("--region", default="us-east-1", help="with --aws")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--print", action="store_true", help="print the timeline")
    action.add_argument("--json", action="store_true", help="print the events as JSON lines")
    action.add_argument(
        "--into",
        metavar="SERVICE:CONSUMER",
        help="replay in process into <package>.entrypoints.<CONSUMER>.handler of SERVICE",
    )
    action.add_argument(
        "--bus",
        metavar="RULE",
        action="append",
        help="archive replay onto the bus, delivered only to this rule (repeatable)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="with --into: the consumer's in-memory adapters (BACKEND=memory)",
    )
    parser.add_argument("--workspace", type=Path, default=Path.cwd())
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    now = datetime.now(UTC)
    endpoint: sources.Endpoint | None = None
    try:
        selection = Selection.build(
            args.tenant,
            since=args.since,
            start=args.start,
            end=args.end,
            detail_types=args.detail_type,
            correlation_id=args.correlation_id,
            now=now,
        )
        if args.bus and args.events:
            raise ValueError("--bus replays the archive; it cannot take --events")
        # Where AWS is: for the event log, for a handler that is not on its in-memory adapters,
        # and for an archive replay. A file replayed into memory needs none.
        if not args.events or args.bus or (args.into and not args.memory):
            endpoint = (
                sources.Endpoint(region=args.region)
                if args.aws
                else sources.local_platform(args.platform_file)
            )
        if args.bus:
            assert endpoint is not None
            return _bus(args, endpoint, selection, now)
        if args.events:
            events = list(sources.from_file(args.events, selection))
        else:
            assert endpoint is not None
            events = list(sources.from_event_log(endpoint, selection, args.table))
    except (ValueError, FileNotFoundError) as exc:
        print(f"saas-replay: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        explained = _explain_aws_error(exc, endpoint, args.table)
        if explained is None:
            raise
        print(f"saas-replay: {explained}", file=sys.stderr)
        return 2
    ordered = replay_order(events)
    if args.print:
        for line in timeline(ordered):
            print(line)
        print(f"{len(ordered)} event(s) for tenant {args.tenant}", file=sys.stderr)
        return 0
    if args.json:
        for line in json_lines(ordered):
            print(line)
        return 0
    return _into(args, endpoint, ordered)


def _explain_aws_error(exc: Exception, endpoint: sources.Endpoint | None, table: str) -> str | None:
    """A sentence for the errors a person can act on; None for the rest (they propagate)."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        where = endpoint.endpoint_url if endpoint else "AWS"
        return f"nothing answers at {where}: is the local platform running (`make run`)?"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return f"no event log table {table!r} there: is the event-log stack deployed?"
        return f"{code}: {exc}"
    return None


def _into(
    args: argparse.Namespace, endpoint: sources.Endpoint | None, events: list[LoggedEvent]
) -> int:
    from saas_devtools.replay.into_handler import (
        deployed_environment,
        environment,
        find_consumer,
        replay_into,
    )

    consumer = find_consumer(args.workspace.resolve(), args.into)
    reads = consumer.reads()
    chosen = [e for e in events if not reads or (e.source, e.detail_type) in reads]
    skipped = len(events) - len(chosen)
    settings = {"BACKEND": "memory"} if args.memory else {}
    if endpoint and not args.memory:
        # The deployed function's own environment (table names, bus, backend), as its template
        # resolved it, so the handler here reaches what the deployed one reaches.
        deployed = deployed_environment(endpoint.client("lambda"), f"{consumer.dotted}.handler")
        if deployed is None:
            print(
                f"saas-replay: note: no deployed function runs {consumer.dotted}.handler; "
                "the handler's default settings apply",
                file=sys.stderr,
            )
        settings |= deployed or {}
        settings |= {"AWS_REGION": endpoint.region, "AWS_DEFAULT_REGION": endpoint.region}
        if endpoint.endpoint_url:
            settings |= {
                "AWS_ENDPOINT_URL": endpoint.endpoint_url,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            }
    with environment(settings):
        handler = consumer.handler()
        outcomes = replay_into(
            handler,
            chosen,
            queue_name=f"saas-{consumer.service.name}-events",
            region=endpoint.region if endpoint else "us-east-1",
        )
    failed = [o for o in outcomes if o.failed]
    for outcome in outcomes:
        e = outcome.event
        status = "FAILED" if outcome.failed else "ok"
        print(
            f"{status:<6} {e.occurred_at.isoformat()} {e.detail_type} event={e.event_id}"
            + (f" {outcome.error}" if outcome.error else "")
        )
    print(
        f"replayed {len(outcomes)} event(s) into {consumer.dotted}.handler: "
        f"{len(outcomes) - len(failed)} ok, {len(failed)} failed"
        + (f"; {skipped} event(s) it does not consume skipped" if skipped else ""),
        file=sys.stderr,
    )
    return 1 if failed else 0


def _bus(
    args: argparse.Namespace, endpoint: sources.Endpoint, selection: Selection, now: datetime
) -> int:
    from saas_devtools.replay.archive_replay import start_archive_replay

    if selection.start is None:
        print("saas-replay: --bus needs a window start (--since or --from)", file=sys.stderr)
        return 2
    if selection.detail_types or selection.correlation_id:
        print(
            "saas-replay: note: an archive replay sends the whole window; the named rules' "
            "patterns decide what is delivered",
            file=sys.stderr,
        )
    replay = start_archive_replay(
        endpoint.client("events"),
        replay_name=f"saas-replay-{args.tenant}-{uuid.uuid4().hex[:8]}"[:64],
        rules=args.bus,
        start=selection.start,
        end=selection.end or now,
    )
    print(f"replay {replay.name}: {replay.state}, to {', '.join(replay.rule_arns)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
