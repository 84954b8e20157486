"""Refused: what an area's service raises when its rules say no, before anything is written (or the caller
rolls back). `reason` is a short code the area's pages turn into a sentence, `detail` what the sentence needs;
each area subclasses it (LedgerRefused, VoteRefused, ...) and its blueprints' error handler renders it."""


class Refused(ValueError):
    """A change the rules refuse (a value the current state does not allow); `reason` names the rule, `detail`
    carries figures for the sentence."""

    def __init__(self, reason, **detail):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
