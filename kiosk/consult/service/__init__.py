"""The work behind consultations: topics, the frozen electorate, ballots on every channel, the tally and its
freezing at close, correction notes, opinions, proposals, the resolution notice and follow-through. Secret
topics' released figures live in snapshots.py, votes at the lobby screen in kiosk_votes.py.

Views, the sweeper, the CLI, the demo and tests call these; every rule is checked here (a refusal is a
VoteRefused) and every state change goes through record_change() in the same transaction. Casting a ballot
commits by itself, because it may have to retry after a race with the same household. This package is the
consultations' one API (service.cast(...)); its modules split the work: topics, voting (ballots), counting
(tally, close, turnout), talk (opinions, proposals), resolution (notice, follow-through).
"""
from .base import YES_NO, VoteRefused
from .counting import (
    RollRow,
    close_due,
    compute,
    fingerprint,
    keep_time,
    live_result,
    participation,
    result_of,
    results_visible,
    roll_call,
    turnout_by_building,
)
from .procedure import (
    LateResolution,
    check_timing,
    default_rule,
    extend,
    first_opening,
    is_statutory,
    late_resolution,
    notice_days,
    platform_bypassed,
    resolution_due,
    unenforced_shortfall,
)
from .resolution import check_resolvable, check_updatable, post_update, publish_resolution, updates
from .talk import (
    OPINION_BURST,
    OPINION_WINDOW,
    OPINIONS_PER_TOPIC,
    PROPOSALS_PER_DAY,
    answer_proposal,
    check_hideable,
    hide_opinion,
    link_proposal,
    opinions,
    post_opinion,
    proposals,
    submit_proposal,
)
from .topics import (
    add_correction,
    all_topics,
    check_correctable,
    check_editable,
    check_open,
    corrections,
    has_verified_cards,
    in_scope,
    owner_group,
    publish,
    roll_places,
    save_topic,
    visible_topics,
    voting_now,
)
from .voting import ballots, card_refusal, cast, clean_choices, current_ballot, is_elector, live_card_of, why_not

__all__ = [
    "OPINIONS_PER_TOPIC", "OPINION_BURST", "OPINION_WINDOW", "PROPOSALS_PER_DAY", "RollRow", "VoteRefused", "YES_NO",
    "add_correction", "all_topics", "answer_proposal", "ballots", "cast", "check_correctable", "check_editable",
    "check_hideable", "check_open", "check_resolvable", "check_updatable", "clean_choices", "close_due", "compute",
    "corrections", "current_ballot", "fingerprint",
    "hide_opinion", "is_elector", "has_verified_cards", "in_scope", "roll_places", "card_refusal", "live_card_of",
    "why_not", "keep_time", "link_proposal", "live_result", "opinions", "owner_group",
    "participation", "post_opinion", "post_update", "proposals", "publish", "publish_resolution", "result_of",
    "results_visible", "roll_call", "save_topic", "submit_proposal", "turnout_by_building", "updates",
    "visible_topics", "voting_now",
    "LateResolution", "check_timing", "default_rule", "extend", "first_opening", "is_statutory", "late_resolution",
    "notice_days", "platform_bypassed", "resolution_due", "unenforced_shortfall",
]
