"""Accounts service: establishments, the account lifecycle, identifiers, temporary passwords, staff actions."""
