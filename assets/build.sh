#!/usr/bin/env bash
# Rebuild the vendored front-end files in ../static from GOV.UK Frontend.
# Node/npm are needed only for this script, never to run or test the app.
#
#   static/css/vigtrain.min.css          compiled from assets/vigtrain.scss
#   static/js/govuk-frontend.min.js      copied from govuk-frontend
#   static/LICENSES/govuk-frontend-LICENSE.txt
#   static/govuk/images/*                only images the compiled CSS references
set -euo pipefail

ASSETS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATIC_DIR="$(cd "$ASSETS_DIR/.." && pwd)/static"
cd "$ASSETS_DIR"

npm ci --no-audit --no-fund --ignore-scripts

GOVUK_DIR="node_modules/govuk-frontend"
GOVUK_DIST="$GOVUK_DIR/dist/govuk"
CSS_OUT="$STATIC_DIR/css/vigtrain.min.css"

mkdir -p "$STATIC_DIR/css" "$STATIC_DIR/js" "$STATIC_DIR/LICENSES"

# 1. CSS (script in package.json: sass --style=compressed --no-source-map)
npm run --silent build:css

# 2. JavaScript (ES module exporting initAll etc.)
cp "$GOVUK_DIST/govuk-frontend.min.js" "$STATIC_DIR/js/govuk-frontend.min.js"

# 3. Licence. The npm tarball of govuk-frontend ships no LICENSE file (its
#    package.json says "MIT"); fall back to our copy of the upstream text.
licence_src=""
for f in "$GOVUK_DIR"/LICEN[CS]E*; do
  [ -f "$f" ] && { licence_src="$f"; break; }
done
cp "${licence_src:-$ASSETS_DIR/licenses/govuk-frontend-LICENSE.txt}" \
  "$STATIC_DIR/LICENSES/govuk-frontend-LICENSE.txt"

# 4. Sanity checks on the compiled CSS and copy only the images it references.
if grep -q "GDS Transport" "$CSS_OUT"; then
  echo "build.sh: compiled CSS still references GDS Transport" >&2; exit 1
fi
if grep -Eq '\.woff2?' "$CSS_OUT"; then
  echo "build.sh: compiled CSS references web fonts" >&2; exit 1
fi

rm -rf "$STATIC_DIR/govuk"
refs="$(grep -o 'url([^)]*)' "$CSS_OUT" | sort -u || true)"
while IFS= read -r ref; do
  [ -n "$ref" ] || continue
  path="${ref#url(}"; path="${path%)}"; path="${path//\"/}"; path="${path//\'/}"
  case "$path" in
    data:*) continue ;;
    /static/govuk/images/*) name="${path#/static/govuk/images/}" ;;
    *) echo "build.sh: unexpected url() in CSS: $ref" >&2; exit 1 ;;
  esac
  case "$name" in
    favicon*|govuk-icon-*|govuk-crest*|*crown*|manifest.json|govuk-opengraph-image*)
      echo "build.sh: CSS references a GOV.UK-only image: $name" >&2; exit 1 ;;
  esac
  mkdir -p "$STATIC_DIR/govuk/images"
  cp "$GOVUK_DIST/assets/images/$name" "$STATIC_DIR/govuk/images/$name"
  echo "copied image $name"
done <<< "$refs"

echo "built $CSS_OUT ($(wc -c < "$CSS_OUT") bytes)"
