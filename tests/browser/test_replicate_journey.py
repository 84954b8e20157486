"""Issue 17: a street-office staff member opens a new compound by copying the demo's setup, and the compound's
committee works through the setup checklist until every step is ticked; the district's progress page says so.

Every step is done the way its people do it, in the browser: staff create the compound (copying 桂香园) and
appoint the committee and the supervisors; the chair logs in with the one-time password, imports the roll through
the preview, prints and hands out the cards, registers the lobby screen (which then opens), posts the first notice
and says the posters are up. One step is done below the browser: each book's first month closed and signed by
two supervisors (the sign-off has its own browser journeys; here the books only need to have started a month ago).
"""
from sqlalchemy import select

import factories
from kiosk.auth.models import User
from kiosk.compounds.models import Compound
from kiosk.demo import load_demo
from kiosk.extensions import db
from kiosk.screen.models import Screen

from .conftest import PASSWORD, expect, password_hash


STEPS = ("committee", "roll", "cards", "screen", "books", "notice", "posters")
ROLL = "楼栋,单元,房号,建筑面积\n" + "".join(f"8,{1 + i // 3},{101 + i % 3},{86 + i}.5㎡\n" for i in range(6))
NEW_PASSWORD = "丹桂苑主任的新密码2026"


def ticked(page):
    """{step: done} as the checklist page shows it."""
    return {key: page.locator(f"[data-step='{key}']").get_attribute("data-done") == "1" for key in STEPS}


def log_in(page, username, password):
    page.goto("/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def test_staff_copy_the_demo_and_the_committee_ticks_every_step(live, visitor, tmp_path):
    with live.app.app_context():
        printed = load_demo()
        staff = db.session.scalar(select(User).where(User.username == printed["staff"]))
        staff.password_hash, staff.must_change_password = password_hash(live.app), False
        db.session.commit()

    # ---- The street office: a new compound copying 桂香园's setup. ----
    office = visitor().page
    log_in(office, printed["staff"], PASSWORD)
    office.goto("/admin/platform/")
    office.get_by_label("小区名称").fill("丹桂苑")
    office.get_by_label("网址名").fill("dangui")
    office.get_by_label("所属社区").fill("东湖社区")
    office.get_by_label("所属街道").fill("湘江街道")
    office.get_by_label("第一位管理员姓名").fill("周建华")
    office.get_by_label("第一位管理员用户名").fill("dangui-chair")
    office.get_by_label("复制设置自").select_option(label="桂香园小区 (/guixiang/)")
    office.get_by_role("button", name="创建小区和主任账号").click()
    expect(office.locator(".one-time")).to_contain_text("已复制 桂香园小区 的设置")
    one_time = office.locator(".one-time .password").inner_text()

    office.goto("/admin/dangui/setup/")
    assert ticked(office) == dict.fromkeys(STEPS, False)
    expect(office.locator("[data-step='books']")).to_contain_text("期初 ¥0.00")  # the model's books, from zero

    # Staff add the committee and appoint the supervisors (a chair's form does not offer that role).
    office.goto("/admin/dangui/members")
    for n, role in enumerate(["member"] * 4 + ["supervisor"] * 3):
        office.get_by_label("姓名").fill(f"委员{n}")
        office.get_by_label("登录用户名").fill(f"dangui-{n}")
        office.get_by_label("职务").select_option(role)
        office.get_by_role("button", name="添加").click()
        expect(office.locator("main")).to_contain_text(f"dangui-{n}")
    office.goto("/admin/dangui/setup/")
    assert ticked(office)["committee"]

    # ---- The chair: first login, then the roll, the cards, the screen, a notice, the posters. ----
    chair = visitor().page
    log_in(chair, "dangui-chair", one_time)
    chair.get_by_label("当前密码").fill(one_time)
    chair.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    chair.get_by_label("再输一次新密码").fill(NEW_PASSWORD)
    chair.get_by_role("button", name="保存新密码").click()
    expect(chair.locator("main")).to_contain_text("开通清单")  # the committee's landing shows the checklist

    roll = tmp_path / "名册.csv"
    roll.write_bytes(ROLL.encode("gbk"))  # as a property company's spreadsheet program saves it
    chair.goto("/admin/dangui/households/import")
    chair.get_by_label("名册文件（Excel 或 CSV）").set_input_files(str(roll))
    chair.get_by_role("button", name="上传并预览").click()
    expect(chair.get_by_role("heading", name="预览：还没有保存")).to_be_visible()
    chair.get_by_role("button", name="确认导入 6 户").click()
    expect(chair.locator("main")).to_contain_text("导入完成：新增 6 户")

    chair.goto("/admin/dangui/cards/")
    chair.get_by_label("全部住户（全部补发）").check()
    chair.get_by_role("button", name="生成并打印").click()
    chair.goto("/admin/dangui/cards/")
    chair.get_by_role("button", name="已打印并分发").click()

    chair.goto("/admin/dangui/screens/new")
    chair.get_by_label("名称").fill("8栋大堂")
    chair.get_by_role("button", name="保存").click()
    with live.app.app_context():
        key = db.session.scalar(select(Screen.key).join(Compound).where(Compound.slug == "dangui"))
    lobby = visitor(viewport={"width": 1080, "height": 1920}).page
    lobby.goto(f"/dangui/screen/{key}")
    expect(lobby.locator("body")).to_contain_text("丹桂苑")

    chair.goto("/admin/dangui/notices/new")
    chair.get_by_label("标题").fill("丹桂苑公示屏开通了")
    chair.get_by_label("正文").fill("扫电梯里的二维码，就能在手机上看通知、收支和议事。")
    chair.get_by_role("button", name="发布").click()

    chair.goto("/admin/dangui/setup/")
    chair.get_by_role("button", name="已打印张贴").click()

    # ---- Each book's first month, closed by the chair and signed by two supervisors. ----
    _close_first_month_of_every_book(live)

    chair.goto("/admin/dangui/setup/")
    assert ticked(chair) == dict.fromkeys(STEPS, True), chair.locator(".setup-steps").inner_text()
    expect(chair.locator("main")).to_contain_text("已完成 7/7")

    office.goto("/admin/platform/setup/")
    row = office.locator("tr", has_text="丹桂苑")
    expect(row.locator(".setup-fraction")).to_have_text("7/7")


def _close_first_month_of_every_book(live):
    """Move the copied books' start a year back (as if the compound had opened then: a quarterly book's first
    period must have ended too), then close each book's first period and have two of the appointed supervisors
    sign it."""
    from kiosk.auth.models import Membership, Role
    from kiosk.ledger import service as ledger
    from kiosk.ledger.models import Book

    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == "dangui"))
        chair = db.session.scalar(select(User).where(User.username == "dangui-chair"))
        supervisors = db.session.scalars(select(User).join(Membership).where(
            Membership.compound_id == compound.id, Membership.role == Role.supervisor).order_by(User.id)).all()
        books = db.session.scalars(select(Book).where(Book.compound_id == compound.id)).all()
        for book in books:
            start = book.started_on.replace(year=book.started_on.year - 1)
            book.started_on = book.signoffs_since = start
        db.session.commit()
        for book in books:
            with ledger.using_book(book.kind):
                start, end = ledger.next_period(compound)
                factories.close_and_sign(compound, chair, supervisors, start, end)
