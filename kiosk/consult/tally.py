"""Tallies of household votes under the rule a topic is decided by.

Statutory matters (Civil Code art. 278 and the Supreme People's Court interpretation on building
ownership) must clear two thresholds:

- participation (quorum): units making up at least 2/3 of the total area AND at least 2/3 of all owners
  take part;
- approval, counted against the participants: more than 1/2 of their area AND more than 1/2 of them
  ("ordinary", 双过半), or at least 3/4 of both ("special", art. 278 items 6-8, 双四分之三).

Owners are counted by head: one unit is one owner, but all units of one buyer count as one owner and all
developer-held units together count as one. The caller says which units belong together through
`Voter.owner`. Area is in integer hundredths of a square metre and always follows each unit's own ballot;
an owner group's head follows the latest ballot cast by any of its units (on equal order, the one of the
unit with the larger household_id).

Two non-statutory rules: "consensus" (协商一致: every participating household agrees) and "informal"
(意见征集: most participating households, no threshold). Both decide by households (units).

Ballots:
- casts for households not on the electorate are ignored; of several casts for one household the one with
  the larger `order` counts (on equal order, the later one in `casts`);
- choices that are not option keys are ignored, and a repeated choice counts once;
- a ballot choosing more options than allowed (yes/no and single: 1; multi and election: `seats`) is
  spoiled: it counts as participation, like a blank ballot, and supports nothing.

Everything is counted in integers and compared by cross-multiplication; Fractions appear only in the
reported thresholds and shares.
"""
import enum
from dataclasses import dataclass
from fractions import Fraction

KINDS = ("yesno", "single", "multi", "election")
YES, NO, ABSTAIN = "yes", "no", "abstain"
QUORUM = Fraction(2, 3)  # the statutory participation: of the total area, and of all owners
REASONS = ("no_votes", "quorum_area", "quorum_heads", "approval_area", "approval_heads", "not_unanimous",
           "not_plurality", "tie")


def N_(message):
    """Mark a sentence for translation; whoever shows it translates it (this module stays pure Python)."""
    return message


class Rule(enum.StrEnum):
    """How a topic is decided."""

    ordinary = "ordinary"  # statutory, art. 278 items 1-5 and 9: 双过半
    special = "special"  # statutory, art. 278 items 6-8: 双四分之三
    consensus = "consensus"  # 协商一致: every participating household agrees
    informal = "informal"  # 意见征集: most participating households, no threshold


@dataclass(frozen=True)
class RuleSpec:
    """One rule: its thresholds, and every word people read about it (msgids, translated where shown)."""

    label: str
    short: str
    quorum: Fraction | None = None  # statutory rules: this share of the total area and of all owners takes part
    approval: Fraction | None = None  # ...and this share of the participating area and owners agrees
    strict: bool = False  # approval "more than" (双过半) rather than "at least" (双四分之三)
    yes_no_only: str | None = None  # the sentence refusing the rule for a question that is not yes/no
    need: str | None = None  # the approval threshold in words
    approval_area: str | None = None  # why a topic failed on the agreeing area...
    approval_heads: str | None = None  # ...and on the agreeing owners

    @property
    def statutory(self):
        """Whether the Civil Code's thresholds apply (then owners and area count; else households)."""
        return self.quorum is not None


RULES = {
    Rule.ordinary: RuleSpec(
        label=N_("法定一般事项（双三分之二参与，双过半同意）"), short=N_("双过半"), quorum=QUORUM,
        approval=Fraction(1, 2), strict=True, need=N_("一半以上（不含一半）"),
        approval_area=N_("同意的面积没有超过参与面积的一半。"), approval_heads=N_("同意的业主人数没有超过参与人数的一半。")),
    Rule.special: RuleSpec(
        label=N_("法定特别事项（双三分之二参与，双四分之三同意）"), short=N_("双四分之三"), quorum=QUORUM,
        approval=Fraction(3, 4), strict=False, need=N_("四分之三及以上"),
        yes_no_only=N_("法定特别事项只适用于同意/不同意/弃权的议题。"),
        approval_area=N_("同意的面积不足参与面积的四分之三。"), approval_heads=N_("同意的业主人数不足参与人数的四分之三。")),
    Rule.consensus: RuleSpec(
        label=N_("协商一致（参与者全部同意）"), short=N_("协商一致"),
        yes_no_only=N_("协商一致只适用于同意/不同意/弃权的议题。")),
    Rule.informal: RuleSpec(label=N_("意见征集（按参与户数多少，不设门槛）"), short=N_("意见征集")),
}
# Why a topic did not pass, for the reasons every rule shares; the approval reasons are the rule's own, and a
# tie gets its own sentence with the tied names.
REASON_TEXTS = {
    "no_votes": N_("没有一户投票。"),
    "quorum_area": N_("参与投票的专有部分面积不足总面积的三分之二。"),
    "quorum_heads": N_("参与投票的业主人数不足总人数的三分之二。"),
    "not_unanimous": N_("参与者的意见不一致，没有达成协商一致。"),
    "not_plurality": N_("没有哪个选项得票最多。"),
}
# How to choose a rule, for the committee's topic form.
CHOOSING = N_("法定特别事项（民法典第二百七十八条第六至八项）：筹集维修资金，改建、重建建筑物及其附属设施，"
              "改变共有部分用途或者利用共有部分从事经营活动。其他共同决定事项（选聘物业、制定管理规约、"
              "选举业主委员会、使用维修资金等）是法定一般事项。不需要法定效力的，用协商一致或意见征集。")


def reason_text(code, rule):
    """The msgid explaining a failure code of a tally under `rule` ("" for a tie: it has its own sentence)."""
    if code in ("approval_area", "approval_heads"):
        return getattr(RULES[rule], code) or ""
    return REASON_TEXTS.get(code, "")


@dataclass(frozen=True)
class Voter:
    """One unit on the electorate, as frozen when voting opened."""

    household_id: int
    area_centi: int
    owner: str  # owner group: units sharing it count as one owner ("developer" for all developer units)


@dataclass(frozen=True)
class Cast:
    """One household's ballot; `choices` may be empty (a blank ballot still counts as participation)."""

    household_id: int
    choices: tuple
    order: int  # larger = cast later


@dataclass(frozen=True)
class OptionCount:
    """What one option received."""

    key: str
    area_centi: int  # area of the units whose ballot includes it
    heads: int  # owner groups whose latest ballot includes it
    households: int  # units whose ballot includes it
    approved: bool  # statutory: met quorum and approval; consensus, informal: won


@dataclass(frozen=True)
class Result:
    """The outcome of a tally, with every figure a supervisor needs to check it."""

    kind: str
    rule: str
    seats: int  # effective: 1 for yes/no and single
    total_area_centi: int
    total_heads: int
    total_households: int
    part_area_centi: int
    part_heads: int
    part_households: int
    options: tuple  # OptionCount, in the given option order
    quorum_required: bool  # True for the statutory rules
    quorum_area_met: bool  # reported for every rule; binding only when quorum_required
    quorum_heads_met: bool
    approval: Fraction | None  # 1/2 for ordinary (strict), 3/4 for special, None otherwise
    approval_strict: bool
    passed: bool
    winners: tuple  # option keys, best first; yes/no: ("yes",) when passed
    tied: tuple  # option keys tied for the last seat, not in winners
    reasons: tuple  # failure codes, in the order of REASONS
    conflicts: int  # owner groups whose units cast differing ballots

    @property
    def quorum_met(self):
        """Both participation thresholds reached."""
        return self.quorum_area_met and self.quorum_heads_met

    @property
    def part_area_share(self):
        """Participating area as a share of the total area."""
        return shares(self.part_area_centi, self.total_area_centi)

    @property
    def part_heads_share(self):
        """Participating owners as a share of all owners."""
        return shares(self.part_heads, self.total_heads)

    @property
    def part_households_share(self):
        """Participating units as a share of all units."""
        return shares(self.part_households, self.total_households)

    def option(self, key):
        """The OptionCount of one option key (KeyError if unknown)."""
        for count in self.options:
            if count.key == key:
                return count
        raise KeyError(key)

    def area_share(self, key):
        """An option's area as a share of the participating area."""
        return shares(self.option(key).area_centi, self.part_area_centi)

    def heads_share(self, key):
        """An option's owner groups as a share of the participating owner groups."""
        return shares(self.option(key).heads, self.part_heads)

    def households_share(self, key):
        """An option's households as a share of the participating households."""
        return shares(self.option(key).households, self.part_households)

    def as_record(self):
        """The result as it is frozen with a topic (JSON): as_dict, the threshold as [numerator, denominator]."""
        data = self.as_dict()
        data["approval"] = None if self.approval is None else [self.approval.numerator, self.approval.denominator]
        return data

    def as_dict(self):
        """Plain JSON-ready data (the approval threshold as "1/2", "3/4" or None)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["options"] = [{name: getattr(count, name) for name in OptionCount.__dataclass_fields__}
                           for count in self.options]
        data["approval"] = None if self.approval is None else str(self.approval)
        for name in ("winners", "tied", "reasons"):
            data[name] = list(data[name])
        return data


def shares(numerator, denominator):
    """numerator over denominator as a Fraction, or 0 when the denominator is 0."""
    if denominator == 0:
        return Fraction(0)
    return Fraction(numerator, denominator)


def _reaches(count, whole, share, strict):
    """Whether count is at least (strict: more than) share of whole; never true of an empty whole."""
    if whole <= 0:
        return False
    left, right = count * share.denominator, whole * share.numerator
    return left > right if strict else left >= right


def _as_tuple(choices):
    """Cast.choices as a tuple (a list from JSON is fine; a bare string is a caller's mistake)."""
    if isinstance(choices, (str, bytes)):
        raise TypeError("Cast.choices must be a sequence of option keys, not a string")
    return tuple(choices)


def _ballot(choices, index, limit):
    """A ballot as sorted option positions: unknown keys dropped, repeats merged, over-votes spoiled."""
    picked = {index[key] for key in choices if key in index}
    if len(picked) > limit:
        return ()
    return tuple(sorted(picked))


def _rank(eligible, score, seats):
    """Winners and tied options (positions) among eligible ones, by score descending then option order.

    When the last seat's score equals the next one's, every option with that score is tied and none of
    them wins: ties are never broken silently.
    """
    ranked = sorted(eligible, key=lambda i: (-score[i], i))
    if len(ranked) <= seats or score[ranked[seats]] != score[ranked[seats - 1]]:
        return ranked[:seats], []
    cut = score[ranked[seats - 1]]
    return [i for i in ranked if score[i] > cut], [i for i in ranked if score[i] == cut]


def _check(kind, rule, options, seats):
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    if not options or len(set(options)) != len(options):
        raise ValueError("options must be non-empty and distinct")
    if kind == "yesno" and YES not in options:
        raise ValueError('a yes/no topic needs a "yes" option')
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise ValueError("seats must be a positive integer")


def tally(kind, rule, options, voters, casts, seats=1):
    """Count the casts of the electorate `voters` on `options` and decide under `rule`.

    Raises ValueError for an unknown kind or rule, empty or repeated options, a yes/no topic without
    "yes", seats < 1, a household listed twice in `voters` or a negative area.
    """
    _check(kind, rule, tuple(options), seats)
    area_of, owner_of = {}, {}
    total_area = 0
    for voter in voters:
        hid = voter.household_id
        if hid in area_of:
            raise ValueError(f"household {hid} is listed twice in the electorate")
        if voter.area_centi < 0:
            raise ValueError(f"household {hid} has a negative area")
        area_of[hid] = voter.area_centi
        owner_of[hid] = voter.owner
        total_area += voter.area_centi
    totals = (total_area, len(set(owner_of.values())), len(area_of))
    voted = ((c.household_id, area_of[c.household_id], owner_of[c.household_id], c.choices, c.order)
             for c in casts if c.household_id in area_of)
    return tally_voted(kind, rule, options, totals, voted, seats)


def tally_voted(kind, rule, options, totals, voted, seats=1, decode=None):
    """tally() from what a database can hand over directly: `totals` = (total area, owners, households) of
    the electorate, and `voted` = rows (household_id, area_centi, owner, choices, order) of the ballots of
    households on the electorate (several per household: the largest order counts). With `decode`, choices
    arrive raw (e.g. JSON text) and each distinct raw value is decoded once. The recount of a 5,000-household
    topic then touches its 4,400 ballot rows once and builds no object per household."""
    options = tuple(options)
    _check(kind, rule, options, seats)
    limit = seats if kind in ("multi", "election") else 1
    index = {key: i for i, key in enumerate(options)}
    n = len(options)
    total_area, total_heads, total_households = totals

    latest = {}  # household -> its row that counts
    for row in voted:
        held = latest.get(row[0])
        if held is None or row[4] >= held[4]:
            latest[row[0]] = row

    # Ballots come in few shapes: count per shape ("slot"), then spread the sums over the options once.
    slot_of_raw, slot_of_shape, shapes = {}, {}, []
    slot_area, slot_households = [], []
    part_area = 0
    group_order, group_hid, group_slot, group_first = {}, {}, {}, {}  # per owner group
    conflicted = set()
    for hid, area, owner, raw, order in latest.values():
        if decode is None and type(raw) is not tuple:
            raw = _as_tuple(raw)
        slot = slot_of_raw.get(raw)
        if slot is None:
            shape = _ballot(_as_tuple(decode(raw)) if decode else raw, index, limit)
            slot = slot_of_shape.get(shape)
            if slot is None:
                slot = slot_of_shape[shape] = len(shapes)
                shapes.append(shape)
                slot_area.append(0)
                slot_households.append(0)
            slot_of_raw[raw] = slot
        part_area += area
        slot_area[slot] += area
        slot_households[slot] += 1
        best = group_order.get(owner)
        if best is None:
            group_order[owner], group_hid[owner], group_slot[owner], group_first[owner] = order, hid, slot, slot
        else:
            if slot != group_first[owner]:
                conflicted.add(owner)
            if order > best or (order == best and hid > group_hid[owner]):
                group_order[owner], group_hid[owner], group_slot[owner] = order, hid, slot
    slot_heads = [0] * len(shapes)
    for slot in group_slot.values():
        slot_heads[slot] += 1
    area_by, households_by, heads_by = [0] * n, [0] * n, [0] * n
    for slot, shape in enumerate(shapes):
        for i in shape:
            area_by[i] += slot_area[slot]
            households_by[i] += slot_households[slot]
            heads_by[i] += slot_heads[slot]
    part_heads, part_households, conflicts = len(group_order), len(latest), len(conflicted)

    quorum_area_met = _reaches(part_area, total_area, QUORUM, False)
    quorum_heads_met = _reaches(part_heads, total_heads, QUORUM, False)
    reasons = set()
    if not part_households:
        reasons.add("no_votes")
    winners, tied, approved = [], [], set()
    spec = RULES[rule]
    approval, strict = spec.approval, spec.strict

    if approval is not None:
        if not quorum_area_met:
            reasons.add("quorum_area")
        if not quorum_heads_met:
            reasons.add("quorum_heads")
        meets_area = [_reaches(area_by[i], part_area, approval, strict) for i in range(n)]
        meets_heads = [_reaches(heads_by[i], part_heads, approval, strict) for i in range(n)]
        meets = [meets_area[i] and meets_heads[i] for i in range(n)]
        if kind == "yesno":
            judged = index[YES]
        else:
            # Nothing met approval: explain by the front-runner (most owner groups, then option order).
            judged = None if any(meets) else min(range(n), key=lambda i: (-heads_by[i], i))
        if part_households and judged is not None:
            if not meets_area[judged]:
                reasons.add("approval_area")
            if not meets_heads[judged]:
                reasons.add("approval_heads")
        if quorum_area_met and quorum_heads_met:
            approved = {i for i in range(n) if meets[i]}
            if kind == "yesno":
                winners = [index[YES]] if index[YES] in approved else []
                approved = set(winners)
            else:
                winners, tied = _rank(approved, heads_by, limit)
    elif rule == "consensus":
        if part_households:
            ballot = shapes[0] if len(shapes) == 1 else ()
            unanimous = ballot == (index[YES],) if kind == "yesno" else bool(ballot)
            if unanimous:
                winners = list(ballot)
            else:
                reasons.add("not_unanimous")
        approved = set(winners)
    else:  # informal
        if kind == "yesno":
            yes = households_by[index[YES]]
            no = households_by[index[NO]] if NO in index else 0
            abstain = households_by[index[ABSTAIN]] if ABSTAIN in index else 0
            if yes > no and yes > abstain:
                winners = [index[YES]]
        else:
            winners, tied = _rank([i for i in range(n) if households_by[i]], households_by, limit)
        if part_households and not winners and not tied:
            reasons.add("not_plurality")
        approved = set(winners)

    if tied:
        reasons.add("tie")
    counts = tuple(OptionCount(key, area_by[i], heads_by[i], households_by[i], i in approved)
                   for i, key in enumerate(options))
    return Result(
        kind=kind, rule=rule, seats=limit,
        total_area_centi=total_area, total_heads=total_heads, total_households=total_households,
        part_area_centi=part_area, part_heads=part_heads, part_households=part_households,
        options=counts, quorum_required=spec.statutory,
        quorum_area_met=quorum_area_met, quorum_heads_met=quorum_heads_met,
        approval=approval, approval_strict=strict,
        passed=bool(winners) and not tied,
        winners=tuple(options[i] for i in winners), tied=tuple(options[i] for i in tied),
        reasons=tuple(code for code in REASONS if code in reasons),
        conflicts=conflicts,
    )
