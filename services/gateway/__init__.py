"""Staff gateway: the staff web UI and the staff API gateway."""
