"""Notices: what the committee posts and residents read."""
