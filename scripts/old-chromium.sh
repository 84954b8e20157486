#!/usr/bin/env bash
# Unpack the frozen Chromium builds that lobby WebViews really are (65 and 78) for the browser tests, from
# pinned npm tarballs whose sha256 is checked, into .cache/old-chromium/<engine>/chromium (git-ignored).
# A second run finds them there and downloads nothing. Needs npm, tar and brotli (./scripts/test installs them).
# Usage: scripts/old-chromium.sh [engine...]   (default: every engine below)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${KIOSK_OLD_CHROMIUM_DIR:-$ROOT/.cache/old-chromium}"

# engine | npm package | sha256 of the npm tarball | the brotli-packed browser inside it
# Keep in step with tests/browser/old_chromium.py (which knows the version each one reports).
PINS="
chrome65|chrome-aws-lambda@1.0.0|002366ee9bb2f48ea90aabeaa52745c8651062cd18ff0beef4f2f07fe48f28e6|package/bin/chromium-65.0.3312.0.br
chrome78|chrome-aws-lambda@1.20.4|aba7f1562247dda11a704f9bc41294e57a1e197eae31085842479e4c0b025144|package/bin/chromium.br
"

unpack() (
  # A subshell, so the EXIT trap removes this engine's download folder whatever happens.
  local engine="$1" package="$2" sha="$3" member="$4"
  local dest="$CACHE/$engine" stamp="$package $sha"
  if [ -x "$dest/chromium" ] && [ "$(cat "$dest/.source" 2>/dev/null)" = "$stamp" ]; then
    echo "old Chromium $engine: cached in $dest"
    return 0
  fi
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  local tarball
  tarball="$(cd "$work" && npm pack --silent "$package" | tail -n 1)"
  local actual; actual="$(sha256sum "$work/$tarball" | cut -d' ' -f1)"
  if [ "$actual" != "$sha" ]; then
    echo "old Chromium $engine: $package has sha256 $actual, expected $sha; not using it" >&2
    return 1
  fi
  tar -xzf "$work/$tarball" -C "$work" "$member"
  mkdir -p "$dest"
  brotli -d -c "$work/$member" > "$dest/chromium.part"
  chmod 755 "$dest/chromium.part"
  mv "$dest/chromium.part" "$dest/chromium"
  echo "$stamp" > "$dest/.source"
  echo "old Chromium $engine: unpacked $package into $dest"
)

for tool in npm tar brotli sha256sum; do
  command -v "$tool" >/dev/null || { echo "old Chromium: $tool is missing" >&2; exit 1; }
done
wanted=("$@")
status=0
while IFS='|' read -r engine package sha member; do
  [ -n "$engine" ] || continue
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $engine " ]]; then continue; fi
  unpack "$engine" "$package" "$sha" "$member" || status=1
done <<< "$PINS"
exit "$status"
