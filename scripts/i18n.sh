#!/usr/bin/env bash
# Extract UI strings (Chinese msgids), merge them into the English catalog, and compile it.
# Usage: scripts/i18n.sh            (extract + update + compile)
#        scripts/i18n.sh compile    (compile only)
set -euo pipefail
cd "$(dirname "$0")/.."
BABEL=".venv/bin/pybabel"
CATALOGS=kiosk/translations
if [ "${1:-}" != "compile" ]; then
  "$BABEL" extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
    --project=community-kiosk -o "$CATALOGS/messages.pot" .
  if [ -f "$CATALOGS/en/LC_MESSAGES/messages.po" ]; then
    "$BABEL" update -i "$CATALOGS/messages.pot" -d "$CATALOGS" -l en --no-fuzzy-matching
  else
    "$BABEL" init -i "$CATALOGS/messages.pot" -d "$CATALOGS" -l en
  fi
fi
"$BABEL" compile -d "$CATALOGS" --statistics
