"""Family portal (Scolarité services): login, first connection, activation, recovery."""
