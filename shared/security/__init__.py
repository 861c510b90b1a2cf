"""Security contracts shared by the services: staff tokens, one-time links, sealed secrets, passwords."""
