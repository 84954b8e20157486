"""The template environment: globals a template is given stay its own, and every page sees the app's globals."""
import pytest


@pytest.mark.sqlite_only  # templates, whatever the database
def test_a_template_s_own_globals_never_become_every_page_s(app):
    env = app.jinja_env
    own = env.from_string("{{ extra }}", globals={"extra": "mine"})
    assert own.render() == "mine"
    assert "extra" not in env.globals and env.from_string("{{ extra is defined }}").render() == "False"
    env.get_template("_icp.html")  # loaded and kept: its globals are a read-only view of the environment's
    with pytest.raises(AttributeError):  # the view has no update()
        env.get_template("_icp.html", globals={"extra": "x"})
    assert "extra" not in env.globals


@pytest.mark.sqlite_only  # templates, whatever the database
def test_a_global_added_after_a_template_loaded_is_seen_by_it(app):
    env = app.jinja_env
    template = env.from_string("{{ added_later | default('none') }}")
    assert template.render() == "none"
    env.globals["added_later"] = "seen"
    try:
        assert template.render() == "seen"
    finally:
        del env.globals["added_later"]
