#!/usr/bin/env bash
# Reproduce static/vendor/htmx-<version>-<target>.min.js from the package published on the npm registry:
# its dist/htmx.min.js, lowered by the pinned esbuild (package.json / package-lock.json) to the syntax of the
# oldest engine we support, Chromium 65 (frozen Android WebViews in lobbies), so `?.`, `??` and the like
# never reach a browser that cannot parse them. npm verifies the tarball against the registry's integrity
# hash; we record both files' sha256, the tool and the target in static/vendor/htmx.VERSION. In front of it goes
# scripts/htmx-compat.js (the two ES2019 built-ins htmx calls that Chromium 65 lacks), minified by the same esbuild.
# Run `npm ci` first (it installs the pinned esbuild). Usage: scripts/vendor-htmx.sh [version]
set -euo pipefail
VERSION="${1:-2.0.11}"
TARGET="chrome65"
here="$(cd "$(dirname "$0")/.." && pwd)"
esbuild="$here/node_modules/.bin/esbuild"
pinned="$(node -p "require('$here/package.json').devDependencies.esbuild")"
[ -x "$esbuild" ] || { echo "esbuild not installed: run npm ci" >&2; exit 1; }
tool_version="$("$esbuild" --version)"
compat="$here/scripts/htmx-compat.js"
[ "$tool_version" = "$pinned" ] || { echo "esbuild $tool_version installed, package.json pins $pinned: run npm ci" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
tarball="$(npm pack --silent "htmx.org@${VERSION}")"
tar -xzf "$tarball"
dest="$here/static/vendor"
out="htmx-${VERSION}-${TARGET}.min.js"
mkdir -p "$dest"
rm -f "$dest"/htmx-*.min.js
banner="$("$esbuild" "$compat" --target="$TARGET" --minify --legal-comments=none --log-level=warning)"
"$esbuild" package/dist/htmx.min.js --target="$TARGET" --minify --legal-comments=none --log-level=warning \
  --banner:js="$banner" --outfile="$dest/$out"
cp package/LICENSE "$dest/htmx-LICENSE.txt"
integrity="$(npm view "htmx.org@${VERSION}" dist.integrity)"
source_sha="$(sha256sum package/dist/htmx.min.js | cut -d' ' -f1)"
compat_sha="$(sha256sum "$compat" | cut -d' ' -f1)"
sha="$(sha256sum "$dest/$out" | cut -d' ' -f1)"
cat > "$dest/htmx.VERSION" <<INFO
package: htmx.org
version: ${VERSION}
source: npm registry tarball ${tarball} (dist.integrity ${integrity})
source file: package/dist/htmx.min.js
source sha256: ${source_sha}
tool: esbuild ${tool_version} (npm, pinned in package.json and package-lock.json)
command: esbuild package/dist/htmx.min.js --target=${TARGET} --minify --legal-comments=none --banner:js=<compat>
compat: scripts/htmx-compat.js (sha256 ${compat_sha}), minified by the same esbuild and put in front: Array.prototype.flat (Chromium 69) and Object.fromEntries (73), which htmx calls
target: ${TARGET}
file: static/vendor/${out}
license: BSD Zero Clause (0BSD), see htmx-LICENSE.txt
sha256: ${sha}
INFO
echo "htmx ${VERSION} (sha256 ${source_sha}) -> static/vendor/${out} for ${TARGET}, sha256 ${sha}"
