"""`python -m teleservices.shared.cli` is the `teleservices` command."""

from teleservices.shared.cli.main import main

main()
