"""Serving uploaded images: public when a visible notice or the committee roster shows them, else to the committee."""
from flask import Blueprint, abort, g, send_from_directory
from flask_login import current_user
from sqlalchemy import select

from .compounds.context import bind_compound
from .extensions import db
from .households.models import RosterMember
from .notices.models import Notice
from .uploads import Image, upload_dir

bp = bind_compound(Blueprint("media", __name__, url_prefix="/<compound>/media"))


def _visible_to_public(image):
    # A receipt photo is public once it is marked public and its entry is posted.
    from .ledger.models import Entry, Receipt
    if db.session.scalar(select(Receipt.id).join(Entry, Entry.id == Receipt.entry_id).where(
            Receipt.image_id == image.id, Receipt.public.is_(True), Entry.posted.is_(True)).limit(1)) is not None:
        return True
    notices = db.session.scalars(select(Notice).where(Notice.image_id == image.id)).all()
    if any(n.is_public() for n in notices):
        return True
    # The committee roster, past terms included, is public: so are its members' photos.
    return db.session.scalar(select(RosterMember.id).where(
        RosterMember.photo_id == image.id, RosterMember.compound_id == image.compound_id).limit(1)) is not None


def _visible_to_committee():
    if not current_user.is_authenticated:
        return False
    return current_user.is_platform_admin or current_user.role_in(g.compound) is not None


@bp.route("/<name>")
def image(name):
    """Send a stored image if whoever asks may see it; otherwise 404."""
    img = db.session.scalar(select(Image).where(Image.filename == name, Image.compound_id == g.compound.id))
    public = img is not None and _visible_to_public(img)
    if img is None or not (public or _visible_to_committee()):
        abort(404)
    response = send_from_directory(upload_dir(), img.filename, mimetype=img.content_type,
                                   max_age=3600 if public else None)
    if not public:
        # A draft's image, shown to the committee only: no shared cache may keep it for residents.
        response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
