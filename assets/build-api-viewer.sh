#!/usr/bin/env bash
# Vendor the API reference viewer (Swagger UI) into ../static/vendor/swagger-ui.
# Node/npm are needed only for this script, never to run or test the app.
#
#   static/vendor/swagger-ui/swagger-ui-bundle.js              the viewer (React and its parts, bundled)
#   static/vendor/swagger-ui/swagger-ui.css                    its styles
#   static/vendor/swagger-ui/LICENSE, NOTICE                   Apache-2.0 licence and notice
#   static/vendor/swagger-ui/swagger-ui-bundle.js.LICENSE.txt  licences of what the bundle includes
#
# The standalone preset is left out on purpose: it adds a top bar with an inline <style>, which the
# Content-Security-Policy forbids. /api/v1/docs starts the viewer from static/js/api-docs.js.
set -euo pipefail

VERSION="5.35.0"
INTEGRITY="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="

ASSETS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$(cd "$ASSETS_DIR/.." && pwd)/static/vendor/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack "swagger-ui-dist@$VERSION" --silent > /dev/null
TARBALL="swagger-ui-dist-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "build-api-viewer.sh: $TARBALL does not match the pinned integrity" >&2; exit 1
fi
tar xzf "$TARBALL"

rm -rf "$TARGET"
mkdir -p "$TARGET"
for file in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  cp "package/$file" "$TARGET/$file"
done
# The bundle ends with a source map comment; the map is not vendored, so drop the comment.
sed -i '/^\/\/# sourceMappingURL=/d' "$TARGET/swagger-ui-bundle.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$TARGET/swagger-ui.css"

echo "vendored swagger-ui-dist $VERSION into $TARGET"
