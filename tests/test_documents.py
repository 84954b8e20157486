"""The document library (文件公开): the committee uploads a PDF or photos from a phone, posts a version for at least
the profile's days (管理规约 and 议事规则 adopted by an owners' vote), residents read the pages as images, search their
text and hear it read; older versions stay as history; audit reports reach the lobby screen and the ledger's
periods; contracts list the entries paid under them; the seal-use log keeps every line."""
import io
from datetime import date, timedelta

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kiosk.changes import AuditEntry
from kiosk.documents import service
from kiosk.documents.models import Document, EntryLink, Page, SealUse, Version
from kiosk.extensions import db
from kiosk.timefmt import local_date
from kiosk.uploads import Image, upload_dir

from conftest import login_as, post_form
from documents_support import (decided_topic, javascript_pdf, jpeg_photo, many_pages_pdf, not_a_pdf, text_pdf)
from factories import text_of

ADMIN = "/admin/maple/documents"


def new_document(client, **fields):
    data = {"doc_kind": "contract", "title": "保洁服务合同", "auditor": "", "covers_term": ""}
    data.update(fields)
    response = post_form(client, f"{ADMIN}/new", data, token_from=f"{ADMIN}/new")
    assert response.status_code == 302, text_of(response)
    return db.session.scalar(select(Document).order_by(Document.id.desc()))


def upload(client, document, files, days=15, start=None, topic=None, note=""):
    start = start or local_date()
    data = {"posted_from": start.isoformat(), "posted_until": (start + timedelta(days=days - 1)).isoformat(),
            "topic_id": str(topic.id) if topic else "0", "note": note,
            "files": [(io.BytesIO(data), name) for name, data in files]}
    return post_form(client, f"{ADMIN}/{document.id}/versions", data, token_from=f"{ADMIN}/{document.id}",
                     content_type="multipart/form-data")


def publish(client, document, version):
    return post_form(client, f"{ADMIN}/{document.id}/versions/{version.id}/publish", {},
                     token_from=f"{ADMIN}/{document.id}")


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Version, Page, Image, AuditEntry)), sorted(p.name for p in upload_dir().iterdir())


def posted(client, document, files=None, **kwargs):
    response = upload(client, document, files or [("规约.pdf", text_pdf())], **kwargs)
    assert response.status_code == 302, text_of(response)
    version = db.session.scalar(select(Version).order_by(Version.id.desc()))
    assert publish(client, document, version).status_code == 302
    return version


def test_a_pdf_becomes_pages_residents_read_search_and_hear(committee_client, client, compound):
    document = new_document(committee_client)
    response = upload(committee_client, document, [("合同.pdf", text_pdf())])
    assert response.status_code == 302
    version = db.session.scalar(select(Version))
    assert [p.text for p in version.pages][1] == "第二章 电梯\n电梯维修费用由本栋业主分摊。"
    # A draft is the committee's: residents find nothing yet, not even its page images.
    resident = client.application.test_client()
    assert resident.get(f"/maple/docs/{document.id}").status_code == 404
    image = version.pages[0].image.filename
    assert resident.get(f"/maple/media/{image}").status_code == 404
    assert committee_client.get(f"/maple/media/{image}").status_code == 200
    assert publish(committee_client, document, version).status_code == 302
    page = resident.get(f"/maple/docs/{document.id}")
    text = text_of(page)
    assert "保洁服务合同" in text and "第 2 页" in text and "电梯维修费用由本栋业主分摊" in text
    assert 'data-speak="#page-text-' in page.get_data(as_text=True)
    served = resident.get(f"/maple/media/{image}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Content-Disposition"] == "inline"
    found = text_of(resident.get("/maple/docs/?q=维修费用"))
    assert "保洁服务合同" in found and "第 2 页" in found
    assert "没有找到" in text_of(resident.get("/maple/docs/?q=停车位"))
    assert "服务合同" in text_of(resident.get("/maple/docs/"))


def test_hostile_uploads_are_refused_next_to_the_field_and_nothing_is_saved(committee_client, compound):
    document = new_document(committee_client)
    before = counts()
    for name, data, sentence in [("a.pdf", javascript_pdf(), "这个PDF含有脚本，出于安全不能上传"),
                                 ("b.pdf", many_pages_pdf(), "这个PDF有 10000 页，超过了 200 页的上限"),
                                 ("c.pdf", not_a_pdf(), "这个文件不是PDF"),
                                 ("d.jpg", not_a_pdf(), "这个文件不是能打开的图片")]:
        # A good photo before the bad file: the photo's page is not kept either.
        response = upload(committee_client, document, [("p1.jpg", jpeg_photo()), (name, data)])
        assert response.status_code == 400
        assert sentence in text_of(response)
        assert counts() == before


def test_photos_from_a_phone_are_pages_without_text(committee_client, client, compound):
    document = new_document(committee_client, doc_kind="minutes", title="第五次委员会会议纪要")
    version = posted(committee_client, document, files=[("1.jpg", jpeg_photo()), ("2.jpg", jpeg_photo((200,) * 3))])
    assert [p.text for p in version.pages] == ["", ""]
    assert "没有可以朗读的文字" in text_of(client.get(f"/maple/docs/{document.id}"))


def test_posting_shorter_than_the_profile_is_refused_with_its_source(committee_client, compound):
    document = new_document(committee_client)
    response = upload(committee_client, document, [("a.pdf", text_pdf())], days=14)
    assert response.status_code == 400
    assert "公示不少于15日" in text_of(response) and "请核对原文" in text_of(response)
    audit = new_document(committee_client, doc_kind="audit", title="2025年度审计报告", auditor="明镜会计师事务所",
                         covers_from="2025-01-01", covers_until="2025-12-31")
    response = upload(committee_client, audit, [("a.pdf", text_pdf())], days=29)
    assert "公示不少于30日" in text_of(response)
    assert upload(committee_client, audit, [("a.pdf", text_pdf())], days=30).status_code == 302


def test_an_audit_report_needs_its_auditor_and_what_it_covers(committee_client, compound):
    response = post_form(committee_client, f"{ADMIN}/new", {"doc_kind": "audit", "title": "审计报告", "auditor": ""},
                         token_from=f"{ADMIN}/new")
    assert response.status_code == 400 and "审计报告要写明审计机构" in text_of(response)
    response = post_form(committee_client, f"{ADMIN}/new", {"doc_kind": "audit", "title": "审计报告", "auditor": "某所"},
                         token_from=f"{ADMIN}/new")
    assert "审计报告要写明审计期间" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_the_statute_names_the_owners_vote_that_adopted_it(committee_client, client, compound, chair):
    document = new_document(committee_client, doc_kind="statute", title="枫树小区管理规约")
    response = upload(committee_client, document, [("a.pdf", text_pdf())])
    assert response.status_code == 400 and "请选择通过它的表决议题" in text_of(response)
    topic = decided_topic(compound, chair)
    db.session.commit()
    posted(committee_client, document, topic=topic)
    assert "通过它的决定：修订管理规约" in text_of(client.get(f"/maple/docs/{document.id}"))


def test_a_new_version_supersedes_and_the_old_one_stays_as_history(committee_client, client, compound):
    document = new_document(committee_client)
    first = posted(committee_client, document, files=[("a.pdf", text_pdf([["旧条款：每月保洁两次"]]))])
    second = posted(committee_client, document, files=[("b.pdf", text_pdf([["新条款：每周保洁一次"]]))])
    page = text_of(client.get(f"/maple/docs/{document.id}"))
    assert "新条款" in page and "历史版本" in page and "第 1 版" in page
    old = text_of(client.get(f"/maple/docs/{document.id}/v/{first.id}"))
    assert "旧条款" in old and "这是历史版本，已被第 2 版取代" in old
    # Search finds the words of the current version only.
    assert "保洁服务合同" in text_of(client.get("/maple/docs/?q=每周保洁"))
    assert "没有找到" in text_of(client.get("/maple/docs/?q=每月保洁"))
    assert second.number == 2


def test_an_ended_posting_stays_readable_as_history(committee_client, client, compound, app):
    document = new_document(committee_client)
    version = posted(committee_client, document)
    version.posted_from, version.posted_until = local_date() - timedelta(days=40), local_date() - timedelta(days=20)
    db.session.commit()
    assert "已结束" in text_of(client.get(f"/maple/docs/{document.id}"))
    status = service.posting_status(compound)
    assert [d.title for d, _v in status["ended"]] == ["保洁服务合同"] and status["running"] == []
    assert status["overdue"] == ["statute", "rules"]


def test_audit_reports_cover_ledger_periods_and_reach_the_lobby_screen(committee_client, compound, app):
    from kiosk.screen.registry import provider

    audit = new_document(committee_client, doc_kind="audit", title="2025年度财务审计报告", auditor="明镜会计师事务所",
                         covers_from="2025-01-01", covers_until="2025-12-31")
    version = posted(committee_client, audit, days=30)
    assert service.audits_covering(compound, date(2025, 6, 1), date(2025, 6, 30)) == [(audit, version)]
    assert service.audits_covering(compound, date(2026, 1, 1), date(2026, 3, 31)) == []
    slides = provider("documents").slides(compound, None)
    assert [s.title for s in slides] == ["2025年度财务审计报告"]
    with app.test_request_context("/maple/"):
        from flask import g, render_template
        g.compound = compound
        face = render_template("documents/_slide.html", slide=slides[0])
    until = version.posted_until
    assert "明镜会计师事务所" in face and f"公示至 {until.year}年{until.month}月{until.day}日" in face
    assert "/maple/media/" in face


def test_a_contract_lists_the_ledger_entries_paid_under_it(committee_client, client, compound, chair):
    from kiosk.ledger import service as ledger

    ledger.open_book(compound, started_on=date(2026, 1, 1))
    entry = _posted_entry(compound, chair)
    document = new_document(committee_client)
    posted(committee_client, document)
    response = post_form(committee_client, f"{ADMIN}/{document.id}/entries", {"ledger_entry": str(entry.id)},
                         token_from=f"{ADMIN}/{document.id}")
    assert response.status_code == 302
    again = post_form(committee_client, f"{ADMIN}/{document.id}/entries", {"ledger_entry": str(entry.id)},
                      token_from=f"{ADMIN}/{document.id}")
    assert again.status_code == 400 and "这笔账目已经关联过了" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(EntryLink)) == 1
    assert f"#{entry.number} 2026年1月10日 1 月保洁费 ¥1,000.00" in text_of(client.get(f"/maple/docs/{document.id}"))


def _posted_entry(compound, author):
    from kiosk.ledger import service as ledger
    from kiosk.ledger.models import Category

    category = db.session.scalar(select(Category).where(Category.compound_id == compound.id,
                                                        Category.kind == "expense").limit(1))
    entry = ledger.save_draft(compound, author, None, {
        "kind": "expense", "occurred_on": date(2026, 1, 10), "category_id": category.id, "amount_fen": 100000,
        "description": "1 月保洁费"})
    ledger.post(compound, author, entry)
    db.session.commit()
    return entry


def test_the_seal_log_keeps_every_line_and_a_correction_voids_one(committee_client, client, compound):
    data = {"used_on": local_date().isoformat(), "sealed": "电梯维保合同", "purpose": "与维保公司签约",
            "approved_by": "meeting", "topic_id": "0"}
    assert post_form(committee_client, f"{ADMIN}/seal", data).status_code == 302
    line = db.session.scalar(select(SealUse))
    correction = dict(data, purpose="与维保公司续签", reason="用途写错了")
    page = text_of(committee_client.get(f"{ADMIN}/seal?correct={line.id}"))
    assert "更正第 1 行：写上正确的内容和原因" in page
    response = post_form(committee_client, f"{ADMIN}/seal/{line.id}/void", correction, token_from=f"{ADMIN}/seal")
    assert response.status_code == 302
    public = text_of(client.get("/maple/docs/seal"))
    assert "与维保公司签约 （已作废）" in public and "与维保公司续签 更正第 1 行。原因：用途写错了" in public
    assert "委员会会议决定" in public
    assert db.session.scalar(select(func.count()).select_from(SealUse)) == 2
    # A voided line is voided once; nothing is ever deleted.
    again = post_form(committee_client, f"{ADMIN}/seal/{line.id}/void", dict(correction, reason="再作废"),
                      token_from=f"{ADMIN}/seal")
    assert again.status_code == 400 and "这一行已经更正过了" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(SealUse)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.area == "documents")) == 2


def test_the_library_index_exports_as_csv(committee_client, compound):
    document = new_document(committee_client)
    posted(committee_client, document)
    response = committee_client.get(f"{ADMIN}/export.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert text.splitlines()[0] == "标题,类别,版本,公示开始,公示截止,通过它的决定,状态"
    assert f"保洁服务合同,服务合同,1,{local_date().isoformat()}" in text


def test_supervisors_read_but_do_not_upload(client, compound, make_user):
    from kiosk.auth.models import Role

    login_as(client, make_user("watcher", compound, Role.supervisor))
    assert client.get(f"{ADMIN}/").status_code == 200
    assert "新建文件" not in text_of(client.get(f"{ADMIN}/"))
    assert post_form(client, f"{ADMIN}/new", {"doc_kind": "other", "title": "x"}, token_from=f"{ADMIN}/").status_code == 403


def test_the_ledger_period_and_district_partials_show_audits_and_posting(committee_client, compound, app):
    """What the lead includes in the ledger's period page and the district view: the audit covering a period, and a
    compound's posting status (the standing kinds it lacks)."""
    from types import SimpleNamespace

    from flask import g, render_template_string

    audit = new_document(committee_client, doc_kind="audit", title="2025年度财务审计报告", auditor="明镜会计师事务所",
                         covers_from="2025-01-01", covers_until="2025-12-31")
    posted(committee_client, audit, days=30)
    with app.test_request_context("/maple/"):
        g.compound = compound
        june = SimpleNamespace(starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 30))
        march = SimpleNamespace(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31))
        shown = render_template_string('{% include "documents/_audits_for_period.html" %}', period=june)
        assert "2025年度财务审计报告" in shown and "明镜会计师事务所" in shown and f"/maple/docs/{audit.id}" in shown
        assert render_template_string('{% include "documents/_audits_for_period.html" %}', period=march).strip() == ""
        cell = render_template_string('<table><tr>{% include "documents/_district_cell.html" %}</tr></table>',
                                      compound=compound)
    assert "缺：管理规约、议事规则" in cell and "公示中 1 份" in cell


def test_the_street_office_sees_which_compounds_lack_standing_documents(client, compound, chair, make_user,
                                                                      make_compound):
    """The district page: a compound with its 管理规约 posted lacks only its 议事规则; one with nothing lacks both."""
    from kiosk.documents import textpdf

    make_compound("oak", "橡树小区")
    topic = decided_topic(compound, chair)
    statute = service.create_document(compound, chair, "statute", "枫叶小区管理规约")
    service.publish(compound, chair, service.add_version(
        compound, chair, statute, [("a.pdf", textpdf.build([["规约"]]))], local_date(),
        local_date() + timedelta(days=14), topic.id))
    db.session.commit()
    login_as(client, make_user("staff", platform_admin=True))
    rows = {row.find("a").get_text(): " ".join(row.get_text(" ").split())
            for row in BeautifulSoup(client.get("/admin/platform/documents/").get_data(as_text=True),
                                     "html.parser").select("tbody tr")}
    assert "缺：议事规则" in rows["枫叶小区"] and "公示中 1 份" in rows["枫叶小区"]
    assert "缺：管理规约、议事规则" in rows["橡树小区"]
