"""Consultations (协商议事): proposals, topics, discussion, household votes on the phone, at the lobby screen and
on paper, their legally correct tallies, and the resolution that follows."""

AREA = "consult"


def init_app(app):
    """Declare consultations; register their pages, their slides, their section of "our household" (open
    votes), the clock that closes votes, the cacheable pages and the helpers their templates use."""
    from flask import g
    from flask_babel import lazy_gettext as _l

    from .. import areas, pagecache, sweeper
    from ..households.sections import register_section
    from ..screen.registry import register_slide
    from . import admin, mine, models, present, public, rules_page, service, slides  # noqa: F401 (rules_page: its route)

    areas.declare(app, AREA)
    areas.register_blueprints(app, *public.blueprints(), *admin.blueprints())
    register_slide(app, AREA, slides.slides, slides.detail, "consult/_slide_detail.html", order=20,
                   label=_l("协商投票"))
    sweeper.register_clock(app, AREA, service.keep_time)
    register_section(app, AREA, "consult/_mine_votes.html", mine.section, order=5)  # votes before pickups
    pagecache.register_cacheable(app, AREA, "consult.topics", "consult.topic", "consult.results",
                                 "consult.proposals")

    def voting_topics():
        """Topics open for voting in the current compound (the phone home puts them first)."""
        return service.voting_now(g.compound) if g.get("compound") is not None else []

    def outcome_of(topic):
        """The decided outcome of a closed topic, or "" while it is open."""
        return present.outcome(topic, topic.result) if topic.result is not None else ""

    def ballot_sources(topic):
        """How many counted ballots came by written proxy and from numbered paper ballots (counts only)."""
        from .service import paper, proxies

        return {"proxy": proxies.proxy_ballot_count(topic), "paper": paper.paper_ballot_count(topic)}

    from . import fastvote

    fastvote.init_app(app)  # a phone's ballot in the certain case, below Flask (after the routes it matches)
    areas.template_helpers(app, voting_topics=voting_topics, outcome_of=outcome_of, area=present.area_text,
                           ballot_sources=ballot_sources,
                           phase_label=lambda phase: models.PHASE_LABELS[models.Phase(phase)],
                           present_pct=present.percent_text)
