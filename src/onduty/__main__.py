"""`python -m onduty` runs the CLI."""

from onduty.cli import main

main()
