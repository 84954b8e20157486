"""The supervisory body's own pages: platform staff apply a decided election to it.

Its own area because it reads consultations (the election's result), and consult already imports compounds:
putting this in compounds/ would tie the two packages in a cycle. Appointing and removing one supervisor
happens on the members page (compounds/views.py) through auth/supervision.py.
"""


def init_app(app):
    """Register the blueprint."""
    from .views import bp

    app.register_blueprint(bp)
