"""Pure parsing of the SIECLE/BEE XML exports (no database, no broker): see `parser` for the entry points."""
