"""`python -m pipeline.cli`: the command line, as the `claimwatch` script runs it."""

from pipeline.cli import main

main()
