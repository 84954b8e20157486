"""Time and peak memory of importing a 5,000-household roll from CSV, as the committee's upload does.

    .venv/bin/python bench/import_roll.py [--rows 5000]

Runs the same parse + import the /admin/<compound>/households/import view runs, against a fresh SQLite
database in a temporary instance folder, and prints the figures (no baseline: this is a one-off job,
reported in seconds and MiB).
"""
import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_csv(rows):
    """A roll as Excel would save it: UTF-8 with BOM, Chinese headers, realistic values."""
    lines = ["楼栋,单元,室,面积,状态,业主标识,联系人,电话,备注"]
    n = 0
    building = 0
    while n < rows:
        building += 1
        for entrance in (1, 2):
            for floor in range(1, 19):
                for room in range(1, 5):
                    if n == rows:
                        break
                    lines.append(f"{building},{entrance},{floor}{room:02d},{60 + room * 13.37:.2f},自住,,"
                                 f"住户{n},139{n:08d},")
                    n += 1
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    from kiosk import create_app
    from kiosk.auth.models import User
    from kiosk.cli import migrate_to_head
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.households import rollfile, rollmap
    from kiosk.households.rollimport import import_rows

    folder = Path(tempfile.mkdtemp(prefix="kiosk-import-bench-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench-" + "x" * 40})
    data = make_csv(args.rows)
    with app.test_request_context("/", method="POST"):
        migrate_to_head()
        compound = Compound(slug="bench", name="测试小区")
        actor = User(username="bench", display_name="bench", password_hash="x")
        db.session.add_all([compound, actor])
        db.session.commit()
        tracemalloc.start()
        began = time.perf_counter()
        reading = rollmap.understand(rollfile.read_grid(data))
        parsed = time.perf_counter()
        problems = [row for row in reading.rows if row.why]
        assert not problems and not reading.missing, (problems[:3], reading.missing)
        added, updated, _unchanged = import_rows(compound, actor, [row.fields for row in reading.rows])
        db.session.commit()
        done = time.perf_counter()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CSV import of {args.rows} households ({len(data) / 1024:.0f} KB file): "
          f"parse {parsed - began:.2f} s, save {done - parsed:.2f} s, total {done - began:.2f} s; "
          f"peak Python allocations {peak / 2**20:.1f} MiB; process max RSS {rss:.0f} MiB; "
          f"added {added}, updated {updated}")


if __name__ == "__main__":
    main()
