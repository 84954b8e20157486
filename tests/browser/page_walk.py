"""The page list of test_every_page.py, read from the app's url_map, and what it measures on each page.

Every GET route is either walked (as a phone, a committee or a lobby-screen page) or named in NOT_PAGES with
the reason it is not a page people read; a new route that is neither fails the walk until someone decides.
URL arguments are filled from the security tests' world (security_support.build_world), which every new
route must teach anyway, so a new page is walked the day it is added.
"""
import re

from security_support import ROUTE_APP, fill

# GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "static": "files (css, js, images)",
    "media.image": "an uploaded image",
    "screen.qr": "an SVG QR code",
    "screen.pulse": "the screens' poll (empty or a hidden element)",
    "screen.banner": "a fragment of the screen page (walked inside it)",
    "screen.slides": "a fragment of the screen page (walked inside it)",
    "screen.worker": "the screen's service worker script",
    "health.healthz": "JSON for monitoring",
    "i18n.choose": "sets the language cookie and redirects",
    "i18n.choose_large": "sets the large-type cookie and redirects",
    "ledger.head_json": "JSON for the phone's ledger memory",
    "ledger.chain_json": "JSON for the phone check",
    "opendata.archive": "a ZIP download (open data)",
    "opendata.file": "an open-data file (CSV, JSON, README, manifest)",
    "opendata_district.district_archive": "a ZIP download (the district's open data)",
    "distribution_admin.export": "a CSV download",
    "households_admin.export_csv": "a CSV download",
    "households_admin.import_sample": "an XLSX download (the sample roll)",
    "ledger_admin.export_csv": "a CSV download",
    "ledger_admin.export_xlsx": "an XLSX download",
    "consult_admin.export_ballots": "a CSV download",
    "consult_admin.export_results": "a CSV or XLSX download",
    "consult_admin.export_platform": "a CSV download (for the city's e-voting platform)",
    "documents_admin.export": "a CSV download",
    "ledger_admin.building_csv": "a CSV download (one building's maintenance-fund statement)",
    "card.open": "opens a household card and redirects (the walk opens it first, as a resident does)",
}
# Printed sheets (A4, black on white) are read on paper, not on a phone: axe runs, the large-type sizes don't.
PRINTED = {"screen_admin.poster", "ledger_admin.print_notice", "consult.resolution_print", "consult_admin.reminder_sheet",
           "consult_admin.reminder_slips", "meetings_admin.notice", "consult_admin.ballot_sheets",
           "consult_admin.receipts", "consult_admin.procedure_record_page",
           "ledger_admin.building_print", "setup_admin.kit"}
ANONYMOUS_ADMIN = {"auth.login"}  # the committee's login form: for visitors who are not logged in
KIOSK = re.compile(r"^/<compound>/(screen|kiosk)/")


def walked_routes():
    """[(kind, endpoint, rule)] for every GET page: kind is phone, admin, login or kiosk."""
    routes = []
    for rule in sorted(ROUTE_APP.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint in ANONYMOUS_ADMIN:
            kind = "login"
        elif rule.rule.startswith("/admin"):
            kind = "admin"
        elif KIOSK.match(rule.rule):
            kind = "kiosk"
        else:
            kind = "phone"
        routes.append((kind, rule.endpoint, rule.rule))
    return routes


def path_of(rule, values):
    """The URL of a rule in the world (any() arguments take their first value)."""
    found = next(r for r in ROUTE_APP.url_map.iter_rules() if r.rule == rule)
    fixed = {arg: sorted(conv.items)[0] for arg, conv in found._converters.items() if hasattr(conv, "items")}
    return fill(rule, values, fixed)


# What a person with weak eyes or thick fingers meets on the page as it is now (Chromium 65 syntax, so the
# kiosk journeys can run it too): visible text under min_text px, and visible targets under min_target px
# either way (a radio or checkbox counts as its label). Text is looked for inside `scope`.
SIZES_JS = """(a) => {
  function shown(el) {
    if (!el.getClientRects().length) return false;
    // A closed <details> still lays its content out (content-visibility), but nobody sees or taps it.
    var closed = el.closest("details:not([open])");
    if (closed && !el.closest("summary")) return false;
    var cs = getComputedStyle(el);
    return cs.visibility !== "hidden" && cs.display !== "none";
  }
  function where(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    var c = (el.getAttribute("class") || "").trim();
    if (c) s += "." + c.split(/\\s+/).join(".");
    return s;
  }
  var small = [], tiny = [];
  var scopes = document.querySelectorAll(a.scope);
  Array.prototype.forEach.call(scopes, function (root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, null, false);
    var node;
    while ((node = walker.nextNode())) {
      var text = node.nodeValue.replace(/\\s+/g, " ").trim();
      var el = node.parentElement;
      if (!text || !el || !shown(el) || el.closest("svg, script, style")) continue;
      var px = parseFloat(getComputedStyle(el).fontSize);
      if (px < a.minText - 0.01) small.push(where(el) + " " + px.toFixed(1) + "px: " + text.slice(0, 30));
    }
  });
  var targets = document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary");
  Array.prototype.forEach.call(targets, function (el) {
    if (el.closest("[hidden], .skip")) return;
    var target = el;
    if (el.matches("input[type=radio], input[type=checkbox]")) target = el.closest("label") || el;
    if (!shown(target)) return;
    var r = target.getBoundingClientRect();
    if (r.width < a.minTarget - 0.5 || r.height < a.minTarget - 0.5) {
      tiny.push(where(target) + " " + Math.round(r.width) + "×" + Math.round(r.height) + ": "
                + (target.innerText || target.value || target.getAttribute("aria-label") || "").trim().slice(0, 30));
    }
  });
  return {small: small, tiny: tiny};
}"""
