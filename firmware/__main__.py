"""`python -m firmware` is the `stretchstep` command."""

from firmware.cli import main

if __name__ == "__main__":  # not when a spawned service process imports it
    main()
