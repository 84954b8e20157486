"""The committee's consultation forms: a topic, a paper ballot, hiding an opinion, the resolution, follow-through,
and the answer to a resident's proposal."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..database import utcnow
from ..timefmt import from_local_naive
from .models import KIND_LABELS, VISIBILITY_LABELS, Kind, ProposalStatus
from .tally import CHOOSING, RULES, Rule

MAX_OPTIONS = 50
OPTION_LENGTH = 80


def option_lines(text):
    """The options typed one per line: blank lines dropped, spaces trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class WordingForm(FlaskForm):
    """A topic's wording: the title and the background (fixed once the topic is published)."""

    title = StringField(_l("议题"), validators=[
        DataRequired(_l("请填写议题。")), Length(max=120, message=_l("议题最多 120 个字。"))],
        description=_l("例如：是否同意把东侧空地改建为停车位并收取停车费"))
    background = TextAreaField(_l("背景说明"), validators=[Length(max=20000, message=_l("背景说明太长了。"))],
                               description=_l("为什么要议、有哪些方案、花多少钱。可以用 Markdown：空一行分段，"
                                              "行首加“- ”成列表。"),
                               render_kw={"rows": 8})


# --- whose vote it is (issue 14: electorate scope and verified cards); kept apart from the procedure fields ---

SCOPE_KINDS = (("all", _l("全体业主")), ("building", _l("一栋楼的业主")), ("unit", _l("一个单元的业主")),
               ("buildings", _l("几栋楼的业主（例如两栋楼共用的电梯）")))


class ElectorateFields:
    """Who votes on a topic: the whole compound, one building, one 单元 or chosen buildings (choices come from
    the roll, see set_places), and whether statutory ballots need a card verified in person."""

    scope = RadioField(_l("由谁表决"), choices=[SelectChoice(v, label) for v, label in SCOPE_KINDS], default="all",
                       description=_l("只涉及一栋楼或一个单元的共有部分（电梯、屋顶、外墙）时，由这部分业主表决，"
                                      "参与和通过的比例都按这部分的户数和面积计算。发布时按住户名册确定名单，之后不变。"))
    scope_building = SelectField(_l("哪一栋"), choices=[], validate_choice=False)
    scope_unit = SelectField(_l("哪一个单元"), choices=[], validate_choice=False)
    scope_buildings = SelectMultipleField(_l("哪几栋"), choices=[], validate_choice=False)
    require_verified = BooleanField(_l("法定表决只收当面核验过的住户卡"), description=_l(
        "勾选后，按双过半、双四分之三表决时，只有当面核验过身份证和房产证、发给业主本人的住户卡才能投票；"
        "投入信箱等方式发的卡可以看、可以发表意见，投票时会被告知去哪里核验。意见征集和协商一致不受影响。"
        "小区已有核验过的卡时，新议题默认勾选。租户持有的卡只能参加意见征集，不能参加法定表决和协商一致。"))

    def set_places(self, places):
        """Offer the roll's buildings and 单元: places is [(building, [entrance, ...])]."""
        buildings = [(b, _l("%(b)s栋", b=b)) for b, _entrances in places]
        self.scope_building.choices = buildings
        self.scope_buildings.choices = buildings
        self.scope_unit.choices = [(f"{b}|{e}", _l("%(b)s栋%(e)s单元", b=b, e=e)) for b, entrances in places
                                   for e in entrances]
        self._places = places

    def _places_dict(self):
        return dict(getattr(self, "_places", []))

    def validate_scope_building(self, field):
        """One building: it must be on the roll."""
        if self.scope.data == "building" and field.data not in self._places_dict():
            raise ValidationError(_l("请选择一栋楼。"))

    def validate_scope_unit(self, field):
        """One 单元: it must be on the roll."""
        if self.scope.data == "unit":
            building, _sep, entrance = (field.data or "").partition("|")
            if not entrance or entrance not in self._places_dict().get(building, ()):
                raise ValidationError(_l("请选择一个单元。"))

    def validate_scope_buildings(self, field):
        """Chosen buildings: two or more, all on the roll."""
        if self.scope.data == "buildings":
            chosen = field.data or []
            if len(chosen) < 2 or any(b not in self._places_dict() for b in chosen):
                raise ValidationError(_l("请至少勾选两栋；只有一栋请选“一栋楼的业主”。"))

    def electorate(self):
        """The topic's scope fields from the validated form."""
        kind = self.scope.data
        if kind == "building":
            return {"scope_buildings": [self.scope_building.data], "scope_entrance": ""}
        if kind == "unit":
            building, _sep, entrance = self.scope_unit.data.partition("|")
            return {"scope_buildings": [building], "scope_entrance": entrance}
        if kind == "buildings":
            chosen = set(self.scope_buildings.data)
            return {"scope_buildings": [b for b, _e in self._places if b in chosen], "scope_entrance": ""}
        return {"scope_buildings": None, "scope_entrance": ""}

    def show_electorate(self, topic):
        """Fill the scope fields from a saved topic."""
        scope = topic.scope
        if scope is None:
            self.scope.data = "all"
        elif scope[1]:
            self.scope.data, self.scope_unit.data = "unit", f"{scope[0][0]}|{scope[1]}"
        elif len(scope[0]) == 1:
            self.scope.data, self.scope_building.data = "building", scope[0][0]
        else:
            self.scope.data, self.scope_buildings.data = "buildings", list(scope[0])
        self.require_verified.data = bool(topic.require_verified)


class TopicForm(ElectorateFields, WordingForm):
    """A draft topic in full: the question, its options, the decision rule and the voting window."""

    kind = RadioField(_l("表决方式"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
                      default=Kind.yesno.value, validators=[InputRequired(_l("请选择表决方式。"))])
    rule = RadioField(_l("通过规则"), choices=[SelectChoice(r.value, _l(spec.label)) for r, spec in RULES.items()],
                      default=Rule.ordinary.value, validators=[InputRequired(_l("请选择通过规则。"))],
                      description=_l(CHOOSING))
    seats = IntegerField(_l("最多选几项 / 应选名额"), default=1, validators=[
        InputRequired(_l("请填写一个数字。")), NumberRange(min=1, max=MAX_OPTIONS, message=_l("请填 1 到 50 之间的数。"))],
        description=_l("多选：每户最多选几项；选举：选出几人（例如 5 名自治委员）。同意/不同意/弃权和单选不用填。"),
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_OPTIONS})
    options = TextAreaField(_l("选项或候选人"), description=_l("每行一个。同意/不同意/弃权的议题不用填。"),
                            render_kw={"rows": 6})
    secret = BooleanField(_l("无记名投票（委员会只看到谁投了，看不到投了什么）"), default=True,
                          description=_l("无记名投票时，为了不让任何人从数字的变化推算出某一户投了什么，投票期间居民、"
                                         "大屏和委员会看到的数字都只是分批更新（更新间隔和每批户数见下），各选项只公布"
                                         "户数；各选项的面积、业主人数和是否通过，截止后公布。委员会的投票名单按地址排列，"
                                         "只显示投没投，不显示时间和方式。记名投票则随投随显。"))
    visibility = RadioField(_l("结果什么时候公开"),
                            choices=[SelectChoice(v.value, label) for v, label in VISIBILITY_LABELS.items()],
                            default="live", validators=[InputRequired(_l("请选择结果什么时候公开。"))])
    allow_change = BooleanField(_l("截止前允许改票（以最后一次为准）"), default=True)
    opens_at = DateTimeLocalField(_l("开始投票"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired(_l("请填写开始投票的时间。"))],
                                  description=_l("发布后到开始投票之前是讨论期，居民可以发表看法。"))
    closes_at = DateTimeLocalField(_l("投票截止"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(_l("请填写投票截止的时间。"))])

    # Procedure profile (consult/procedure.py): which notice period applies; the service checks the figures.
    extraordinary = BooleanField(_l("临时会议"), default=False,
                                 description=_l("业主大会临时会议的通知期较短（见本小区议事规则）。只对法定表决事项有效；"
                                                "意见征集和协商一致的议题不受法定通知期限制。"))

    def validate_rule(self, field):
        """Some rules (consensus, the special statutory one) decide a yes/no question only."""
        spec = RULES.get(field.data)
        if self.kind.data != Kind.yesno and spec is not None and spec.yes_no_only:
            raise ValidationError(_l(spec.yes_no_only))

    def validate_options(self, field):
        """Single and multiple choice need two options or more; an election at least as many candidates as seats."""
        if self.kind.data == Kind.yesno:
            return
        lines = option_lines(field.data)
        if len(set(lines)) != len(lines):
            raise ValidationError(_l("有重复的选项，请删掉重复的一行。"))
        if any(len(line) > OPTION_LENGTH for line in lines):
            raise ValidationError(_l("每个选项最多 80 个字。"))
        if len(lines) > MAX_OPTIONS:
            raise ValidationError(_l("最多 50 个选项。"))
        if self.kind.data in (Kind.single, Kind.multi) and len(lines) < 2:
            raise ValidationError(_l("至少要有两个选项，每行一个。"))
        seats = self.seats.data if isinstance(self.seats.data, int) else 1
        if self.kind.data == Kind.election and len(lines) < max(seats, 1):
            raise ValidationError(_l("候选人（%(n)s 人）不能少于应选名额（%(seats)s 名）。", n=len(lines),
                                     seats=seats))

    def validate_seats(self, field):
        """Multiple choice can't allow more choices than there are options."""
        options = len(option_lines(self.options.data))
        if self.kind.data == Kind.multi and field.data and options >= 2 and field.data > options:
            raise ValidationError(_l("最多选几项不能超过选项的个数。"))

    def validate_closes_at(self, field):
        """Voting ends after it opens, and in the future."""
        if not field.data:
            return
        if self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("截止时间要晚于开始投票的时间。"))
        if from_local_naive(field.data) <= utcnow():
            raise ValidationError(_l("截止时间已经过了，请填一个以后的时间。"))


class ExtensionForm(FlaskForm):
    """Extend an open statutory topic's voting window once, with the reason residents will read."""

    closes_at = DateTimeLocalField(_l("新的截止时间"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(_l("请填写新的截止时间。"))])
    reason = StringField(_l("延长原因（居民会看到）"), validators=[
        DataRequired(_l("请写明延长的原因，居民会看到。")), Length(max=200, message=_l("原因最多 200 个字。"))],
        description=_l("例如：参与的面积和人数还没有达到三分之二，延长一周方便外出的业主投票。只能延长一次。"))


class PaperBallotForm(FlaskForm):
    """A paper ballot typed in by a committee member: which household (building and room), and its choices."""

    household_id = HiddenField()
    building = StringField(_l("楼栋"), validators=[Optional(), Length(max=20)],
                           render_kw={"inputmode": "numeric", "autocomplete": "off", "enterkeyhint": "next"})
    entrance = StringField(_l("单元（没有可不填）"), validators=[Optional(), Length(max=10)],
                           render_kw={"inputmode": "numeric", "autocomplete": "off", "enterkeyhint": "next"})
    room = StringField(_l("房号"), validators=[Optional(), Length(max=20)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "enterkeyhint": "next"})
    choices = SelectMultipleField(_l("选票上的选择"), choices=[], validate_choice=False)


class CorrectionForm(FlaskForm):
    """A correction note on a published topic: its wording itself never changes once households vote on it."""

    body = TextAreaField(_l("更正说明"), validators=[
        DataRequired(_l("请写明更正了什么。")), Length(max=1000, message=_l("更正说明最多 1000 个字。"))],
        description=_l("例如：背景说明里“40 个车位”应为“36 个车位”。会注明时间和发布人，显示在手机、大屏投票处和"
                       "决议公告上，不能删改。"), render_kw={"rows": 3})


class HideOpinionForm(FlaskForm):
    """Hide a resident's opinion; the reason is shown in its place."""

    reason = StringField(_l("隐藏原因（居民会看到）"), validators=[
        DataRequired(_l("请写明隐藏的原因，居民会看到。")), Length(max=200, message=_l("原因最多 200 个字。"))],
        description=_l("例如：含有住户电话号码；与本议题无关；人身攻击。"))


class ResolutionForm(FlaskForm):
    """The resolution notice (决议公告), prefilled from the frozen result."""

    title = StringField(_l("公告标题"), validators=[
        DataRequired(_l("请填写公告标题。")), Length(max=120, message=_l("标题最多 120 个字。"))])
    body = TextAreaField(_l("公告正文"), validators=[DataRequired(_l("请填写公告正文。"))],
                         description=_l("已按表决结果生成，数字不要改；可以补充落实安排。"), render_kw={"rows": 18})


class UpdateForm(FlaskForm):
    """A follow-through post (落实情况)."""

    body = TextAreaField(_l("落实情况"), validators=[DataRequired(_l("请写一写做了什么、做到哪一步了。"))],
                         description=_l("例如：已与施工方签合同，6 月 20 日开工。会同时发一条通知。"),
                         render_kw={"rows": 5})
    done = BooleanField(_l("这件事已经全部落实"))


class AnswerForm(FlaskForm):
    """The committee's public answer to a resident's proposal."""

    answer = TextAreaField(_l("答复（公开）"), validators=[
        DataRequired(_l("请填写答复。")), Length(max=5000, message=_l("答复太长了。"))], render_kw={"rows": 4})
    outcome = RadioField(_l("答复后"), choices=[
        SelectChoice(ProposalStatus.answered.value, _l("已答复，继续跟进")),
        SelectChoice(ProposalStatus.closed.value, _l("已办结"))],
        default=ProposalStatus.answered.value, validators=[InputRequired(_l("请选择。"))])
