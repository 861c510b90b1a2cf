"""Fictional SIECLE/BEE exports for demos, tests and benchmarks: see `teleservices.sync.demo_export` for the API."""
