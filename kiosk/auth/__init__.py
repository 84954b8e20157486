"""Accounts, roles, login/logout, throttling and role checks."""
