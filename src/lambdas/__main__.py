"""`python -m lambdas …`, the same as `steam-import …`."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line, or say how to install it when its extra is missing."""
    from lambdas.cli._fast import answer

    code = answer(sys.argv[1:])  # --version and --help without importing Typer and the rest
    if code is not None:
        raise SystemExit(code)
    try:
        from lambdas.cli import app
    except ModuleNotFoundError as exc:
        if exc.name not in {"typer", "rich", "click"}:
            raise
        sys.stderr.write(
            f"error CONFIGURATION_ERROR: the command line needs the 'cli' extra ({exc.name} is "
            "missing): pip install 'steam-library-import[cli]'\n"
        )
        raise SystemExit(78) from exc
    app()


if __name__ == "__main__":
    main()
