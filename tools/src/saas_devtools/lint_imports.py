"""saas-lint-imports: import-linter over `.importlinter` with every service filled in.

`.importlinter` states each rule once and names no service: where the set of services belongs
it says `%(services)s`. This fills it with the import package of every `services/<name>/`
(the folders are the one list of services, see docs/adding-a-service.md), writes the result
beside the build output and runs `lint-imports` on it. Other arguments go to lint-imports.
"""

from __future__ import annotations

import argparse
import configparser
import io
import subprocess
import sys
from pathlib import Path

from saas_devtools.contracts.discovery import find_services

CONFIG = ".importlinter"


def service_packages(workspace: Path) -> list[str]:
    return [service.package for service in find_services(workspace)]


def resolved_config(workspace: Path) -> str:
    """`.importlinter` with `%(services)s` replaced by the services' packages, one a line."""
    packages = service_packages(workspace)
    if not packages:
        raise SystemExit(f"no service under {workspace / 'services'}")
    source = configparser.ConfigParser(defaults={"services": "\n".join(packages)})
    source.read(workspace / CONFIG, encoding="utf-8")
    if "importlinter" not in source:
        raise SystemExit(f"{workspace / CONFIG} has no [importlinter] section")
    resolved = configparser.ConfigParser(interpolation=None)
    for section in source.sections():
        resolved[section] = {
            key: source[section][key] for key in source[section] if key not in source.defaults()
        }
    text = io.StringIO()
    resolved.write(text)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saas-lint-imports", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workspace", type=Path, default=Path.cwd(), help="the repository root (default: .)"
    )
    args, lint_args = parser.parse_known_args(argv)
    workspace: Path = args.workspace.resolve()
    config = workspace / "build" / "importlinter.ini"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(resolved_config(workspace), encoding="utf-8")
    lint_imports = Path(sys.executable).with_name("lint-imports")
    command = [str(lint_imports), "--no-cache", "--config", str(config), *lint_args]
    return subprocess.run(command, cwd=workspace, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
