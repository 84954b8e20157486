"""The work behind the platform pages: a new compound and its first chair (optionally starting from a model
compound's setup), audited in the new compound."""
from ..auth.accounts import create_account
from ..auth.models import Membership, Role
from ..changes import record_change
from ..compounds.models import Compound
from ..consult.procedure import PROFILES
from ..extensions import db
from ..notices.template_service import add_defaults
from . import AREA
from .copying import copy_setup


def create_compound(actor, name, slug, community, district, admin_name, admin_username, password,
                    procedure_profile="national", model=None):
    """Create a compound and its first chair account, copying `model`'s setup when given (its procedure profile
    then, unless `procedure_profile` names one), and the default notice templates it lacks; the caller commits,
    so the compound and its copy are one transaction."""
    compound = Compound(name=name, slug=slug, community=community, district=district,
                        procedure_profile=procedure_profile or "national")
    db.session.add(compound)
    chair = create_account(admin_username, admin_name, password)
    db.session.add(Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair))
    copied = copy_setup(actor, model, compound) if model is not None else None
    if copied is not None and procedure_profile:
        compound.procedure_profile = copied["procedure_profile"] = procedure_profile
    defaults = add_defaults(compound)
    record_change(compound, actor, AREA, "create", compound, None,
                  {"slug": slug, "name": name, "chair": admin_username,
                   "procedure_profile": compound.procedure_profile})
    if copied is not None:
        record_change(compound, actor, AREA, "copy_setup", model, None, dict(copied, default_templates=defaults))
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
