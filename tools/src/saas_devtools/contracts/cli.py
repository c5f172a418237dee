"""saas-contracts: export the contracts from code, check them for drift, run the history gate.

saas-contracts export   write services/<svc>/contracts/ from the code
saas-contracts check    exit 1 listing the contract files that drifted from the code
saas-contracts gate     exit 1 listing breaking changes against the schemas' git history
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saas_devtools.contracts import export as exporter
from saas_devtools.contracts import gate
from saas_devtools.contracts.discovery import find_services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saas-contracts", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["export", "check", "gate"])
    parser.add_argument(
        "--workspace", type=Path, default=Path.cwd(), help="the repository root (default: .)"
    )
    args = parser.parse_args(argv)
    workspace: Path = args.workspace.resolve()

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


if __name__ == "__main__":
    sys.exit(main())
