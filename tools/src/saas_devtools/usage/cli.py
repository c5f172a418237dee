"""saas-usage: a tenant's usage and estimated cost per day, as a table, from the metering
service's API (GET /tenants/{id}/usage, or /usage/shared for the unattributable part).

Against the running local platform by default: its API URL and a SystemAdmin ID token come from
.local/platform.json (as `saas-local token` gets one). Elsewhere: --api-url (the stack's export
saas-metering-api-url) and --token (an ID token; a TenantAdmin reads its own tenant only).

    saas-usage --tenant <id> --from 2026-12-01 --to 2026-12-04
    saas-usage --shared --json"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

PLATFORM_FILE = Path(".local/platform.json")
COLUMNS = (
    ("date", "date"),
    ("requests", "requests"),
    ("4xx", "errors_4xx"),
    ("5xx", "errors_5xx"),
    ("RRU", "read_capacity_units"),
    ("WRU", "write_capacity_units"),
    ("lambda ms", "lambda_billed_ms"),
    ("GB-s", "lambda_gb_seconds"),
    ("events", "events_published"),
    ("fauna ops", "fauna_ops"),
    ("cost USD", "cost"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saas-usage", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", help="the tenant's id")
    which.add_argument("--shared", action="store_true", help="what no tenant is named for")
    parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: 6 days ago)")
    parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--api-url", help="the metering API (default: the local platform's)")
    parser.add_argument("--token", help="an ID token (default: the local SystemAdmin's)")
    parser.add_argument("--platform-file", type=Path, default=PLATFORM_FILE)
    parser.add_argument("--json", action="store_true", help="print the API's answer as it is")
    return parser


def _local_token(state: dict[str, Any]) -> str:
    import boto3

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["aws_endpoint_url"],
        region_name=state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    admin = state["system_admin"]
    answer = cognito.initiate_auth(
        ClientId=state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": admin["username"], "PASSWORD": admin["password"]},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "date":
        return str(row["date"])
    if key == "cost":
        return f"{float(row['cost']['total']):.6f}"
    if key == "fauna_ops":
        value = sum(
            float(row[k]) for k in ("fauna_compute_ops", "fauna_read_ops", "fauna_write_ops")
        )
    else:
        value = float(row[key])
    return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"


def table(answer: dict[str, Any]) -> str:
    """The answer as a table: a row per day, then the total and its cost by service and item."""
    rows = [[title for title, _ in COLUMNS]]
    for day in [*answer["days"], answer["total"]]:
        rows.append([_cell(day, key) for _, key in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        f"usage of {answer['tenant_id']} from {answer['from']} to {answer['to']} "
        f"({answer['currency']}, estimated)"
    ]
    for index, row in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    cost = answer["total"]["cost"]
    by_service = ", ".join(f"{s} {u:.6f}" for s, u in sorted(cost["by_service"].items()))
    by_item = ", ".join(f"{i} {u:.6f}" for i, u in cost["by_item"].items())
    lines.append(f"cost by service: {by_service or 'none'}")
    lines.append(f"cost by item: {by_item}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    api_url, token = args.api_url, args.token
    if not api_url or not token:
        if not args.platform_file.is_file():
            print(
                f"saas-usage: {args.platform_file} not found: start the local platform "
                "(make run) or give --api-url and --token",
                file=sys.stderr,
            )
            return 2
        state = json.loads(args.platform_file.read_text(encoding="utf-8"))
        api_url = api_url or state["api_url"]
        token = token or _local_token(state)
    path = (
        "/usage/shared"
        if args.shared
        else f"/tenants/{urllib.parse.quote(args.tenant, safe='')}/usage"
    )
    query = urllib.parse.urlencode(
        {k: v for k, v in (("from", args.first), ("to", args.last)) if v}
    )
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}{path}{'?' + query if query else ''}",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(body).get("message", body)
        except ValueError:
            message = body
        print(f"saas-usage: {exc.code}: {message}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"saas-usage: {api_url} cannot be reached: {exc.reason}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2) if args.json else table(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
