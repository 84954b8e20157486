"""What every part of the consultations' service shares: its refusal, and the options of a yes/no question."""
from ...refusals import Refused

YES_NO = (("yes", "同意"), ("no", "不同意"), ("abstain", "弃权"))


class VoteRefused(Refused):
    """A ballot, or a change to a topic, the rules forbid; `reason` is a code the view turns into a sentence,
    `ballot` the household's earlier ballot when that is why, `detail` what else the sentence needs."""

    def __init__(self, reason, ballot=None, **detail):
        super().__init__(reason, **detail)
        self.ballot = ballot
