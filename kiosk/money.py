"""Money as integer fen (分): parsing typed yuan, display formats, and Chinese financial uppercase (大写).

Every amount is an ``int`` number of fen. Nothing here uses binary fractions:
typed text is split with string operations and converted with ``int()`` only,
and output is built with ``divmod``. A test greps this file to keep it that way.
"""
import unicodedata

__all__ = ["MAX_FEN", "MoneyError", "format_yuan", "parse_yuan", "plain_yuan", "uppercase"]

# The largest single amount a committee member may type: ¥100,000,000.00.
MAX_FEN = 10_000_000_000
# uppercase() covers everything below 1 万亿 yuan (groups 元, 万, 亿).
_UPPERCASE_LIMIT_FEN = 10**12 * 100

_DIGITS = "0123456789"
_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_MARKS = ("", "万", "亿")
_PLACE_UNITS = ("仟", "佰", "拾", "")

# Characters people type for the decimal point or a minus sign that NFKC leaves alone.
_EXTRA_DOTS = {"。": ".", "﹒": "."}
_MINUS_SIGNS = "-−‐‑–—"


class MoneyError(ValueError):
    """An amount that cannot be accepted; str(error) is a calm Chinese sentence for the person typing it."""


def _require_fen(fen):
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, got {type(fen).__name__}")
    return fen


# --------------------------------------------------------------------------- parsing

def parse_yuan(text, *, allow_zero=False):
    """Return the integer fen of an amount typed in yuan.

    Accepts ``"1234"``, ``"1,234.5"``, ``"1234.50"``, ``"¥1,234.50"``, ``"1234元"``,
    full-width input such as ``"１２３４．５"`` or ``"￥１，２３４"``, surrounding spaces,
    ``".5"`` and ``"5."``. Refuses (MoneyError with a Chinese message) empty text,
    negative amounts, zero (unless ``allow_zero``, e.g. for a counted cash balance),
    more than two decimals, letters, several dots, misplaced thousands separators and
    anything above ¥100,000,000.00.
    """
    if text is None:
        raise MoneyError("请填写金额。")
    if not isinstance(text, str):
        raise TypeError(f"parse_yuan expects the typed text, got {type(text).__name__}")

    # Full-width digits, ．，＋－ and ￥ become their ASCII / ¥ forms.
    s = unicodedata.normalize("NFKC", text).strip()
    for odd, dot in _EXTRA_DOTS.items():
        s = s.replace(odd, dot)
    if not s:
        raise MoneyError("请填写金额。")

    negative = False
    if s[0] in _MINUS_SIGNS:
        negative = True
        s = s[1:].lstrip()
    elif s[0] == "+":
        s = s[1:].lstrip()
    if s[:1] == "¥":
        s = s[1:].lstrip()
    if s[:1] in tuple(_MINUS_SIGNS):  # "¥-5"
        negative = True
        s = s[1:].lstrip()
    if s.endswith("元"):
        s = s[:-1].rstrip()
    if not s:
        raise MoneyError("请填写金额。")

    lowered = s.lower()
    if lowered.strip("+-") in {"nan", "inf", "infinity"}:
        raise MoneyError("请填写一个具体的金额，例如 1,234.50。")
    if any(ch.isspace() for ch in s):
        raise MoneyError("金额中间不能有空格。")
    if any(ch not in _DIGITS and ch not in ".," for ch in s):
        raise MoneyError("金额只能包含数字、小数点和千位分隔符，例如 1,234.50。")
    if s.count(".") > 1:
        raise MoneyError("金额只能有一个小数点。")

    whole, dot, decimals = s.partition(".")
    if "," in decimals:
        raise MoneyError("千位分隔符的位置不对，例如应写成 1,234.50。")
    if not whole and not decimals:
        raise MoneyError("请填写金额。")
    if "," in whole:
        groups = whole.split(",")
        if (not 1 <= len(groups[0]) <= 3 or groups[0].startswith("0")
                or any(len(group) != 3 for group in groups[1:])):
            raise MoneyError("千位分隔符的位置不对，例如应写成 1,234.50。")
        whole = "".join(groups)
    if len(decimals) > 2:
        raise MoneyError("金额最多两位小数。")

    significant = whole.lstrip("0")
    if len(significant) > len(str(MAX_FEN // 100)):  # avoids int() on absurdly long text
        raise MoneyError(_too_large_message())
    fen = int(significant or "0") * 100 + int((decimals + "00")[:2])

    if negative and fen:
        raise MoneyError("金额必须大于 0：收入和支出都按正数填写。")
    if fen == 0 and not allow_zero:
        raise MoneyError("金额必须大于 0。")
    if fen > MAX_FEN:
        raise MoneyError(_too_large_message())
    return fen


def _too_large_message():
    return f"金额过大：单笔不能超过 {format_yuan(MAX_FEN)}，请检查是否多输了位数。"


# --------------------------------------------------------------------------- display

def format_yuan(fen, sign=False):
    """Return fen for display: 123450 -> "¥1,234.50", -500 -> "-¥5.00"; sign=True adds "+" to positive amounts."""
    _require_fen(fen)
    yuan, cents = divmod(abs(fen), 100)
    body = f"¥{yuan:,}.{cents:02d}"
    if fen < 0:
        return "-" + body
    if sign and fen > 0:
        return "+" + body
    return body


def plain_yuan(fen):
    """Return fen as a plain cell value for CSV/XLSX: 123450 -> "1234.50", -500 -> "-5.00"."""
    _require_fen(fen)
    yuan, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{yuan}.{cents:02d}"


# --------------------------------------------------------------------------- uppercase (大写)

def uppercase(fen):
    """Return the Chinese financial uppercase (大写) of an amount in fen, as on receipts and notices.

    Follows 中国人民银行《支付结算办法》附件一 (正确填写票据和结算凭证的基本规定):

    * "整" is written after "元" when there is no 角 and no 分: 1000 -> "壹拾元整",
      0 -> "零元整". After 角 with no 分 nothing follows ("到角为止的，在角之后
      可以不写整字"): 1020 -> "壹拾元贰角", 10 -> "壹角".
    * A run of zeros between non-zero digits is written as one "零"; zeros at the end
      of a 4-digit group are not written; "万"/"亿" are kept when their group is
      non-zero: ¥1,000,005.00 -> "壹佰万零伍元整", ¥1,010,000.00 -> "壹佰零壹万元整".
    * Where the rules make a "零" optional, none is written: when only the 元 digit
      is zero before a non-zero 角 (1680.32 -> "壹仟陆佰捌拾元叁角贰分") and when a
      group ends in zeros and the next group starts with a non-zero 仟
      (107,000.53 -> "壹拾万柒仟元伍角叁分"). A zero 角 before a non-zero 分 after a
      yuan part is written: 1.05 -> "壹元零伍分".
    * A leading ten is "壹拾" (not "拾"), as financial documents require.
    * Negative amounts (reversals) are prefixed with "负": -500 -> "负伍元整".

    Amounts of 1 万亿 yuan or more raise MoneyError.
    """
    _require_fen(fen)
    if fen < 0:
        return "负" + uppercase(-fen)
    if fen >= _UPPERCASE_LIMIT_FEN:
        raise MoneyError("金额过大，无法写成大写。")
    if fen == 0:
        return "零元整"

    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    head = _yuan_uppercase(yuan) + "元" if yuan else ""
    if not jiao and not cents:
        tail = "整"
    elif not cents:
        tail = _UPPER_DIGITS[jiao] + "角"
    elif not jiao:
        tail = ("零" if yuan else "") + _UPPER_DIGITS[cents] + "分"
    else:
        tail = _UPPER_DIGITS[jiao] + "角" + _UPPER_DIGITS[cents] + "分"
    return head + tail


def _yuan_uppercase(yuan):
    """Uppercase of a positive whole number of yuan, without the "元"."""
    groups = []  # 4-digit groups, least significant first
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)

    parts = []
    skipped_zero_group = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            skipped_zero_group = bool(parts)
            continue
        # A gap before this group (an all-zero group, or leading zeros inside it) reads as one 零.
        if parts and (skipped_zero_group or group < 1000):
            parts.append("零")
        parts.append(_group_uppercase(group) + _GROUP_MARKS[index])
        skipped_zero_group = False
    return "".join(parts)


def _group_uppercase(group):
    """Uppercase of 1..9999 within its group: inner zeros as one 零, leading and trailing zeros silent."""
    digits = (group // 1000, group // 100 % 10, group // 10 % 10, group % 10)
    out = []
    pending_zero = False
    for digit, unit in zip(digits, _PLACE_UNITS):
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_UPPER_DIGITS[digit] + unit)
    return "".join(out)
