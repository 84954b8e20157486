"""The work behind the platform pages: a new compound and its first chair, audited in the new compound."""
from ..auth.accounts import create_account
from ..auth.models import Membership, Role
from ..changes import record_change
from ..compounds.models import Compound
from ..extensions import db
from . import AREA


def create_compound(actor, name, slug, community, district, admin_name, admin_username, password):
    """Create a compound and its first chair account; the caller commits."""
    compound = Compound(name=name, slug=slug, community=community, district=district)
    db.session.add(compound)
    chair = create_account(admin_username, admin_name, password)
    db.session.add(Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair))
    record_change(compound, actor, AREA, "create", compound, None,
                  {"slug": slug, "name": name, "chair": admin_username})
    return compound, chair
