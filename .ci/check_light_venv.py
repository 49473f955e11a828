"""CI: after `make grade`, the venv holds the kit's runtime dependencies and none of its extras.

Every package that only an extra of pyproject.toml asks for (the `test` tools, the
`ecosystem`'s nbgrader and otter-grader) must be absent, and so must their modules:
grading needed none of them.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys

#: Modules of the extras that grading must never need.
EXTRA_MODULES = ("pytest", "hypothesis", "nbclient", "ipykernel", "nbgrader", "otter")


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower()


def main() -> int:
    requirements = importlib.metadata.requires("rnnkit") or []
    runtime = {_name(r) for r in requirements if "extra ==" not in r}
    extras_only = sorted({_name(r) for r in requirements if "extra ==" in r} - runtime)
    installed = [name for name in extras_only if _installed(name)]
    importable = [module for module in EXTRA_MODULES if importlib.util.find_spec(module) is not None]
    if installed or importable:
        print(
            f"ci: the light set-up has what only the extras need: packages {', '.join(installed) or 'none'}; "
            f"modules {', '.join(importable) or 'none'}",
            file=sys.stderr,
        )
        return 1
    print(f"ci: the light .venv has none of the extras ({', '.join(extras_only)})")
    return 0


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
