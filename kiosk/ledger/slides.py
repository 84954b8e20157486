"""The ledger slide (being written)."""


def register():
    pass
