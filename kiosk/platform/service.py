"""The work behind the platform pages: a new compound and its first chair, audited in the new compound."""
from ..auth.accounts import create_account
from ..auth.models import Membership, Role
from ..changes import record_change
from ..compounds.models import Compound
from ..consult.procedure import PROFILES
from ..extensions import db
from . import AREA


def create_compound(actor, name, slug, community, district, admin_name, admin_username, password,
                    procedure_profile="national"):
    """Create a compound and its first chair account; the caller commits."""
    compound = Compound(name=name, slug=slug, community=community, district=district,
                        procedure_profile=procedure_profile)
    db.session.add(compound)
    chair = create_account(admin_username, admin_name, password)
    db.session.add(Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair))
    record_change(compound, actor, AREA, "create", compound, None,
                  {"slug": slug, "name": name, "chair": admin_username, "procedure_profile": procedure_profile})
    return compound, chair


def set_procedure_profile(actor, compound, key):
    """Change the procedure profile a compound follows, audited in the compound; the caller commits. Unknown keys
    are refused by the form's choices; a key equal to the current one changes nothing and records nothing."""
    if key not in PROFILES:
        raise ValueError(key)
    if compound.procedure_profile == key:
        return False
    before = {"procedure_profile": compound.procedure_profile}
    compound.procedure_profile = key
    record_change(compound, actor, AREA, "procedure", compound, before, {"procedure_profile": key})
    return True
