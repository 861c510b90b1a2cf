"""Stats service: account and access statistics, fed only by events."""
