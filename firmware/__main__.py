"""`python -m firmware` is the `stretchstep` command."""

from firmware.cli import main

main()
