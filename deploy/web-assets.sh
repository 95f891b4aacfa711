#!/usr/bin/env bash
# Fetches the third-party browser assets the pages serve (the AsyncAPI React component behind
# /asyncapi; Swagger UI and ReDoc behind every service's /docs and /redoc; htmx 2 and the Thai font Noto Sans Thai (SIL Open Font License 1.1, its LICENSE
# file beside it) for the web app; the same font for the notifier's live page) and the browser
# tests use (axe-core, injected by the accessibility checks, never served) from the npm
# registry, checks each tarball against the version and sha512
# pinned below (our lock for them), and unpacks the files needed into the vendor folders below
# (gitignored; shared/static/vendor/ for what every service serves: shared/api_docs.py). They are not committed: the pages load nothing from the internet, and the
# repository holds only our own code. Needs npm (and its node). Idempotent.
# Usage: deploy/web-assets.sh [repository root]   (the Dockerfile runs it in a node stage)
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# name@version | integrity (npm view <name>@<version> dist.integrity) | vendor folder | files
assets=(
  "@asyncapi/react-component@3.1.5|sha512-Aq4I++uX6lOWxgBn+D7ly/GXasHjVcORz8eIGii8RgFjZ0i8mDth6LjFHb/yHVr3ANxLFLodXUgwEBhcSvfV/Q==|services/referral/static/vendor/asyncapi-react-component-3.1.5|LICENSE styles/default.min.css browser/standalone/index.js browser/standalone/index.js.LICENSE.txt"
  "htmx.org@2.0.11|sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==|services/referral/static/vendor/htmx-2.0.11|LICENSE dist/htmx.min.js"
  "@fontsource/noto-sans-thai@5.3.0|sha512-ngqUyvDukkZUHypQbUJvUdAeYa2aYZsyeDTsdqMudf7GK2F2TK19OZ5kbo+37qsBtkNpmAMhEObQnWnzPqzKUw==|services/referral/static/vendor/noto-sans-thai-5.3.0|LICENSE files/noto-sans-thai-thai-400-normal.woff2 files/noto-sans-thai-thai-700-normal.woff2"
  "@fontsource/noto-sans-thai@5.3.0|sha512-ngqUyvDukkZUHypQbUJvUdAeYa2aYZsyeDTsdqMudf7GK2F2TK19OZ5kbo+37qsBtkNpmAMhEObQnWnzPqzKUw==|services/notifier/static/vendor/noto-sans-thai-5.3.0|LICENSE files/noto-sans-thai-thai-400-normal.woff2 files/noto-sans-thai-thai-700-normal.woff2"
  # The accessibility checker the browser tests inject into pages (never served by the app).
  "axe-core@4.14.1|sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==|tests/browser/vendor/axe-core-4.14.1|LICENSE axe.min.js"
  "swagger-ui-dist@5.35.0|sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==|shared/static/vendor/swagger-ui-dist-5.35.0|LICENSE swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png"
  "redoc@2.5.4|sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==|shared/static/vendor/redoc-2.5.4|LICENSE bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt"
)

for asset in "${assets[@]}"; do
  IFS='|' read -r spec integrity folder files <<<"$asset"
  target="$root/$folder"
  if [ -f "$target/.integrity" ] && [ "$(cat "$target/.integrity")" = "$integrity" ]; then
    continue
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  tarball="$(cd "$work" && npm pack "$spec" --silent)"
  actual="sha512-$(node -e '
    const crypto = require("crypto"), fs = require("fs");
    process.stdout.write(crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));
  ' "$work/$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "web-assets: $spec does not match its pinned sha512 (got $actual): refused" >&2
    exit 1
  fi
  members=()
  for file in $files; do members+=("package/$file"); done
  tar -xzf "$work/$tarball" -C "$work" "${members[@]}"
  rm -rf "$target" && mkdir -p "$target"
  for file in $files; do cp "$work/package/$file" "$target/$(basename "$file")"; done
  echo "$integrity" >"$target/.integrity"
  echo "web-assets: $spec -> $folder"
  rm -rf "$work"
  trap - EXIT
done
