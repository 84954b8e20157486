"""The open-data files of a compound, built from what its public pages already show: every disclosed ledger
period of every book (the period's stretch of the hash chain exactly as /<compound>/ledger/<id>/chain.json
serves it, and the same rows as CSV), every decided consultation's frozen result, and every resolution notice
with its follow-through. README.md (fields, units, the hashing recipe) and manifest.sha256 go with them.

Nothing here decides what is public: the ledger's evidence.segment seals what residents may not see (a recipe-1
entry naming a person, an entry dated in a period not yet disclosed), and a topic is here only once its result
is frozen. Election candidates are people, so their names stay on the compound's own result page.
"""
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ..consult.models import Kind, Status, Topic, TopicUpdate
from ..consult.tally import RULES, Rule
from ..exports import FORMULA_START
from ..extensions import db
from ..ledger import evidence
from ..ledger import service as ledger
from ..notices.models import Notice

README = Path(__file__).with_name("README.md")
MANIFEST = "manifest.sha256"
# A text cell a spreadsheet could run as a formula gets a "'" in front; so does text that starts with "'", so
# anyone can undo it exactly: a text cell starting with "'" had one added (README.md says so).
QUOTED = FORMULA_START + ("'",)
ENTRY_COLUMNS = ("number", "in_period", "prev_hash", "hash", "sealed", "digest", "compound", "kind", "occurred_on",
                 "category", "category_name", "amount_fen", "description", "counterparty", "person", "method",
                 "topic", "reverses", "posted_at", "book", "building", "transfer", "v", "counterparty_digest")
PERIOD_COLUMNS = ("book", "id", "starts_on", "ends_on", "published_at", "start_number", "start_hash",
                  "head_number", "head_hash", "opening_fen", "income_fen", "expense_fen", "closing_fen",
                  "entry_count", "file")
SINGLE_CHOICE = (Kind.yesno, Kind.single)  # a ballot supports at most one option: the rest is blank or spoiled


@dataclass(frozen=True)
class OpenFile:
    """One file of the open data: its path inside the archive, its bytes, and the day it last changed."""

    path: str
    data: bytes
    changed: str  # YYYY-MM-DD (UTC) of what it holds, for the page's list

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()


def utc(moment):
    """A stored moment as UTC ISO 8601 (2026-06-18T02:32:00Z), or None."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def json_bytes(data):
    """JSON as anyone reads it: UTF-8 characters as they are, indented, a newline at the end."""
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def cell(value):
    """A CSV cell: empty for None, true/false, numbers as digits, text with the reversible formula guard."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in QUOTED else text


def csv_bytes(columns, rows):
    """CSV with a header row, UTF-8 with a BOM and CRLF line ends (as Excel in China opens it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- the ledger ----------------------------------------------------------------------------------------------

def _entry_row(entry):
    """A segment entry as one CSV row: its link, and its sealed fields where they are public."""
    row = {name: entry.get(name) for name in ("number", "in_period", "prev_hash", "hash", "sealed", "digest")}
    row["category_name"] = entry.get("category_name")
    row.update(entry.get("fields") or {})
    return row


def ledger_files(compound):
    """For each opened book: periods.csv/json and, per disclosed period, its chain stretch as JSON and CSV."""
    files = []
    for opened in ledger.books(compound):
        with ledger.using_book(opened.kind):
            kind = str(opened.kind)
            periods = []
            for period in reversed(ledger.periods(compound, published_only=True)):
                segment = evidence.segment(compound, period)
                stem = f"ledger/{kind}/{period.starts_on.isoformat()}_{period.ends_on.isoformat()}"
                day = (period.published_at or period.submitted_at).date().isoformat() if (
                    period.published_at or period.submitted_at) else period.ends_on.isoformat()
                files.append(OpenFile(f"{stem}.json", json_bytes(segment), day))
                files.append(OpenFile(f"{stem}.csv", csv_bytes(ENTRY_COLUMNS, map(_entry_row, segment["entries"])),
                                      day))
                periods.append({**segment["period"], "book": kind, "published_at": utc(period.published_at),
                                "start_number": segment["start"]["number"], "start_hash": segment["start"]["hash"],
                                "file": f"{stem}.json"})
            if periods:
                day = max(f.changed for f in files if f.path.startswith(f"ledger/{kind}/"))
                files.append(OpenFile(f"ledger/{kind}/periods.json", json_bytes(periods), day))
                files.append(OpenFile(f"ledger/{kind}/periods.csv", csv_bytes(PERIOD_COLUMNS, periods), day))
    return files


# --- consultations -------------------------------------------------------------------------------------------

def decided_topics(compound):
    """The compound's topics whose result is frozen (closed or carried out), oldest first."""
    return db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.status.in_([Status.closed, Status.done]),
        Topic.result.is_not(None)).order_by(Topic.closes_at, Topic.id)).all()


def _option_label(topic, position, key):
    """What an option is called in the open data: an election's candidates are people, so only their place."""
    if topic.kind == Kind.election:
        return f"候选人{position}"
    return topic.label_of(key)


def _result(topic):
    """A decided topic's frozen figures (counts; areas in 0.01 m²) and, where a ballot supports one option at
    most, what the blank or spoiled ballots were, so the options' figures add up to the participation."""
    frozen = topic.result
    spec = RULES[Rule(topic.rule)]
    options = [{"key": o["key"], "label": _option_label(topic, i, o["key"]), "households": o["households"],
                "area_centi": o["area_centi"], "heads": o["heads"], "approved": o["approved"]}
               for i, o in enumerate(frozen["options"], start=1)]
    data = {
        "id": topic.id, "title": topic.title, "kind": topic.kind, "rule": topic.rule, "seats": frozen["seats"],
        "secret": bool(topic.secret), "electorate": topic.electorate_label or "全体",
        "opens_at": utc(topic.opens_at), "closes_at": utc(topic.closes_at), "closed_at": utc(topic.closed_at),
        "status": topic.status,
        "quorum": None if spec.quorum is None else [spec.quorum.numerator, spec.quorum.denominator],
        "approval": None if spec.approval is None else [spec.approval.numerator, spec.approval.denominator],
        "approval_strict": spec.strict,
        **{name: frozen[name] for name in ("total_households", "total_area_centi", "total_heads", "part_households",
                                           "part_area_centi", "part_heads", "passed")},
        "winners": [o["label"] for o in options if o["key"] in frozen["winners"]],
        "options": options, "fingerprint": topic.fingerprint,
    }
    if topic.kind in SINGLE_CHOICE:
        for name in ("households", "area_centi", "heads"):
            data[f"blank_{name}"] = frozen[f"part_{name}"] - sum(o[name] for o in options)
    return data


RESULT_COLUMNS = ("topic", "title", "kind", "rule", "secret", "electorate", "closes_at", "closed_at",
                  "total_households", "total_area_centi", "total_heads", "part_households", "part_area_centi",
                  "part_heads", "blank_households", "blank_area_centi", "blank_heads", "option", "label",
                  "households", "area_centi", "heads", "approved", "passed", "fingerprint")


def _result_rows(results):
    """One CSV row per option of each decided topic, with the topic's totals on every row."""
    for topic in results:
        shared = {name: topic.get(name) for name in RESULT_COLUMNS if name in topic}
        shared["topic"] = topic["id"]
        for option in topic["options"]:
            yield {**shared, "option": option["key"], **{k: v for k, v in option.items() if k != "key"}}


def _resolution(topic):
    """A decided topic's resolution notice (决议公告) and follow-through, or None before there is one. An
    election's notice names the people elected: only its title and date here."""
    notice = db.session.get(Notice, topic.resolution_notice_id) if topic.resolution_notice_id else None
    if notice is None or notice.published_at is None:
        return None
    named = topic.kind == Kind.election
    return {"topic": topic.id, "topic_title": topic.title, "title": notice.title,
            "published_at": utc(notice.published_at), "body": None if named else notice.body,
            "done_at": utc(topic.done_at),
            "updates": [{"at": utc(u.created_at), "body": None if named else u.body}
                        for u in db.session.scalars(select(TopicUpdate).where(TopicUpdate.topic_id == topic.id)
                                                    .order_by(TopicUpdate.id))]}


RESOLUTION_COLUMNS = ("topic", "topic_title", "title", "published_at", "body", "done_at", "updates")


def consult_files(compound):
    """results.json/csv of every decided topic and resolutions.json/csv of their resolution notices."""
    topics = decided_topics(compound)
    if not topics:
        return []
    results = [_result(t) for t in topics]
    resolutions = [r for r in map(_resolution, topics) if r is not None]
    day = max(utc(t.closed_at or t.closes_at) for t in topics)[:10]
    files = [OpenFile("consultations/results.json", json_bytes(results), day),
             OpenFile("consultations/results.csv", csv_bytes(RESULT_COLUMNS, _result_rows(results)), day)]
    if resolutions:
        day = max(max([r["published_at"]] + [u["at"] for u in r["updates"]]) for r in resolutions)[:10]
        rows = [{**r, "updates": "\n".join(f"{u['at']} {u['body'] or ''}".strip() for u in r["updates"])}
                for r in resolutions]
        files += [OpenFile("consultations/resolutions.json", json_bytes(resolutions), day),
                  OpenFile("consultations/resolutions.csv", csv_bytes(RESOLUTION_COLUMNS, rows), day)]
    return files


# --- the whole set -------------------------------------------------------------------------------------------

def manifest(files):
    """sha256sum's format, so `sha256sum -c manifest.sha256` checks every file."""
    return "".join(f"{f.sha256}  {f.path}\n" for f in files).encode("utf-8")


def compound_files(compound):
    """Every open-data file of the compound, README.md and the manifest last (the manifest covers the others)."""
    files = ledger_files(compound) + consult_files(compound)
    day = max([f.changed for f in files] or [compound.created_at.date().isoformat()])
    files.append(OpenFile("README.md", README.read_bytes(), day))
    files.append(OpenFile(MANIFEST, manifest(files), day))
    return files


def zip_bytes(folders):
    """A ZIP of {folder: files}; fixed timestamps, so the same data gives the same archive byte for byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, files in folders.items():
            for f in files:
                info = zipfile.ZipInfo(f"{folder}/{f.path}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, f.data)
    return out.getvalue()
