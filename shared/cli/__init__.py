"""The `teleservices` command line: a stable contract for operators and scripts."""
