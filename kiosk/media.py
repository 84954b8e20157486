"""Serving uploaded images: public when an area says residents may see the image (a visible notice's, the
committee roster's photo, a public receipt of a posted entry), else to the committee only."""
from flask import Blueprint, abort, g, send_from_directory
from flask_login import current_user
from sqlalchemy import select

from . import areas
from .compounds.context import bind_compound
from .extensions import db
from .uploads import Image, upload_dir

POINT = "public_images"

bp = bind_compound(Blueprint("media", __name__, url_prefix="/<compound>/media"))


def register_public_images(app, area, is_public):
    """An area's check whether residents may see a stored image: is_public(image) -> bool (from its init_app)."""
    areas.register(app, POINT, area, is_public)


def _visible_to_public(image):
    return any(is_public(image) for is_public in areas.registered(POINT).values())


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
