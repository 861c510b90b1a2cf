"""Sync service: the nightly SIECLE/BEE import and the school-year rollover."""
