"""Uploaded images: checked with Pillow, re-encoded without metadata, stored outside static/."""
import io
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image as PILImage, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class ImageRejected(ValueError):
    """An upload that is not an image we accept; the message is for the person who sent it."""


class Image(db.Model):
    """A stored, re-encoded image belonging to one compound."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(30))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def upload_dir():
    """Return the folder uploads are written to (created if missing)."""
    configured = current_app.config.get("UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def reencode(data, max_pixels, max_side):
    """Return (bytes, content_type, width, height) of a clean copy of an uploaded image, or raise ImageRejected."""
    from flask_babel import gettext as _

    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise ImageRejected(_("只接受 JPEG、PNG、WebP 或 GIF 图片。"))
                if probe.width * probe.height > max_pixels:
                    raise ImageRejected(_("图片像素太多，请缩小后再传。"))
                probe.verify()
            with PILImage.open(io.BytesIO(data)) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
        except ImageRejected:
            raise
        except (UnidentifiedImageError, PILImage.DecompressionBombError, PILImage.DecompressionBombWarning,
                OSError, SyntaxError, ValueError):
            raise ImageRejected(_("这个文件不是能打开的图片，请换一张。")) from None
    img.thumbnail((max_side, max_side))
    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    out = io.BytesIO()
    if has_alpha:
        img.convert("RGBA").save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        content_type = "image/jpeg"
    return out.getvalue(), content_type, img.width, img.height


def save_image(file_storage, compound, uploader):
    """Check, re-encode and store an uploaded file; return the new Image (added, not committed)."""
    cfg = current_app.config
    data, content_type, width, height = reencode(file_storage.read(), cfg["IMAGE_MAX_PIXELS"], cfg["IMAGE_MAX_SIDE"])
    name = secrets.token_hex(16) + (".png" if content_type == "image/png" else ".jpg")
    folder = upload_dir()
    tmp = folder / (name + ".part")
    tmp.write_bytes(data)
    tmp.replace(folder / name)
    image = Image(compound_id=compound.id, filename=name, content_type=content_type,
                  width=width, height=height, size=len(data), uploader_id=uploader.id if uploader else None)
    db.session.add(image)
    return image


KEEP = object()  # image_choice(): the form neither uploaded nor removed an image


def image_choice(upload_field, remove_field, compound, uploader):
    """Return what an optional image field asks for: a new stored Image, None (remove it), or KEEP.

    Raises ImageRejected (with a message for the person) when the upload is not an acceptable image.
    """
    upload = upload_field.data
    if upload and getattr(upload, "filename", ""):
        return save_image(upload, compound, uploader)
    return None if remove_field.data else KEEP
