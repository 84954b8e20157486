"""Consultations (协商议事): proposals, topics, discussion, household votes and their legally correct tallies."""


def init_app(app):
    """Register the area's blueprints, its lobby-screen slide and its template helpers."""
    from . import admin, models, present, public, service, slides

    for module in (public, admin):
        for bp in module.blueprints():
            app.register_blueprint(bp)
    slides.register()

    def phase_label(phase):
        return models.PHASE_LABELS[models.Phase(phase)]

    def outcome_of(topic):
        """The decided outcome of a closed topic, or "" while it is open."""
        return present.outcome(topic, topic.result) if topic.result is not None else ""

    def voting_topics():
        """Topics open for voting in the current compound (the phone home puts them first)."""
        from flask import g

        return service.voting_now(g.compound) if g.get("compound") is not None else []

    app.jinja_env.globals.update(voting_topics=voting_topics, phase_label=phase_label, outcome_of=outcome_of, area=present.area_text,
                                 present_pct=present.percent_text)
