"""The template of every tenant's stack: infra/tenant-environment.yaml as shipped inside this
package, or a file named by TENANT_TEMPLATE_PATH (a drill with a template that fails)."""

from __future__ import annotations

from importlib import resources


def packaged_template_body() -> str:
    return (
        resources.files("provisioner")
        .joinpath("templates", "tenant-environment.yaml")
        .read_text(encoding="utf-8")
    )


def template_body(path: str | None = None) -> str:
    if path:
        with open(path, encoding="utf-8") as template:
            return template.read()
    return packaged_template_body()
