"""Issue 17, open data: a compound's and the district's archives, downloaded over HTTP without logging in, are
checked by a checker written here from the archive's README alone (zipfile, csv, json and hashlib; nothing from
kiosk): the manifest's sha256, every ledger entry's hash from the period's published start to the head the
supervisors signed (and each period's start linked to an earlier stretch, so the book is checked from genesis),
the same chain rebuilt from the CSV, the periods' totals, and each decided topic's figures adding up. One changed
byte in a CSV amount or a JSON hash is caught. Nothing personal is in any file, and nothing not yet decided.

The world: January (#1 parking, #2 a repair paid to a person, and February's #3 posted before January closed) and
February (#4, #5) signed in the public income book; a decided secret yes/no vote under 双过半 with its resolution
notice; a decided election (its candidates are people); an open secret vote; and a second compound."""
import csv
import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pytest

from kiosk.auth.models import Role
from kiosk.consult import service as consult
from kiosk.consult.models import Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.ledger import service
from kiosk.ledger.models import PeriodStatus

import factories

GENESIS = "0" * 64
PERSON = "黄建军"
CANDIDATES = ("李秀英", "王志强", "陈丽华")


# --- the checker, written from README.md ---------------------------------------------------------------------

def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(fields):
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev, fields):
    if fields.get("v", 1) == 2:
        return sha256(prev + "\n" + sha256(canonical(fields)))
    return sha256(prev + "\n" + canonical(fields))


def walk(start_number, start_hash, entries, problems, where):
    """Recompute a stretch: {number: hash we computed} (entries: dicts with number, hash, fields/digest/sealed)."""
    prev, expected, ours, changed = start_hash, start_number + 1, {}, False
    for entry in entries:
        if entry["number"] != expected:
            problems.append(f"{where}: entry {expected} is missing")
        if entry.get("fields") is not None:
            digest = entry_hash(prev, entry["fields"])
            if digest != entry["hash"] and not changed:  # later ones differ because this one does
                changed = True
                problems.append(f"{where}: entry {entry['number']} is not what was sealed")
        elif entry.get("digest"):
            digest = sha256(prev + "\n" + entry["digest"])
        else:
            digest = entry["hash"]
        ours[entry["number"]] = prev = digest
        expected = entry["number"] + 1
    return ours


def rows_of(data):
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def unquote(text):
    return text[1:] if text.startswith("'") else text


def fields_from_csv(row):
    """README: rebuild a CSV row's sealed fields."""
    if row["sealed"]:
        return None
    fields = {key: int(row[key]) for key in ("compound", "number", "category", "amount_fen")}
    fields["person"] = row["person"] == "true"
    for key in ("topic", "reverses"):
        fields[key] = int(row[key]) if row[key] else None
    for key in ("book", "building"):
        if row[key]:
            fields[key] = unquote(row[key])
    for key in ("transfer", "v"):
        if row[key]:
            fields[key] = int(row[key])
    if fields.get("v") == 2:
        fields["counterparty_digest"] = unquote(row["counterparty_digest"])
    for key in ("kind", "occurred_on", "description", "counterparty", "method", "posted_at"):
        fields[key] = unquote(row[key])
    return fields


def check_book(files, book, problems, label):
    """Every disclosed period of one book, from its JSON stretches and again from its CSV rows (`files` by their
    paths inside the compound's folder)."""
    periods = json.loads(files[f"ledger/{book}/periods.json"])
    listed = rows_of(files[f"ledger/{book}/periods.csv"])
    computed, from_csv = {0: GENESIS}, {0: GENESIS}
    for period, row in zip(periods, listed, strict=True):
        where = f"{label}/ledger/{book} {period['starts_on']}"
        segment = json.loads(files[period["file"]])
        start = segment["start"]
        if (start["number"], start["hash"]) != (period["start_number"], period["start_hash"]):
            problems.append(f"{where}: the start differs from periods.json")
        if computed.get(start["number"]) not in (None, start["hash"]):
            problems.append(f"{where}: does not link to the earlier stretch")
        if start["number"] not in computed:
            problems.append(f"{where}: not linked to genesis")
        ours = walk(start["number"], start["hash"], segment["entries"], problems, where)
        computed.update(ours)
        head = ours.get(period["head_number"], start["hash"] if period["head_number"] == start["number"] else None)
        if head != period["head_hash"]:
            problems.append(f"{where}: does not reach the signed code")
        sums = {"income": 0, "expense": 0}
        for entry in segment["entries"]:
            if entry["in_period"] and entry.get("fields"):
                sums[entry["fields"]["kind"]] += entry["fields"]["amount_fen"]
        if (sums["income"], sums["expense"]) != (period["income_fen"], period["expense_fen"]):
            problems.append(f"{where}: the entries do not add up to the totals")
        if period["opening_fen"] + period["income_fen"] - period["expense_fen"] != period["closing_fen"]:
            problems.append(f"{where}: the closing balance does not follow")
        # the same from the CSV files alone
        csv_entries = [{"number": int(r["number"]), "hash": r["hash"], "digest": r["digest"],
                        "fields": fields_from_csv(r)} for r in rows_of(files[period["file"][:-4] + "csv"])]
        start_number, start_hash = int(row["start_number"]), row["start_hash"]
        if from_csv.get(start_number) not in (None, start_hash):
            problems.append(f"{where} (CSV): does not link to the earlier stretch")
        ours = walk(start_number, start_hash, csv_entries, problems, f"{where} (CSV)")
        from_csv.update(ours)
        if ours.get(int(row["head_number"]), start_hash) != row["head_hash"]:
            problems.append(f"{where} (CSV): does not reach the signed code")
        csv_income = sum(int(r["amount_fen"]) for r in rows_of(files[period["file"][:-4] + "csv"])
                         if r["in_period"] == "true" and not r["sealed"] and r["kind"] == "income")
        if csv_income != int(row["income_fen"]):
            problems.append(f"{where} (CSV): the income does not add up")
    return computed


def reaches(count, whole, share, strict):
    numerator, denominator = share
    if whole == 0:
        return False
    return count * denominator > whole * numerator if strict else count * denominator >= whole * numerator


def check_topics(files, folder, problems):
    """Decided topics: the options' figures and the blank ballots make up the participation; 双过半 recomputed."""
    topics = json.loads(files[f"{folder}/consultations/results.json"])
    for topic in topics:
        where = f"topic {topic['id']}"
        for name in ("households", "area_centi", "heads"):
            if topic[f"part_{name}"] > topic[f"total_{name}"]:
                problems.append(f"{where}: more took part than there are")
            if any(o[name] > topic[f"part_{name}"] for o in topic["options"]):
                problems.append(f"{where}: an option has more than took part")
            if topic["kind"] in ("yesno", "single"):
                if sum(o[name] for o in topic["options"]) + topic[f"blank_{name}"] != topic[f"part_{name}"]:
                    problems.append(f"{where}: the {name} do not add up")
        if topic["quorum"] and topic["kind"] == "yesno":
            yes = next(o for o in topic["options"] if o["key"] == "yes")
            passed = (reaches(topic["part_area_centi"], topic["total_area_centi"], topic["quorum"], False)
                      and reaches(topic["part_heads"], topic["total_heads"], topic["quorum"], False)
                      and reaches(yes["area_centi"], topic["part_area_centi"], topic["approval"],
                                  topic["approval_strict"])
                      and reaches(yes["heads"], topic["part_heads"], topic["approval"], topic["approval_strict"]))
            if passed != topic["passed"]:
                problems.append(f"{where}: the published figures do not give the published outcome")
    for topic in topics:  # the CSV's rows give the same households
        rows = [r for r in rows_of(files[f"{folder}/consultations/results.csv"]) if int(r["topic"]) == topic["id"]]
        if [int(r["households"]) for r in rows] != [o["households"] for o in topic["options"]]:
            problems.append(f"topic {topic['id']} (CSV): the households differ from the JSON")
    return topics


def check_folder(files, folder):
    """Every check the README makes possible, on one compound's folder; the problems found."""
    problems = []
    readme = files[f"{folder}/README.md"].decode("utf-8")
    assert 'sha256(prev + "\\n" + sha256(canonical))' in readme  # the recipe this checker follows
    listed = {}
    for line in files[f"{folder}/manifest.sha256"].decode("utf-8").splitlines():
        digest, path = line.split("  ", 1)
        listed[f"{folder}/{path}"] = digest
    for path, data in files.items():
        if path.startswith(f"{folder}/") and path != f"{folder}/manifest.sha256":
            if listed.get(path) != hashlib.sha256(data).hexdigest():
                problems.append(f"{path}: its sha256 is not the manifest's")
    books = sorted({p.split("/")[2] for p in files if p.startswith(f"{folder}/ledger/")})
    for book in books:
        check_book(_relative(files, folder), book, problems, folder)
    if f"{folder}/consultations/results.json" in files:
        check_topics(files, folder, problems)
    return problems


def _relative(files, folder):
    """Periods name their stretch's file relative to the compound's folder."""
    return {path[len(folder) + 1:]: data for path, data in files.items() if path.startswith(f"{folder}/")}


def unzip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- the world -----------------------------------------------------------------------------------------------



def decide(compound, topic, ballots):
    for household, choices in ballots:
        consult.cast(compound, topic, household, choices)
    topic.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    consult.close_due(compound)
    db.session.expire_all()
    return db.session.get(Topic, topic.id)


@pytest.fixture
def world(app, compound, chair, make_user, make_compound):
    service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(3)]
    factories.posted_entry(compound, chair, "停车费", 860000, date(2026, 1, 3), counterparty="小区停车管理处")
    factories.posted_entry(compound, chair, "维修", 23000, date(2026, 1, 19), counterparty=PERSON, counterparty_is_person=True,
           description="=3 栋楼道灯更换（人工）")
    factories.posted_entry(compound, chair, "停车费", 870000, date(2026, 2, 2), counterparty="小区停车管理处")
    january = factories.close_and_sign(compound, chair, sups, date(2026, 1, 1), date(2026, 1, 31))
    factories.posted_entry(compound, chair, "场地租金", 300000, date(2026, 2, 5), description="'引号开头的摘要")
    factories.posted_entry(compound, chair, "垃圾清运", 150000, date(2026, 2, 26))
    february = factories.close_and_sign(compound, chair, sups, date(2026, 2, 1), date(2026, 2, 28))
    factories.posted_entry(compound, chair, "停车费", 880000, date(2026, 3, 2), counterparty="三月的未公示收入")

    homes = factories.households(compound, 6, area=lambda i: 9000 + 100 * i)
    vote = factories.open_topic(compound, chair, title="是否在东侧空地增设充电桩")
    vote = decide(compound, vote, [(homes[0], ["yes"]), (homes[1], ["yes"]), (homes[2], ["no"]),
                                   (homes[3], ["yes"]), (homes[4], ["abstain"])])
    consult.publish_resolution(compound, chair, vote, "关于增设充电桩的决议公告", "业主大会表决通过，增设充电桩 10 个。")
    election = factories.open_topic(compound, chair, CANDIDATES, title="第二届业委会委员选举", kind="election",
                                    rule="informal", seats=2, secret=False)
    election = decide(compound, election, [(homes[0], ["1", "2"]), (homes[1], ["2", "3"]), (homes[2], ["1"])])
    live = factories.open_topic(compound, chair, title="是否更换物业公司（投票中）")
    consult.cast(compound, live, homes[0], ["no"])
    db.session.commit()

    other = make_compound("pine", "松柏里小区")
    with_books = make_user("pine-chair", other, role=Role.chair)
    service.open_book(other, started_on=date(2026, 1, 1))
    db.session.commit()
    other_sups = [make_user(f"pine-sup{i}", other, role=Role.supervisor) for i in range(2)]
    factories.posted_entry(other, with_books, "停车费", 120000, date(2026, 1, 9))
    factories.close_and_sign(other, with_books, other_sups, date(2026, 1, 1), date(2026, 1, 31))
    return {"january": january, "february": february, "vote": vote, "election": election, "live": live,
            "homes": homes}


# --- the tests -----------------------------------------------------------------------------------------------

def test_the_compound_archive_verifies_with_a_checker_written_from_its_readme(client, world):
    client.set_cookie("kiosk_lang", "en")  # the first visitor reads English: the files stay in Chinese
    response = client.get("/maple/open-data/all.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    files = unzip(response.data)
    assert check_folder(files, "maple") == []
    periods = json.loads(files["maple/ledger/public_income/periods.json"])
    assert [p["head_hash"] for p in periods] == [world["january"].head_hash, world["february"].head_hash]
    assert periods[0]["start_number"] == 0 and periods[1]["start_number"] == 2  # February's stretch holds #3
    january = json.loads(files["maple/ledger/public_income/2026-01-01_2026-01-31.json"])
    assert [e["number"] for e in january["entries"]] == [1, 2, 3]
    topics = {t["title"]: t for t in json.loads(files["maple/consultations/results.json"])}
    charging = topics["是否在东侧空地增设充电桩"]
    assert (charging["part_households"], charging["blank_households"]) == (5, 0)
    assert charging["passed"] is True and [o["households"] for o in charging["options"]] == [3, 1, 1]
    assert [o["label"] for o in charging["options"]] == ["同意", "不同意", "弃权"]
    assert [o["label"] for o in topics["第二届业委会委员选举"]["options"]] == ["候选人1", "候选人2", "候选人3"]
    resolutions = json.loads(files["maple/consultations/resolutions.json"])
    assert [(r["title"], r["body"]) for r in resolutions] == [("关于增设充电桩的决议公告", "业主大会表决通过，增设充电桩 10 个。")]


def test_nothing_personal_nothing_undecided_nothing_unpublished(client, world, compound, chair):
    march = service.submit(compound, chair, service.figures(compound, date(2026, 3, 1), date(2026, 3, 31)).closing)
    db.session.commit()
    assert march.status == PeriodStatus.submitted  # waiting for the supervisors: not disclosed yet
    files = unzip(client.get("/maple/open-data/all.zip").data)
    everything = b"".join(files.values()).decode("utf-8")
    for secret in (PERSON, *CANDIDATES, "是否更换物业公司", "三月的未公示收入"):
        assert secret not in everything
    for home in world["homes"]:
        assert home.address not in everything
    assert all(not name.startswith("maple/ledger/public_income/2026-03") for name in files)
    person = json.loads(files["maple/ledger/public_income/2026-01-01_2026-01-31.json"])["entries"][1]["fields"]
    assert (person["counterparty"], person["person"]) == ("个人", True)


def test_the_district_archive_holds_every_compound_and_verifies(client, world):
    response = client.get("/open-data/district.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    files = unzip(response.data)
    assert {name.split("/")[0] for name in files} == {"maple", "pine"}
    assert check_folder(files, "maple") == [] and check_folder(files, "pine") == []
    assert "consultations/results.json" not in _relative(files, "pine")  # no decided topic there: no file


def test_one_changed_byte_in_a_csv_amount_or_a_json_hash_is_caught(client, world):
    files = unzip(client.get("/maple/open-data/all.zip").data)
    name = "maple/ledger/public_income/2026-02-01_2026-02-28.csv"
    changed = dict(files)
    changed[name] = files[name].replace(b",300000,", b",300001,", 1)
    assert changed[name] != files[name]
    problems = check_folder(changed, "maple")
    assert f"{name}: its sha256 is not the manifest's" in problems
    assert "maple/ledger/public_income 2026-02-01 (CSV): entry 4 is not what was sealed" in problems
    # a forger who also rewrites the manifest is still caught by the chain
    manifest = files["maple/manifest.sha256"].replace(hashlib.sha256(files[name]).hexdigest().encode(),
                                                      hashlib.sha256(changed[name]).hexdigest().encode())
    changed["maple/manifest.sha256"] = manifest
    where = "maple/ledger/public_income 2026-02-01 (CSV)"
    assert check_folder(changed, "maple") == [f"{where}: entry 4 is not what was sealed",
                                              f"{where}: does not reach the signed code",
                                              f"{where}: the income does not add up"]

    name = "maple/ledger/public_income/2026-01-01_2026-01-31.json"
    segment = json.loads(files[name])
    stored = segment["entries"][0]["hash"]
    flipped = ("1" if stored[5] != "1" else "2")
    changed = dict(files)
    changed[name] = files[name].replace(stored.encode(), (stored[:5] + flipped + stored[6:]).encode())
    problems = check_folder(changed, "maple")
    assert f"{name}: its sha256 is not the manifest's" in problems
    assert "maple/ledger/public_income 2026-01-01: entry 1 is not what was sealed" in problems


def test_the_page_lists_the_files_and_each_one_downloads(client, world):
    page = client.get("/maple/open-data/")
    assert page.status_code == 200
    text = factories.text_of(page)
    assert "开放数据" in text and "2026-01-01 至 2026-01-31" in text and "已截止议题的表决结果" in text
    files = unzip(client.get("/maple/open-data/all.zip").data)
    for path, data in files.items():
        assert path.removeprefix("maple/") in page.get_data(as_text=True)
        one = client.get(f"/maple/open-data/files/{path.removeprefix('maple/')}")
        assert one.status_code == 200 and one.data == data
    assert client.get("/maple/open-data/files/../secret").status_code == 404
    assert client.get("/maple/open-data/files/ledger/public_income/2026-03-01_2026-03-31.json").status_code == 404
    assert "/maple/open-data/" in client.get("/maple/ledger/").get_data(as_text=True)
    assert "/maple/open-data/" in client.get("/maple/topics").get_data(as_text=True)
    assert "/open-data/" in client.get("/").get_data(as_text=True)
    wechat = {"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47"}  # can't save a file: says how instead
    inside = client.get("/maple/open-data/all.zip", headers=wechat)
    assert inside.status_code == 200 and inside.mimetype == "text/html"
    district = client.get("/open-data/")
    assert district.status_code == 200 and "松柏里小区" in factories.text_of(district)


def test_a_newly_published_period_changes_the_files_and_their_etag(client, world, compound, chair):
    before = client.get("/maple/open-data/all.zip")
    again = client.get("/maple/open-data/all.zip", headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304
    sups = [u for u in service.supervisors(compound)]
    factories.close_and_sign(compound, chair, sups, date(2026, 3, 1), date(2026, 3, 31))
    after = client.get("/maple/open-data/all.zip", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    files = unzip(after.data)
    assert "maple/ledger/public_income/2026-03-01_2026-03-31.csv" in files and check_folder(files, "maple") == []


@pytest.mark.sqlite_only  # the demo loads the same rows on both engines; one walk of its year is enough
def test_the_demos_year_of_three_books_verifies_from_the_district_archive(client):
    from kiosk.demo import load_demo

    summary = load_demo()
    files = unzip(client.get("/open-data/district.zip").data)
    folder = summary["slug"]
    assert {"public_income", "maintenance_fund", "working_funds"} <= {
        p.split("/")[2] for p in files if p.startswith(f"{folder}/ledger/")}
    assert f"{folder}/consultations/resolutions.json" in files
    assert check_folder(files, folder) == [] and check_folder(files, summary["other_slug"]) == []
