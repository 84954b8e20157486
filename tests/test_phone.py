"""Residents' phone pages: large type that persists, read-aloud where available, no JavaScript needed."""
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status


def test_large_type_toggle_persists_across_pages(client, compound):
    notice = Notice(compound_id=compound.id, title="大字通知", body="正文", category="notice",
                    status=Status.published, published_at=utcnow())
    db.session.add(notice)
    db.session.commit()
    assert 'class="phone large"' not in client.get("/maple/").get_data(as_text=True)
    response = client.get("/large/on?next=/maple/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/maple/")
    assert 'class="phone large"' in client.get("/maple/").get_data(as_text=True)
    assert 'class="phone large"' in client.get(f"/maple/n/{notice.id}").get_data(as_text=True)
    assert "标准字号" in client.get("/maple/").get_data(as_text=True)
    client.get("/large/off?next=/maple/")
    assert 'class="phone large"' not in client.get("/maple/").get_data(as_text=True)


def test_large_type_toggle_never_redirects_off_site(client, compound):
    response = client.get("/large/on?next=//evil.example/")
    assert "evil.example" not in response.headers["Location"]


def test_notice_page_offers_read_aloud_button_hidden_until_a_voice_exists(client, compound):
    notice = Notice(compound_id=compound.id, title="朗读通知", body="请注意。", category="notice",
                    status=Status.published, published_at=utcnow())
    db.session.add(notice)
    db.session.commit()
    html = client.get(f"/maple/n/{notice.id}").get_data(as_text=True)
    assert f'data-speak="#notice-text-{notice.id}" hidden' in html
    assert "js/kiosk.js" in html
