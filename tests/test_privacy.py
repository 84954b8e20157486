"""No resident's name or phone number appears on any public page, screen, posted export or QR payload.

The demo's roll has a private contact for almost every household. This test loads the demo, walks every
public GET route of the URL map (filling each parameter from the demo's own rows) and looks for any of
those names and numbers in what comes back.
"""
import io
import re
import zipfile

import pytest
from flask import url_for
from sqlalchemy import select

from kiosk.auth.models import User
from kiosk.compounds.models import Compound
from kiosk.database import utcnow
from kiosk.demo import load_demo
from kiosk.extensions import db
from kiosk.consult.models import Topic
from kiosk.distribution.models import DistributionEvent
from kiosk.households.models import Household
from kiosk.roster.models import RosterMember
from kiosk.ledger.models import Entry, Period
from kiosk.notices.models import Notice
from kiosk.screen import registry
from kiosk.screen.models import Screen
from kiosk.uploads import Image

PRIVATE_PREFIXES = ("/admin", "/static", "/lang/", "/large/")


def personal_data():
    """Every household contact name and phone of the demo, minus names that are public for other reasons."""
    public_names = set(db.session.scalars(select(RosterMember.name))) | set(db.session.scalars(
        select(User.display_name)))
    names, phones = set(), set()
    # People paid by the compound (an electrician, a cleaner) are named only to the committee.
    for entry in db.session.scalars(select(Entry).where(Entry.counterparty_is_person.is_(True))):
        names.add(entry.counterparty)
    for h in db.session.scalars(select(Household)):
        if h.contact_name and h.contact_name not in public_names:
            names.add(h.contact_name)
        if h.contact_phone:
            phones.add(h.contact_phone)
    assert len(names) > 100 and len(phones) > 100, "the demo should have a realistic roll to scan"
    return names, phones


def values_for(argument, slug, card_token):
    """The demo's own values for a URL parameter."""
    if argument == "compound":
        return [slug]
    if argument == "notice_id":
        return [n.id for n in db.session.scalars(select(Notice))]
    if argument == "key":
        return [s.key for s in db.session.scalars(select(Screen))]
    if argument == "event_id":
        return [e.id for e in db.session.scalars(select(DistributionEvent))]
    if argument == "token":
        return [card_token]
    if argument == "name":
        return [i.filename for i in db.session.scalars(select(Image))]
    if argument == "target":
        return ["n/1", ""]
    if argument == "area":
        return [p.area for p in registry.providers()]
    if argument == "topic_id":
        return [t.id for t in db.session.scalars(select(Topic))]
    if argument == "period_id":
        return [p.id for p in db.session.scalars(select(Period))]
    if argument == "building":  # the maintenance fund's building statements (issue 15)
        return sorted({h.building for h in db.session.scalars(select(Household))})
    if argument == "number":
        return [n for n in db.session.scalars(select(Entry.number).where(Entry.posted.is_(True)))]
    if argument in ("document_id", "version_id"):  # the library's documents and versions, drafts too (then 404)
        from kiosk.documents.models import Document, Version

        model = Document if argument == "document_id" else Version
        return [row.id for row in db.session.scalars(select(model))]
    if argument == "file_path":  # open data (issue 17): every file of the compound's archive
        from kiosk.opendata import build

        compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
        return [f.path for f in build.compound_files(compound)]
    raise AssertionError(f"privacy scan does not know how to fill <{argument}>: teach values_for()")


def public_urls(app, slug, card_token):
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(PRIVATE_PREFIXES):
            continue
        arguments = sorted(rule.arguments)
        if "item_id" in arguments:  # a slide's detail: every slide the registry has
            compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
            with app.test_request_context():
                slides = [s for p in registry.providers() for s in p.slides(compound, utcnow())]
            for key in values_for("key", slug, card_token):
                for slide in slides:
                    urls.add(f"/{slug}/screen/{key}/item/{slide.area}/{slide.item_id}")
            continue
        combos = [{}]
        for argument in arguments:
            combos = [{**c, argument: v} for c in combos for v in values_for(argument, slug, card_token)]
        for combo in combos:
            with app.test_request_context():
                urls.add(url_for(rule.endpoint, **combo))
    return sorted(urls)


@pytest.mark.sqlite_only  # the demo loads the same rows on both engines; one scan is enough for the rule
def test_no_personal_data_on_any_public_route(app, client):
    summary = load_demo()
    names, phones = personal_data()
    urls = public_urls(app, summary["slug"], summary["card_token"])
    assert len(urls) > 10
    leaks = []
    for url in urls:
        response = client.get(url, follow_redirects=True, headers={"Accept-Encoding": "identity"})
        if response.mimetype in ("image/jpeg", "image/png"):  # page images are pictures; their text is on the pages
            continue
        if response.mimetype == "application/zip":  # open data (issue 17): what the archive's files say
            with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
                body = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
            assert body
        else:
            body = response.get_data(as_text=True)
        for value in names | phones:
            if value in body:
                leaks.append(f"{url}: {value}")
        # A QR payload is an absolute URL of this site and nothing else.
        for payload in re.findall(r"<title>(.*?)</title>", body):
            assert not any(v in payload for v in names | phones)
    assert leaks == []
