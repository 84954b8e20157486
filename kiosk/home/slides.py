"""The compound's own slide at the end of the loop: how to follow everything on a phone."""
from ..screen.registry import Slide
from . import AREA


def _slide(compound):
    return Slide(area=AREA, item_id="home", title=compound.name, template="compounds/_slide.html",
                 phone_path="", context={"compound": compound})


def slides(compound, now):
    """One slide: the compound's phone home."""
    return [_slide(compound)]


def detail(compound, item_id):
    """The same slide, full screen."""
    return _slide(compound) if item_id == "home" else None
