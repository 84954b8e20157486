"""The notices area's slides on the lobby screen: urgent first, then pinned, then the rest."""
import re
from html import unescape as html_unescape

import nh3
from sqlalchemy import select

from ..extensions import db
from ..screen.models import split_buildings
from ..screen.registry import Slide
from ..templating import render_markdown
from . import AREA
from .models import Notice, public_notices
EXCERPT = 220


BLOCK_END = re.compile(r"</(p|li|h[1-6]|tr|blockquote)>|<br\s*/?>")


def plain_text(markdown):
    """The words of a notice without markup, one line per paragraph or list item."""
    html = BLOCK_END.sub("\n", str(render_markdown(markdown)))
    lines = (line.strip() for line in html_unescape(nh3.clean(html, tags=set())).splitlines())
    return "\n".join(line for line in lines if line)


def _slide(notice):
    text = plain_text(notice.body)
    excerpt = text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + "…"
    return Slide(area=AREA, item_id=str(notice.id), title=notice.title, template="notices/_slide.html",
                 phone_path=f"n/{notice.id}", context={"notice": notice, "excerpt": excerpt},
                 urgent=notice.urgent, buildings=tuple(split_buildings(notice.buildings)))


def slides(compound, now):
    """Return the compound's current notices as slides."""
    return [_slide(n) for n in db.session.scalars(public_notices(compound, now=now))]


def detail(compound, item_id):
    """Return one current notice as a slide for the full-screen view, or None."""
    if not item_id.isdigit():
        return None
    notice = db.session.scalar(select(Notice).where(Notice.id == int(item_id), Notice.compound_id == compound.id))
    if notice is None or not notice.is_public():
        return None
    return _slide(notice)
