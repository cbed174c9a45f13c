"""`python -m sim`: the command line (see sim/cli.py for the commands and their options)."""

from __future__ import annotations

from sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
