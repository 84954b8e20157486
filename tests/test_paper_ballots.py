"""Numbered paper ballots (表决票): the printed set, entering returns twice (a second member confirms blind), the
problems list, the chair's decision, the rule between paper and online ballots, and refusals next to the field."""
import re

import pytest
import time_machine
from sqlalchemy import func, select

import factories
from conftest import ahead, csrf_token, login_as, post_form
from factories import text_of
from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.consult import service as consult
from kiosk.consult.models import Ballot, Channel
from kiosk.consult.paper_models import PaperBallot, PaperEntry, PaperState
from kiosk.consult.service import paper
from kiosk.extensions import db
from kiosk.households.service import issue

BASE = "/admin/maple/topics"
CHOICES = ("yes", "no", "abstain")


@pytest.fixture
def members(make_user, compound, chair):
    """The chair and two more committee members: 甲 enters, 乙 confirms."""
    return chair, make_user("jia", compound, Role.member), make_user("yi", compound, Role.member)


def current_ballots(topic):
    return db.session.scalars(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.current.is_(True))).all()


def intended(number):
    """What the household with paper `number` ticked."""
    return CHOICES[number % 3]


def other_than(choice):
    return next(c for c in CHOICES if c != choice)


def test_two_hundred_ballots_two_members_five_mismatches_three_duplicates(app, compound, members):
    """200 returned ballots entered by 甲 and confirmed blind by 乙; 乙 reads 5 differently, 3 numbers come back
    twice. The count holds exactly the 195 agreed papers (replacing online ballots: 以纸质票为准), the 8 problems
    are listed, no number counts twice; the chair's decisions then bring in the 5."""
    chair, jia, yi = members
    homes = factories.households(compound, 200, building=lambda i: str(1 + i // 50), room=lambda i: f"{101 + i % 50}")
    topic = factories.open_topic(compound, chair, secret=False, allow_change=False)
    online = homes[:10]  # ten households voted on the phone before returning their paper
    for home in online:
        consult.cast(compound, topic, home, ["no"], Channel.phone)
    assert paper.print_set(compound, chair, topic) == 200
    db.session.commit()
    papers = paper.papers(topic)
    assert [p.number for p in papers] == list(range(1, 201))
    assert len({p.household_id for p in papers}) == 200 and len({p.token for p in papers}) == 200

    mismatched, duplicated = {7, 42, 99, 150, 200}, {3, 64, 128}
    for p in papers:
        assert paper.enter(compound, jia, topic, p, "first", [intended(p.number)]).outcome == "entered"
    for number in sorted(duplicated):  # a second paper with the same number turns up in the box
        again = paper.find(compound, topic, str(number))
        assert paper.enter(compound, jia, topic, again, "first", ["yes"]).outcome == "duplicate"
    for p in papers:
        read = other_than(intended(p.number)) if p.number in mismatched else intended(p.number)
        expected = "mismatch" if p.number in mismatched else "confirmed"
        assert paper.enter(compound, yi, topic, p, "confirm", [read]).outcome == expected

    by_household = {p.household_id: p for p in papers}
    ballots = current_ballots(topic)
    assert len({b.household_id for b in ballots}) == len(ballots)  # one current ballot per household
    from_paper = [b for b in ballots if b.channel == Channel.paper]
    assert len(from_paper) == 195
    for ballot in from_paper:
        assert ballot.choices == [intended(by_household[ballot.household_id].number)]
        assert by_household[ballot.household_id].number not in mismatched
    # Mismatched papers do not count yet: an online ballot of theirs stays, else nothing.
    online_ids = {h.id for h in online}
    for p in papers:
        if p.number in mismatched:
            mine = [b for b in ballots if b.household_id == p.household_id]
            assert [b.channel for b in mine] == (["phone"] if p.household_id in online_ids else [])
    linked = db.session.scalars(select(PaperBallot.ballot_id).where(PaperBallot.topic_id == topic.id,
                                                                    PaperBallot.ballot_id.is_not(None))).all()
    assert len(linked) == len(set(linked)) == 195  # no number counts twice

    problems = paper.problems(topic)
    assert sorted((p.kind, p.paper.number) for p in problems) == sorted(
        [("mismatch", n) for n in mismatched] + [("duplicate", n) for n in duplicated])
    mismatch_entries = {p.paper.number: [e.choices for e in p.entries] for p in problems if p.kind == "mismatch"}
    assert mismatch_entries[7] == [[intended(7)], [other_than(intended(7))]]  # both entries, for the chair

    for p in problems:
        if p.kind == "mismatch":
            assert paper.resolve(compound, chair, topic, p.paper, [intended(p.paper.number)]) == "confirmed"
    ballots = current_ballots(topic)
    assert len(ballots) == 200 and all(b.channel == Channel.paper for b in ballots)
    assert all(b.choices == [intended(by_household[b.household_id].number)] for b in ballots)
    assert sorted((p.kind, p.paper.number) for p in paper.problems(topic)) == [("duplicate", n) for n in sorted(duplicated)]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "paper_resolved")) == 5


def test_problems_list_on_the_page_shows_both_entries(app, client, compound, members):
    """The committee's page lists a mismatch with who entered what, and a duplicate return."""
    chair, jia, yi = members
    factories.households(compound, 3)
    topic = factories.open_topic(compound, chair, secret=False)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    one, two, _three = paper.papers(topic)
    paper.enter(compound, jia, topic, one, "first", ["yes"])
    paper.enter(compound, yi, topic, one, "confirm", ["no"])
    paper.enter(compound, jia, topic, two, "first", ["yes"])
    paper.enter(compound, yi, topic, two, "first", ["yes"])
    login_as(client, chair)
    text = text_of(client.get(f"{BASE}/{topic.id}/paper-ballots"))
    assert "待处理（2）" in text
    assert "两次录入不一致" in text and "重复交回" in text
    assert "Jia" in text and "Yi" in text and "录为“同意”" in text and "录为“不同意”" in text


def entry(client, topic, ballot, stage="first", choice="yes"):
    return post_form(client, f"{BASE}/{topic.id}/paper-ballots/enter",
                     {"ballot": ballot, "stage": stage, "choices": choice},
                     token_from=f"{BASE}/{topic.id}/paper-ballots")


def field_error(response, name):
    """The error sentence shown next to a field of the entry form."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    found = soup.find(id=f"{name}-error")
    if found is None:  # the choices fieldset
        found = soup.select_one(f"fieldset.has-error p.error")
    return found.get_text() if found else ""


def test_refusals_say_why_next_to_the_field_and_save_nothing(app, client, compound, members, make_compound,
                                                              make_user):
    """Unknown number, another compound's ballot, the same member confirming their own entry, confirming a
    number nobody entered, and a closed topic: a sentence by the field, no entry kept."""
    chair, jia, yi = members
    factories.households(compound, 2)
    topic = factories.open_topic(compound, chair, secret=False, closes_at=ahead(hours=1))
    oak = make_compound("oak", "橡树小区")
    oak_chair = make_user("oakchair", oak, Role.chair)
    factories.households(oak, 1)
    oak_topic = factories.open_topic(oak, oak_chair, secret=False)
    paper.print_set(compound, chair, topic)
    paper.print_set(oak, oak_chair, oak_topic)
    db.session.commit()
    theirs = paper.papers(oak_topic)[0]
    login_as(client, jia)

    def entries():
        return db.session.scalar(select(func.count()).select_from(PaperEntry))

    response = entry(client, topic, "57")
    assert response.status_code == 400 and "没有找到这张票" in field_error(response, "ballot")
    response = entry(client, topic, f"https://kiosk.example/admin/oak/topics/paper/{theirs.token}")
    assert response.status_code == 400 and "不是本小区的" in field_error(response, "ballot")
    response = entry(client, topic, "2", stage="confirm")
    assert response.status_code == 409 and "还没有人登记过" in field_error(response, "stage")
    assert entries() == 0
    assert entry(client, topic, "1").status_code == 302
    response = entry(client, topic, "1", stage="confirm")
    assert response.status_code == 409 and "复核要由另一位委员来做" in field_error(response, "stage")
    response = entry(client, topic, "1", choice="")
    assert response.status_code == 400 and "请按票上的勾选" in field_error(response, "choices")
    assert entries() == 1
    token = csrf_token(client, f"{BASE}/{topic.id}/paper-ballots")
    with time_machine.travel(ahead(hours=2), tick=True):
        login_as(client, jia)  # an idle login lapses; the member logs in again after the close
        response = client.post(f"{BASE}/{topic.id}/paper-ballots/enter",
                               data={"ballot": "2", "stage": "first", "choices": "yes", "csrf_token": token})
        assert "投票已于" in field_error(response, "ballot") and "截止" in field_error(response, "ballot")
    assert entries() == 1


def test_paper_ballot_prevails_over_online_either_way(app, client, compound, members):
    """以纸质票为准: a confirmed paper replaces an earlier phone ballot even where changes are not allowed, and
    a phone ballot afterwards is refused with a sentence."""
    chair, jia, yi = members
    home, = factories.households(compound, 1)
    topic = factories.open_topic(compound, chair, secret=False, allow_change=False)
    consult.cast(compound, topic, home, ["no"], Channel.phone)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    sheet, = paper.papers(topic)
    paper.enter(compound, jia, topic, sheet, "first", ["yes"])
    assert paper.enter(compound, yi, topic, sheet, "confirm", ["yes"]).outcome == "confirmed"
    assert [(b.channel, b.choices) for b in current_ballots(topic)] == [("paper", ["yes"])]
    login_as(client, chair)
    assert "编号表决票 No. 0001，两人核对 同意" in text_of(client.get(f"{BASE}/{topic.id}"))
    with pytest.raises(consult.VoteRefused) as refused:
        consult.cast(compound, topic, home, ["no"], Channel.phone)
    assert refused.value.reason == "paper_final"
    assert [(b.channel, b.choices) for b in current_ballots(topic)] == [("paper", ["yes"])]


def test_phone_page_states_the_paper_rule_and_refuses_a_vote_over_paper(app, client, compound, members):
    """The household's phone says its paper ballot stands; a forced POST gets the calm sentence."""
    chair, jia, yi = members
    home, = factories.households(compound, 1)
    topic = factories.open_topic(compound, chair, secret=True)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    sheet, = paper.papers(topic)
    paper.enter(compound, jia, topic, sheet, "first", ["yes"])
    paper.enter(compound, yi, topic, sheet, "confirm", ["yes"])
    token = issue(compound, chair, [home])[0][1]
    db.session.commit()
    assert client.get(f"/h/{token}").status_code == 302
    page = text_of(client.get(f"/maple/topics/{topic.id}"))
    assert "以纸质表决票为准" in page
    response = post_form(client, f"/maple/topics/{topic.id}/vote", {"choice": "no"},
                         token_from=f"/maple/topics/{topic.id}")
    assert response.status_code == 303
    assert "以纸质表决票为准，不能再投" in text_of(client.get(f"/maple/topics/{topic.id}"))


def rasterise(svg, scale=8):
    """A PNG of our QR SVG, drawn from its path runs (the decoder that reads it, zbar, is not ours)."""
    import io

    from PIL import Image, ImageDraw

    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + 1) * scale - 1], fill=0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_printed_ballot_qr_names_the_ballot_and_opens_only_the_committee_page(app, client, compound, members,
                                                                                 tmp_path):
    """zbar reads the printed QR: a URL with the ballot's random token (not a card), which sends a committee
    member to the entry page with the number filled in, and anyone else to the login page."""
    import subprocess

    chair, jia, yi = members
    factories.households(compound, 3)
    topic = factories.open_topic(compound, chair)
    login_as(client, jia)
    assert post_form(client, f"{BASE}/{topic.id}/paper-ballots/print", {},
                     token_from=f"{BASE}/{topic.id}/paper-ballots").status_code == 302
    sheets = client.get(f"{BASE}/{topic.id}/paper-ballots/sheets")
    html = sheets.get_data(as_text=True)
    assert html.count('class="paper-ballot"') == 3 and "No. 0001" in html and "以纸质表决票为准" in html
    first = paper.papers(topic)[0]
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    png = tmp_path / "qr.png"
    png.write_bytes(rasterise(svg))
    decoded = subprocess.run(["zbarimg", "--nodbus", "-q", "--raw", str(png)], capture_output=True, text=True)
    assert decoded.returncode == 0, decoded.stderr
    url = decoded.stdout.strip()
    assert url.endswith(f"/admin/maple/topics/paper/{first.token}")
    path = url.split("localhost", 1)[-1]
    opened = client.get(path)
    assert opened.status_code == 302 and f"ballot={first.number}" in opened.headers["Location"]
    page = client.get(opened.headers["Location"])
    assert 'value="1"' in page.get_data(as_text=True)
    assert f"这是第 1 号票：{first.household.address}" in text_of(page)
    stranger = app.test_client()
    response = stranger.get(path)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    # A USB scanner types the whole URL into the focused field: it names the same ballot.
    assert entry(client, topic, url).status_code == 302
    assert db.session.get(PaperBallot, first.id).state == PaperState.entered


def test_receipts_list_each_building_with_number_and_signature_columns(app, client, compound, members):
    """The delivery receipt list: one sheet per building, every address with its ballot number."""
    chair, jia, yi = members
    factories.households(compound, 4, building=lambda i: "3" if i < 2 else "5")
    topic = factories.open_topic(compound, chair)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    login_as(client, jia)
    text = text_of(client.get(f"{BASE}/{topic.id}/paper-ballots/receipts"))
    assert text.count("表决票送达回执") == 2 and "3栋" in text and "5栋" in text
    assert "签收人签字" in text and "No. 0004" in text


def test_secret_topic_entries_write_no_per_ballot_audit_and_hide_choices(app, client, compound, members):
    """A secret topic's paper entries leave no audit row per ballot, and the page shows a duplicate's entries
    without their choices (only a mismatch, which the chair must decide, shows what was typed)."""
    chair, jia, yi = members
    factories.households(compound, 2)
    topic = factories.open_topic(compound, chair, secret=True)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    one, two = paper.papers(topic)
    paper.enter(compound, jia, topic, one, "first", ["yes"])
    paper.enter(compound, yi, topic, one, "confirm", ["yes"])
    paper.enter(compound, yi, topic, one, "first", ["no"])
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    login_as(client, chair)
    text = text_of(client.get(f"{BASE}/{topic.id}/paper-ballots"))
    assert "重复交回" in text and "录为" not in text


def test_the_demo_shows_the_lift_vote_with_proxies_and_paper_ballots_in_progress(app, client):
    """kiosk demo: the 3栋 lift vote, only building 3 on its electorate, a used and a standing proxy (the sample
    card's household can revoke its own), paper ballots entered once, confirmed and one mismatch."""
    from kiosk.consult.models import Elector, Topic
    from kiosk.consult.paper_models import Proxy
    from kiosk.demo import load_demo

    load_demo()
    summary = load_demo()  # twice: one copy of everything
    topic = db.session.get(Topic, summary["paper_topic_id"])
    assert topic.title == "3栋电梯更新改造" and topic.phase() == "voting"
    assert set(db.session.scalars(select(Elector.building).where(Elector.topic_id == topic.id))) == {"3"}
    assert sorted(p.state for p in db.session.scalars(select(Proxy).where(Proxy.topic_id == topic.id))) == [
        "standing", "voted"]
    counts = paper.summary(topic)
    assert counts["entered"] > 0 and counts["confirmed"] > 0 and counts["mismatch"] == 1
    phone = app.test_client()
    phone.get(f"/h/{summary['card_token']}")
    assert "您已书面委托 李秀兰 代为表决" in text_of(phone.get(f"/guixiang/topics/{topic.id}"))


def test_a_photo_goes_with_the_entry_and_a_refused_entry_keeps_no_photo(app, client, compound, members):
    """The optional photo of the paper is kept with the entry (committee only); when the entry is refused, neither
    the photo's row nor its file stays behind."""
    import io

    from kiosk.uploads import Image, upload_dir

    chair, jia, yi = members
    factories.households(compound, 1)
    topic = factories.open_topic(compound, chair, secret=False)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    login_as(client, jia)
    page = f"{BASE}/{topic.id}/paper-ballots"

    def send(stage):
        return post_form(client, f"{page}/enter", {"ballot": "1", "stage": stage, "choices": "yes",
                                                   "photo": (io.BytesIO(factories.jpeg()), "p.jpg", "image/jpeg")},
                         token_from=page, content_type="multipart/form-data")

    assert send("first").status_code == 302
    entry_, = db.session.scalars(select(PaperEntry)).all()
    photo = db.session.get(Image, entry_.image_id)
    assert client.get(f"/maple/media/{photo.filename}").status_code == 200
    assert app.test_client().get(f"/maple/media/{photo.filename}").status_code == 404
    files = set(upload_dir().iterdir())
    assert send("confirm").status_code == 409  # 甲 cannot confirm their own entry
    assert db.session.scalar(select(func.count()).select_from(Image)) == 1
    assert set(upload_dir().iterdir()) == files


def test_once_numbered_ballots_are_out_one_member_cannot_type_a_paper_ballot_straight_in(app, client, compound,
                                                                                        members):
    """The older quick form (one member types in a household's paper) would skip the second member's blind
    entry: once the numbered set is printed it is refused with a sentence pointing to the numbered ballots, the
    topic page offers that page instead of the form, and no ballot is taken."""
    chair, jia, _yi = members
    home, = factories.households(compound, 1, building=lambda i: "3", room=lambda i: "502")
    topic = factories.open_topic(compound, chair, secret=False)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    login_as(client, jia)
    page = client.get(f"{BASE}/{topic.id}")
    assert "交回的票请在“编号纸质表决票”页录入" in text_of(page) and "录入这张票" not in text_of(page)
    response = post_form(client, f"{BASE}/{topic.id}/paper", {"building": "3", "entrance": "", "room": "502",
                                                            "choices": "yes"}, token_from=f"{BASE}/{topic.id}")
    assert response.status_code == 409
    assert "由两位委员核对" in text_of(response)
    assert current_ballots(topic) == []
    with pytest.raises(consult.VoteRefused):  # the service refuses it too, whoever calls it
        consult.cast(compound, topic, home, ["yes"], channel=Channel.paper, entered_by=chair)
