"""Reading the lobby screen from a step away, upright and sideways, on every engine it must work on (issue 13):

- ten urgent notices keep to two rows of the banner ("+8 条"), so the slide stays on the screen;
- a tapped slide opens a reader whose type is at least the slide's and which fills the screen;
- the consultation slide is whole on a sideways screen (about 265 px used to be cut off), says in words which side
  of its line each bar is, and its lines stand out at 3:1 against the bars;
- the ledger slide draws income green and expense red on one scale.

Debian Chromium, and the frozen Chromium 78 and 65 of lobby WebViews (old engines on SQLite only).
"""
import pytest

from .journeys import CURRENT
from .ledger_world import disclosed_month
from .screen_helpers import LONG_BODY

pytestmark = pytest.mark.browser

URGENT = [f"紧急：{n}号楼今晚九点至明早六点停水检修，请提前储水，电梯同时停运" for n in range(1, 11)]
OK_GREEN, URGENT_RED = "rgb(29, 107, 47)", "rgb(168, 0, 28)"


def make_current(screen, slide_id):
    """Bring a slide up as the loop does (the loop's own timing is test_screen_journeys.py's)."""
    screen.js("""(id) => { var all = document.querySelectorAll("#loop .slide.is-current");
        for (var i = 0; i < all.length; i++) all[i].classList.remove("is-current");
        document.querySelector('#loop .slide[data-slide-id="' + id + '"]').classList.add("is-current"); }""", slide_id)


def outside(screen, selector, within):
    """Descendants of selector that stick out of the box of `within` (cut off), as text for a message."""
    return screen.js("""(a) => { var box = document.querySelector(a.within).getBoundingClientRect(), out = [];
        var all = document.querySelectorAll(a.sel + " *");
        for (var i = 0; i < all.length; i++) {
          var r = all[i].getBoundingClientRect();
          if (r.width && r.height && (r.bottom > box.bottom + 1 || r.right > box.right + 1 || r.top < box.top - 1))
            out.push(all[i].tagName + "." + all[i].getAttribute("class") + " " + Math.round(r.top) + "-" + Math.round(r.bottom));
        }
        return out; }""", {"sel": selector, "within": within})


def luminance(rgb):
    """WCAG relative luminance of "rgb(r, g, b)"."""
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def build(live):
    """Ten urgent notices (one long enough to scroll), a named statutory vote with ballots, a disclosed month."""
    from sqlalchemy import select

    from kiosk.compounds.models import Compound
    from kiosk.consult import service
    from kiosk.consult.models import Channel, Topic
    from kiosk.extensions import db
    from kiosk.households.models import Household

    from .test_consult_live import build as consultation

    plan = consultation(live, dwell_seconds=600, idle_seconds=600)
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == plan.slug))
        topic = db.session.get(Topic, plan.topic_id)
        # 12 households vote 同意 and 6 不同意: 同意 passes the 1/2 line by owners, 不同意 does not.
        for i, (household_id, _, _) in enumerate(plan.households[5:23]):
            service.cast(compound, topic, db.session.get(Household, household_id), ["yes" if i < 12 else "no"],
                         Channel.phone)
    for i, title in enumerate(URGENT):
        live.add_notice(plan.slug, title, body=LONG_BODY if i == 0 else "请互相转告。", category="safety",
                        urgent=True, published_minutes_ago=5 + i)
    return plan


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_the_screen_reads_whole_and_large_with_ten_urgent_notices(live, open_screen, orientation):
    from sqlalchemy import select

    from kiosk.auth.models import Membership, User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db

    from .test_consult_live import recount

    plan = build(live)
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == plan.slug))
        username = db.session.scalar(select(User.username).join(Membership, Membership.user_id == User.id)
                                     .where(Membership.compound_id == compound.id))
    period = disclosed_month(live, plan.slug, username, [("停车费", 921000), ("维修", 140000)])
    path = plan.screen_path
    with live.app.app_context():
        from kiosk.screen.models import Orientation, Screen

        key = path.rsplit("/", 1)[1]
        screen_row = db.session.scalar(select(Screen).where(Screen.key == key))
        screen_row.orientation = Orientation(orientation)
        db.session.commit()

    screen = open_screen(path, orientation)
    width, height = screen.width, screen.height

    # Ten urgent notices: two rows and a count, and the slide under them whole on the screen.
    screen.wait_count("#banner .banner-item", 2)
    assert screen.text("#banner .banner-more").startswith("+8 条")
    banner = screen.box("#banner")
    assert banner["height"] <= height * 0.2, f"[{screen.engine}] the banner takes {banner['height']:.0f} px"
    assert screen.box(".banner-item")["height"] >= 60
    stage = screen.box("#loop")
    assert stage["height"] >= height * 0.55, f"[{screen.engine}] the slides have {stage['height']:.0f} px left"
    assert screen.text(f"{CURRENT} .slide-title") == URGENT[0]
    cut = [part for part in outside(screen, f"{CURRENT} .slide-body", "#loop") if "slide-text" not in part]
    assert cut == [], f"[{screen.engine}] the top of the urgent slide is cut off: {cut}"
    for part in (f"{CURRENT} .slide-title", f"{CURRENT} figure.qr svg"):
        box = screen.box(part)
        assert 0 <= box["y"] and box["y"] + box["height"] <= stage["y"] + stage["height"] + 1, \
            f"[{screen.engine}] {part} is off the screen: {box}"
    screen.shot(f"screen-ten-urgent-{orientation}", live.backend)

    # The reader: type at least the slide's, the whole width of the screen.
    title_px, text_px = screen.font_px(f"{CURRENT} .slide-title"), screen.font_px(f"{CURRENT} .slide-text")
    screen.tap(f"{CURRENT} .slide-title")
    screen.wait_body("detail-open")
    screen.wait_text("#detail h1", URGENT[0])
    assert screen.font_px("#detail h1") >= title_px, f"[{screen.engine}] reader title < slide title {title_px}"
    assert screen.font_px("#detail .prose p") >= text_px, f"[{screen.engine}] reader text < slide text {text_px}"
    text, qr = screen.box("#detail .detail-text"), screen.box("#detail .detail-qr")
    assert text["x"] <= 60, f"[{screen.engine}] the reader's text starts at {text['x']:.0f} px"
    if orientation == "portrait":
        assert text["x"] + text["width"] >= width - 60, f"[{screen.engine}] the reader's text is {text}"
    else:  # the QR code stands beside the text, at the right edge
        assert qr["x"] + qr["width"] >= width - 80 and qr["y"] < text["y"] + 400, \
            f"[{screen.engine}] the reader's text {text} and QR {qr} leave the screen's width unused"
    screen.shot(f"screen-reader-{orientation}", live.backend)
    screen.tap("#detail [data-action=back]")
    screen.wait_body("detail-open", present=False)

    # The consultation slide: whole, with words for each bar, and lines that stand out.
    slide = f"consult-{plan.topic_id}"
    make_current(screen, slide)
    cut = outside(screen, f"{CURRENT} .slide-body", "#loop")
    assert cut == [], f"[{screen.engine}] parts of the consultation slide are cut off: {cut}"
    result = recount(live, plan.topic_id)
    words = screen.query(f"{CURRENT} .slide-bars .chart-pass")["texts"]
    expected = ["人数已过通过线" if option.heads * 2 > result.part_heads else "人数未过通过线"
                for option in result.options]
    assert words == expected, f"[{screen.engine}] {words} for {[(o.key, o.heads) for o in result.options]}"
    assert "人数已过通过线" in words and "人数未过通过线" in words
    colours = screen.js("""() => { var c = function (s) { var e = document.querySelector(s);
        return e && getComputedStyle(e)[s.indexOf("threshold") >= 0 ? "stroke" : "fill"]; };
        return {line: c("#loop .slide.is-current .bar-threshold"), track: c("#loop .slide.is-current .bar-track"),
                fill: c("#loop .slide.is-current .chart-row:not(.approved) .bar-fill"),
                approved: (function () { var d = document.createElement("div");
                  d.className = "chart-row approved"; d.innerHTML = '<svg><rect class="bar-fill"/></svg>';
                  document.body.appendChild(d); var f = getComputedStyle(d.querySelector("rect")).fill;
                  d.parentNode.removeChild(d); return f; })()}; }""")
    for name in ("track", "fill", "approved"):
        assert contrast(colours["line"], colours[name]) >= 3, \
            f"[{screen.engine}] the line {colours['line']} against the {name} {colours[name]}: " \
            f"{contrast(colours['line'], colours[name]):.2f}:1"
    screen.shot(f"screen-consultation-{orientation}", live.backend)

    # The ledger slide: income green, expense red, one scale.
    make_current(screen, f"ledger-{period}")
    cut = outside(screen, f"{CURRENT} .slide-body", "#loop")
    assert cut == [], f"[{screen.engine}] parts of the ledger slide are cut off: {cut}"
    drawn = screen.js("""() => Array.prototype.map.call(document.querySelectorAll("#loop .slide.is-current .money-bar rect"),
        function (r) { return [getComputedStyle(r).fill, r.getBoundingClientRect().width]; })""")
    assert [fill for fill, _ in drawn] == [OK_GREEN, URGENT_RED], drawn
    assert abs(drawn[1][1] - drawn[0][1] * 140000 / 921000) <= 1.5, f"[{screen.engine}] bars {drawn}"

    screen.assert_clean()
