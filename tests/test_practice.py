"""The practice compound (练习小区, issue 17): made by the chair from the real compound's admin, seeded with
invented demo data, the committee mirrored, marked 练习, never counted in district figures, reset with one
button (every row, atomically, only a practice compound), audited in the real compound's log."""
import pytest
from sqlalchemy import func, select

from kiosk.auth.models import Membership, Role
from kiosk.changes import AuditEntry
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.households.models import Household
from kiosk.ledger.models import Period, PeriodStatus
from kiosk.notices.models import Notice
from kiosk.practice import service
from kiosk.screen.models import Screen

from conftest import login_as, post_form

BANNER = "练习小区 · 数据不作数"


@pytest.fixture
def full_seed():
    """Asked for by the tests that need the whole seed, the demo's year of ledger included."""


@pytest.fixture(autouse=True)
def quick_seed(request, monkeypatch):
    """Seed without the demo's year of ledger (seconds per seeding) unless the test asks for full_seed."""
    if "full_seed" not in request.fixturenames:
        monkeypatch.setattr("kiosk.demo._ledger", lambda *args, **kwargs: None)


@pytest.fixture
def committee(compound, chair, make_user):
    """maple's committee: the chair, a member and two supervisors (so a signed period can be seeded)."""
    member = make_user("member", compound, Role.member)
    sups = [make_user(f"sup{i}", compound, Role.supervisor) for i in (1, 2)]
    return {"chair": chair, "member": member, "sups": sups}


@pytest.fixture
def practice(compound, committee):
    """maple's practice compound, made by its chair."""
    made = service.create(compound, committee["chair"])
    db.session.commit()
    return made


def rows_of(compound_id):
    """How many rows each table holds for a compound (tables with a compound_id column)."""
    counts = {}
    for table in db.metadata.sorted_tables:
        if "compound_id" in table.c:
            counts[table.name] = db.session.scalar(select(func.count()).select_from(table)
                                                   .where(table.c.compound_id == compound_id))
    return counts


def test_the_chair_makes_the_practice_compound_and_it_is_seeded_with_invented_data(client, compound, committee,
                                                                                 full_seed):
    """The chair opens 练习小区 from the admin nav, makes it, and lands in a compound full of demo data whose
    residents are invented (none of the real roll's names)."""
    db.session.add(Household(compound_id=compound.id, building="1", entrance="1", room="101", area_centi=9000,
                             contact_name="真实住户甲", contact_phone="13900000000"))
    db.session.commit()
    login_as(client, committee["chair"])
    page = client.get("/admin/maple/notices/").get_data(as_text=True)
    assert "/admin/maple/practice/" in page and "练习小区" in page
    response = post_form(client, "/admin/maple/practice/create", {}, token_from="/admin/maple/practice/")
    assert response.status_code == 302 and "/admin/maple-lianxi/" in response.headers["Location"]
    practice = db.session.scalar(select(Compound).where(Compound.practice_of == compound.id))
    assert practice.slug == "maple-lianxi" and practice.name == "枫叶小区（练习）"
    households = db.session.scalars(select(Household).where(Household.compound_id == practice.id)).all()
    assert len(households) > 100
    assert "真实住户甲" not in {h.contact_name for h in households}
    counts = rows_of(practice.id)
    for table in ("notice", "household_card", "topic", "ledger_entry", "screen"):
        assert counts[table] > 0, table
    signed = db.session.scalar(select(func.count()).select_from(Period).where(
        Period.compound_id == practice.id, Period.status == PeriodStatus.published))
    assert signed > 0
    home = client.get(response.headers["Location"])
    assert BANNER in home.get_data(as_text=True)
    assert rows_of(compound.id)["household"] == 1  # the real compound got nothing


def test_only_the_chair_makes_it_and_once(client, compound, committee):
    """A member sees who makes it; a member's POST is refused; a second make changes nothing."""
    login_as(client, committee["member"])
    page = client.get("/admin/maple/practice/").get_data(as_text=True)
    assert "请委员会主任来建立" in page
    assert post_form(client, "/admin/maple/practice/create", {}, token_from="/admin/maple/practice/").status_code == 403
    service.create(compound, committee["chair"])
    db.session.commit()
    with pytest.raises(service.PracticeRefused):
        service.create(compound, committee["chair"])
    assert db.session.scalar(select(func.count()).select_from(Compound)) == 2


def test_the_slug_steers_clear_of_rules_and_taken_names(make_compound, compound):
    """<slug>-lianxi, shortened to 40 characters, numbered when another compound took it."""
    make_compound("maple-lianxi", "别的小区")
    assert service.practice_slug(compound) == "maple-lianxi2"
    long = make_compound("a" * 40, "长名字小区")
    slug = service.practice_slug(long)
    assert len(slug) <= 40 and slug.endswith("-lianxi")


def test_the_committee_is_mirrored_and_a_removed_member_loses_it(client, compound, committee, practice):
    """Every member of the real committee holds the same role in the practice compound, supervisors included;
    a member taken off the real committee can no longer open the practice compound."""
    roles = {m.user_id: m.role for m in db.session.scalars(select(Membership).where(
        Membership.compound_id == practice.id))}
    assert roles == {committee["chair"].id: Role.chair, committee["member"].id: Role.member,
                     committee["sups"][0].id: Role.supervisor, committee["sups"][1].id: Role.supervisor}
    login_as(client, committee["member"])
    assert client.get("/admin/maple-lianxi/notices/").status_code == 200
    db.session.delete(db.session.scalar(select(Membership).where(Membership.compound_id == compound.id,
                                                                 Membership.user_id == committee["member"].id)))
    db.session.commit()
    assert client.get("/admin/maple-lianxi/notices/").status_code == 404


def test_reset_throws_everything_away_and_seeds_again(client, compound, committee, full_seed, practice):
    """A member posts a notice in the practice compound, confirms the reset, and finds the seeded state again,
    with the 练习 banner; the real compound's log says who reset it."""
    seeded = rows_of(practice.id)
    login_as(client, committee["member"])
    post_form(client, "/admin/maple-lianxi/notices/new", {"title": "练习发的通知", "body": "正文", "category": "notice",
                                                          "action": "publish"})
    assert db.session.scalar(select(Notice.id).where(Notice.title == "练习发的通知")) is not None
    confirm = client.get("/admin/maple-lianxi/practice/reset")
    assert confirm.status_code == 200 and "确认重置" in confirm.get_data(as_text=True)
    response = post_form(client, "/admin/maple-lianxi/practice/reset", {})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert BANNER in page and "练习小区已重置" in page
    assert db.session.scalar(select(Notice.id).where(Notice.title == "练习发的通知")) is None
    after = rows_of(practice.id)
    for table in ("household", "notice", "topic", "ledger_entry", "screen", "household_card"):
        assert after[table] == seeded[table], table
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.compound_id == compound.id,
                                                         AuditEntry.action == "reset")).all()
    assert [e.actor_id for e in logged] == [committee["member"].id]


def test_reset_deletes_every_table_a_compound_owns(compound, committee, full_seed, practice):
    """Every table with a compound_id column (read from db.metadata, so a new table is covered) is among the
    tables a reset empties, and after a wipe none holds a row of the practice compound."""
    owned = {t.name for t, _o in service.owned_tables()}
    with_column = {t.name for t in db.metadata.sorted_tables if "compound_id" in t.c} - {"compound"}
    assert with_column <= owned
    assert {"ballot", "elector", "topic_option", "ledger_signoff"} <= owned  # the rows that hang off them
    service.wipe(practice)
    db.session.commit()
    assert not any(rows_of(practice.id).values())
    assert db.session.get(Compound, practice.id) is not None


def test_a_failed_reset_changes_nothing(client, compound, committee, practice, monkeypatch):
    """If seeding fails half-way, the practice compound keeps what it had: nothing is half-reset."""
    before = rows_of(practice.id)
    login_as(client, committee["chair"])
    token_page = "/admin/maple-lianxi/practice/reset"

    def broken(*args, **kwargs):
        raise RuntimeError("seeding failed")

    monkeypatch.setattr("kiosk.demo._consultations", broken)
    response = post_form(client, token_page, {}, token_from=token_page)
    assert response.status_code == 302
    assert "重置没有成功" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.rollback()
    assert rows_of(practice.id) == before


@pytest.mark.parametrize("path", ["/admin/maple/practice/reset", "/admin/maple/practice/reset?compound=maple-lianxi",
                                  "/admin/maple-lianxi/practice/reset?compound=maple"])
def test_a_real_compound_can_never_be_reset(client, compound, committee, practice, make_user, path):
    """Resetting the real compound by any route, query or form field fails; the practice one with a real one
    named in the request resets only itself."""
    staff = make_user("staff", platform_admin=True)
    login_as(client, staff)
    before = rows_of(compound.id)
    token = "/admin/maple-lianxi/practice/reset"
    response = post_form(client, path, {"compound": "maple", "compound_id": str(compound.id),
                                        "practice_of": str(compound.id), "slug": "maple"}, token_from=token)
    assert response.status_code in (302, 404)
    if path.startswith("/admin/maple/"):
        assert response.status_code == 404
        assert client.get("/admin/maple/practice/reset").status_code == 404
    after = rows_of(compound.id)
    logged = after.pop("audit_entry") - before.pop("audit_entry")
    after.pop("change"), before.pop("change")
    assert after == before  # nothing of the real compound's was touched...
    assert logged == (0 if response.status_code == 404 else 1)  # ...but the log line of the practice reset
    with pytest.raises(service.PracticeRefused):
        service.wipe(compound)
    with pytest.raises(service.PracticeRefused):
        service.reset(compound, staff)


def test_a_supervisor_may_not_reset(client, committee, practice):
    """Supervisors practise signing; resetting is for those who post (and platform staff)."""
    login_as(client, committee["sups"][0])
    assert client.get("/admin/maple-lianxi/practice/reset").status_code == 403


def test_practice_pages_ask_not_to_be_indexed(client, practice):
    """Practice pages send X-Robots-Tag: noindex; the real compound's do not."""
    assert client.get("/maple-lianxi/").headers.get("X-Robots-Tag") == "noindex"
    assert BANNER in client.get("/maple-lianxi/").get_data(as_text=True)
    assert "X-Robots-Tag" not in client.get("/maple/").headers
    assert BANNER not in client.get("/maple/").get_data(as_text=True)


@pytest.fixture
def staff_client(client, make_user, practice):
    """Street-office staff, logged in, with maple and its practice compound on the server."""
    login_as(client, make_user("staff", platform_admin=True))
    return client


@pytest.mark.parametrize("path", ["/admin/platform/", "/admin/platform/ledger/", "/admin/platform/documents/",
                                  "/open-data/"])
def test_district_views_leave_the_practice_compound_out(staff_client, compound, path):
    """The compounds list, the district's ledger and documents views and the district's open data show maple,
    never its practice compound."""
    page = staff_client.get(path).get_data(as_text=True)
    assert "枫叶小区" in page
    assert "枫叶小区（练习）" not in page and "maple-lianxi" not in page


def test_the_district_screens_view_leaves_practice_screens_out(staff_client, compound, practice):
    """The street office's list of every screen counts no practice screen."""
    db.session.add(Screen(compound_id=compound.id, name="枫叶东门屏"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Screen).where(Screen.compound_id == practice.id))
    page = staff_client.get("/admin/platform/screens/").get_data(as_text=True)
    assert "枫叶东门屏" in page and "枫叶小区（练习）" not in page and "3 栋大堂" not in page


def test_the_district_archive_holds_no_practice_files(staff_client):
    """/open-data/district.zip has a folder per published compound, none for a practice one."""
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(staff_client.get("/open-data/district.zip").data)).namelist()
    assert any(name.startswith("maple/") for name in names)
    assert not any("lianxi" in name for name in names)


def test_a_district_broadcast_skips_practice_compounds(compound, practice, make_user):
    """An urgent broadcast goes to every real compound; a practice one is not counted nor sent it."""
    from datetime import timedelta

    from kiosk.database import utcnow
    from kiosk.notices import broadcast

    _broadcast, sent = broadcast.send(make_user("staff", platform_admin=True), "街道停电通知", "",
                                      utcnow() + timedelta(days=1))
    db.session.commit()
    assert sent == 1
    assert db.session.scalar(select(Notice.id).where(Notice.compound_id == practice.id,
                                                     Notice.title == "街道停电通知")) is None
