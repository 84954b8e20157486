#!/usr/bin/env bash
# Reproduce static/vendor/htmx-<version>.min.js from the package published on the npm registry.
# npm verifies the tarball against the registry's integrity hash; we record the file's sha256.
set -euo pipefail
VERSION="${1:-2.0.11}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
tarball="$(npm pack --silent "htmx.org@${VERSION}")"
tar -xzf "$tarball"
dest="$here/static/vendor"
mkdir -p "$dest"
cp package/dist/htmx.min.js "$dest/htmx-${VERSION}.min.js"
cp package/LICENSE "$dest/htmx-LICENSE.txt"
integrity="$(npm view "htmx.org@${VERSION}" dist.integrity)"
sha="$(sha256sum "$dest/htmx-${VERSION}.min.js" | cut -d' ' -f1)"
cat > "$dest/htmx.VERSION" <<INFO
package: htmx.org
version: ${VERSION}
source: npm registry tarball ${tarball} (dist.integrity ${integrity})
file: package/dist/htmx.min.js -> static/vendor/htmx-${VERSION}.min.js
license: BSD Zero Clause (0BSD), see htmx-LICENSE.txt
sha256: ${sha}
INFO
echo "htmx ${VERSION} -> static/vendor/htmx-${VERSION}.min.js sha256 ${sha}"
