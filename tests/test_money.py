"""kiosk.money: typed yuan -> fen, display formats, Chinese financial uppercase (大写)."""
import random
import re
from pathlib import Path

import pytest

from kiosk import money
from kiosk.money import (
    MoneyError,
    format_yuan,
    parse_yuan,
    plain_yuan,
    uppercase,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- parse_yuan

@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234", 123400),
        ("1,234.5", 123450),
        ("1234.50", 123450),
        ("¥1,234.50", 123450),
        ("￥1,234.50", 123450),
        ("１２３４．５", 123450),
        ("１，２３４．５０", 123450),
        ("￥１２３４", 123400),
        ("  1234.50  ", 123450),
        ("\t¥ 1,234.50\n", 123450),
        ("0.05", 5),
        ("0.5", 50),
        (".5", 50),
        ("5.", 500),
        ("007", 700),
        ("1234元", 123400),
        ("+12", 1200),
        ("1,234,567.89", 123456789),
        ("100,000,000.00", 10_000_000_000),
        ("100000000", 10_000_000_000),
        ("12。5", 1250),
    ],
)
def test_parse_accepts(text, fen):
    assert parse_yuan(text) == fen
    assert type(parse_yuan(text)) is int


def _refusal(text, **kwargs):
    with pytest.raises(MoneyError) as caught:
        parse_yuan(text, **kwargs)
    message = str(caught.value)
    assert CJK.search(message), message
    assert message.endswith("。"), message
    return message


@pytest.mark.parametrize("text", ["", "   ", "\u3000", "¥", "元", None])
def test_parse_refuses_empty(text):
    assert "请填写金额" in _refusal(text)


@pytest.mark.parametrize("text", ["-5", "-0.01", "－５", "−5", "¥-5", "-¥1,234.50"])
def test_parse_refuses_negative_saying_more_than_zero(text):
    message = _refusal(text)
    assert "大于 0" in message
    assert "正数" in message


@pytest.mark.parametrize("text", ["0", "0.00", "0.0", "000", "¥0", "-0"])
def test_parse_refuses_zero(text):
    assert "大于 0" in _refusal(text)


def test_parse_allows_zero_when_asked():
    assert parse_yuan("0", allow_zero=True) == 0
    assert parse_yuan("0.00", allow_zero=True) == 0
    assert "大于 0" in _refusal("-1", allow_zero=True)


@pytest.mark.parametrize("text", ["1.234", "0.001", "1,234.567", "1.500"])
def test_parse_refuses_more_than_two_decimals(text):
    assert _refusal(text) == "金额最多两位小数。"


@pytest.mark.parametrize("text", ["12a", "abc", "1e5", "0x10", "12块", "¥12$", "1/2", "½"])
def test_parse_refuses_letters(text):
    assert "只能包含数字" in _refusal(text)


@pytest.mark.parametrize("text", ["1.2.3", "1..5", "1,234.5.6"])
def test_parse_refuses_several_dots(text):
    assert "一个小数点" in _refusal(text)


@pytest.mark.parametrize("text", ["1,23", ",123", "123,", "1,2345", "1234,567", "12,34,567", "1.234,5", "0,123", ","])
def test_parse_refuses_misplaced_commas(text):
    assert "千位分隔符" in _refusal(text)


@pytest.mark.parametrize("text", ["1 234", "12 .5"])
def test_parse_refuses_inner_spaces(text):
    assert "空格" in _refusal(text)


@pytest.mark.parametrize("text", ["100,000,000.01", "100000001", "999999999999", "9" * 5000, "0" * 50 + "1" * 20])
def test_parse_refuses_absurd_size(text):
    message = _refusal(text)
    assert "过大" in message
    assert "¥100,000,000.00" in message


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "ＮａＮ"])
def test_parse_refuses_nan_and_infinity(text):
    assert "具体的金额" in _refusal(text)


def test_parse_allows_long_leading_zeros():
    assert parse_yuan("0" * 50 + "12.30") == 1230


def test_parse_wants_text():
    with pytest.raises(TypeError):
        parse_yuan(12)
    with pytest.raises(TypeError):
        parse_yuan(b"12")


def test_money_error_is_a_value_error():
    assert issubclass(MoneyError, ValueError)


# --------------------------------------------------------------------------- format_yuan / plain_yuan

@pytest.mark.parametrize(
    ("fen", "text", "signed"),
    [
        (123450, "¥1,234.50", "+¥1,234.50"),
        (0, "¥0.00", "¥0.00"),
        (-500, "-¥5.00", "-¥5.00"),
        (5, "¥0.05", "+¥0.05"),
        (-5, "-¥0.05", "-¥0.05"),
        (100, "¥1.00", "+¥1.00"),
        (99999, "¥999.99", "+¥999.99"),
        (123456789, "¥1,234,567.89", "+¥1,234,567.89"),
        (10_000_000_000, "¥100,000,000.00", "+¥100,000,000.00"),
    ],
)
def test_format_yuan(fen, text, signed):
    assert format_yuan(fen) == text
    assert format_yuan(fen, sign=True) == signed


@pytest.mark.parametrize(
    ("fen", "text"),
    [(123450, "1234.50"), (0, "0.00"), (-500, "-5.00"), (5, "0.05"), (-5, "-0.05"), (123456789, "1234567.89")],
)
def test_plain_yuan(fen, text):
    assert plain_yuan(fen) == text


@pytest.mark.parametrize("function", [format_yuan, plain_yuan, uppercase])
@pytest.mark.parametrize("value", ["12", True, None, 1.5])
def test_output_functions_want_integer_fen(function, value):
    with pytest.raises(TypeError):
        function(value)


def test_round_trips():
    rng = random.Random(20240612)
    samples = [1, 5, 10, 99, 100, 123450, 100105, 10_000_000_000]
    samples += [rng.randint(1, 10_000_000_000) for _ in range(1000)]
    samples += [rng.randint(1, 100_000) for _ in range(500)]
    for fen in samples:
        assert parse_yuan(format_yuan(fen)) == fen
        assert parse_yuan(format_yuan(fen, sign=True)) == fen
        assert parse_yuan(plain_yuan(fen)) == fen
        # and as typed on a phone with a full-width keyboard
        full_width = format_yuan(fen).translate(str.maketrans("0123456789,.¥", "０１２３４５６７８９，．￥"))
        assert parse_yuan(full_width) == fen


# --------------------------------------------------------------------------- uppercase

UPPERCASE_CASES = [
    # the hard cases named in issue 6
    (0, "零元整"),
    (10, "壹角"),
    (10_000_000_000, "壹亿元整"),
    (100105, "壹仟零壹元零伍分"),
    (100, "壹元整"),
    (1020, "壹拾元贰角"),
    # small amounts
    (5, "伍分"),
    (1, "壹分"),
    (50, "伍角"),
    (55, "伍角伍分"),
    (99, "玖角玖分"),
    (105, "壹元零伍分"),
    (110, "壹元壹角"),
    (1000, "壹拾元整"),
    (1005, "壹拾元零伍分"),
    (1100, "壹拾壹元整"),
    (2000, "贰拾元整"),
    (10100, "壹佰零壹元整"),
    (11000, "壹佰壹拾元整"),
    (100000, "壹仟元整"),
    (1234567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),
    (10700053, "壹拾万柒仟元伍角叁分"),
    # zeros in the middle and across groups
    (100000500, "壹佰万零伍元整"),
    (1000500, "壹万零伍元整"),
    (10010000, "壹拾万零壹佰元整"),
    (101000000, "壹佰零壹万元整"),
    (2000000100, "贰仟万零壹元整"),
    (10_000_000_001, "壹亿元零壹分"),
    (10_000_000_100, "壹亿零壹元整"),
    (10_000_100_000, "壹亿零壹仟元整"),
    (10_001_000_000, "壹亿零壹万元整"),
    (10_100_000_000, "壹亿零壹佰万元整"),
    (11_000_000_000, "壹亿壹仟万元整"),
    (100_000_000_000, "壹拾亿元整"),
    (1_000_000, "壹万元整"),
    (1_100_000, "壹万壹仟元整"),
    (10_000_000, "壹拾万元整"),
    (110_000_000, "壹佰壹拾万元整"),
    (100_010_000, "壹佰万零壹佰元整"),
    (900_000, "玖仟元整"),
    (1_010_101, "壹万零壹佰零壹元零壹分"),
    (1_001_010, "壹万零壹拾元壹角"),
    (1_000_000_010, "壹仟万元壹角"),
    (999_999_999_999, "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    (1_234_567_890_123, "壹佰贰拾叁亿肆仟伍佰陆拾柒万捌仟玖佰零壹元贰角叁分"),
    # reversals
    (-500, "负伍元整"),
    (-100105, "负壹仟零壹元零伍分"),
    (-5, "负伍分"),
]


@pytest.mark.parametrize(("fen", "expected"), UPPERCASE_CASES)
def test_uppercase_table(fen, expected):
    assert uppercase(fen) == expected


def test_uppercase_table_is_big_enough():
    assert len(UPPERCASE_CASES) >= 30


def test_uppercase_refuses_beyond_its_range():
    assert uppercase(10**12 * 100 - 1).startswith("玖仟玖佰玖拾玖亿")
    with pytest.raises(MoneyError) as caught:
        uppercase(10**12 * 100)
    assert CJK.search(str(caught.value))


_NUMERALS = "零壹贰叁肆伍陆柒捌玖"


def reference_uppercase(fen):
    """Independent reference: spell every digit with its place, then strike the zeros by rewriting rules.

    Deliberately unlike the module (which walks 4-digit groups): it writes the
    long form such as 壹仟零佰零拾壹元 and reduces it with regular expressions.
    """
    if fen < 0:
        return "负" + reference_uppercase(-fen)
    text = str(fen).rjust(3, "0")
    whole, jiao, cents = int(text[:-2]), int(text[-2]), int(text[-1])

    spelled = ""
    if whole:
        places = ["", "拾", "佰", "仟", "万", "拾", "佰", "仟", "亿", "拾", "佰", "仟"]
        digits = str(whole)
        width = len(digits)
        for position, char in enumerate(digits):
            place = places[width - 1 - position]
            spelled += _NUMERALS[int(char)] + place
        # "零拾" "零佰" "零仟" lose their place word and a run of 零 becomes one;
        # an empty 万 group after 亿 leaves only its 零 (壹亿零壹仟, not 壹亿壹仟);
        # a 零 just before 万/亿 disappears, and so does a trailing one.
        spelled = re.sub(r"零[拾佰仟]", "零", spelled)
        spelled = re.sub(r"零+", "零", spelled)
        spelled = spelled.replace("亿零万", "亿零")
        spelled = re.sub(r"零+", "零", spelled)
        spelled = re.sub(r"零([万亿])", r"\1", spelled)
        spelled = spelled.rstrip("零") + "元"

    if (jiao, cents) == (0, 0):
        return (spelled or "零元") + "整"
    fraction = {
        (True, True): f"{_NUMERALS[jiao]}角{_NUMERALS[cents]}分",
        (True, False): f"{_NUMERALS[jiao]}角",
        (False, True): ("零" if spelled else "") + f"{_NUMERALS[cents]}分",
    }[(jiao > 0, cents > 0)]
    return spelled + fraction


@pytest.mark.parametrize(("fen", "expected"), UPPERCASE_CASES)
def test_reference_agrees_with_the_table(fen, expected):
    assert reference_uppercase(fen) == expected


def test_uppercase_matches_the_reference_on_random_amounts():
    rng = random.Random(612)
    amounts = []
    for _ in range(2000):
        shape = rng.random()
        if shape < 0.5:
            fen = rng.randint(0, 10_000_000_000)
        elif shape < 0.8:
            # amounts with many zero digits, where the 零 rules bite
            digits = [rng.choice("0000000123456789") for _ in range(rng.randint(1, 11))]
            fen = int("".join(digits))
        else:
            fen = rng.randint(0, 100_000)
        if rng.random() < 0.05:
            fen = -fen
        amounts.append(fen)
    mismatches = [(fen, uppercase(fen), reference_uppercase(fen)) for fen in amounts
                  if uppercase(fen) != reference_uppercase(fen)]
    assert mismatches == []


def test_uppercase_matches_the_reference_exhaustively_and_on_a_stride():
    amounts = list(range(20_001)) + list(range(0, 10_000_000_001, 999_983))
    assert [fen for fen in amounts if uppercase(fen) != reference_uppercase(fen)] == []


# --------------------------------------------------------------------------- purity

def test_module_never_mentions_float():
    source = Path(money.__file__).read_text(encoding="utf-8")
    assert "float" not in source.lower()


def test_module_is_pure():
    source = Path(money.__file__).read_text(encoding="utf-8")
    for forbidden in ("flask", "sqlalchemy", "import kiosk", "from kiosk", "from ."):
        assert forbidden not in source.lower()
