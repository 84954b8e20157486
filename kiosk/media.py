"""Serving uploaded images: public when a visible notice shows them, else to the compound's committee."""
from flask import Blueprint, abort, g, send_from_directory
from flask_login import current_user
from sqlalchemy import select

from .compounds.context import bind_compound
from .extensions import db
from .notices.models import Notice
from .uploads import Image, upload_dir

bp = bind_compound(Blueprint("media", __name__, url_prefix="/<compound>/media"))


def _visible_to_public(image):
    notices = db.session.scalars(select(Notice).where(Notice.image_id == image.id)).all()
    return any(n.is_public() for n in notices)


def _visible_to_committee():
    if not current_user.is_authenticated:
        return False
    return current_user.is_platform_admin or current_user.role_in(g.compound) is not None


@bp.route("/<name>")
def image(name):
    """Send a stored image if whoever asks may see it; otherwise 404."""
    img = db.session.scalar(select(Image).where(Image.filename == name, Image.compound_id == g.compound.id))
    if img is None or not (_visible_to_public(img) or _visible_to_committee()):
        abort(404)
    response = send_from_directory(upload_dir(), img.filename, mimetype=img.content_type, max_age=3600)
    response.headers["Content-Disposition"] = "inline"
    return response
