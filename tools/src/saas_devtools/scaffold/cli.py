"""saas-new-service NAME: a new service under services/NAME in the one shape.

`make new-service NAME=...` runs it, then locks the workspace with the new member."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saas_devtools.scaffold import ScaffoldError, ServiceNames, scaffold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saas-new-service", description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the service's name: lower-case words joined by '-'")
    parser.add_argument(
        "--workspace", type=Path, default=Path.cwd(), help="the repository root (default: .)"
    )
    args = parser.parse_args(argv)
    workspace: Path = args.workspace.resolve()
    try:
        written = scaffold(workspace, args.name)
    except ScaffoldError as exc:
        print(f"saas-new-service: {exc}", file=sys.stderr)
        return 2
    names = ServiceNames.of(args.name)
    for path in written:
        print(f"wrote {path.relative_to(workspace)}")
    print(
        f"\nservices/{names.name} ({names.distribution}, package {names.package}) is ready.\n"
        "Next (docs/adding-a-service.md): lock the workspace (make new-service does), add the\n"
        f"queue saas-{names.name}-events and its rules to infra/platform.yaml, then make test."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
