"""The `hyperfuse` command of a pip-installed package: the CLI built beside the library."""
import os
import sys

from .native import bundled_cli


def main():
    program = bundled_cli()
    if not os.path.exists(program):
        print(f"hyperfuse: {program} is missing; reinstall the package (pip install .)", file=sys.stderr)
        return 1
    os.execv(program, [program] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
