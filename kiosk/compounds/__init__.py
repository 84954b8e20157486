"""Compounds: the tenant of every row, and the /<compound>/ URL prefix."""
