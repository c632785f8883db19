#!/usr/bin/env bash
# Screenshots of onewindow's main pages, each at desktop (1280 px) and phone
# (390 px) width, as PNG files in docs/screenshots/ (or the directory given):
# builds, creates a demo county in a temporary SQLite file, serves it on a
# free port, runs the browser test `screenshots` against it (headless
# chromium, as in scripts/test.sh), and stops the server.
#
#   scripts/screenshots.sh [DIR]      DEMO_CASES=N to change the demo's size
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-docs/screenshots}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cases="${DEMO_CASES:-2000}"

say() { printf '\n== %s\n' "$*"; }

for program in /usr/bin/chromium /usr/bin/chromedriver; do
  if [ ! -x "$program" ]; then
    echo "missing $program: run scripts/test.sh (it installs chromium and chromium-driver)" >&2
    exit 1
  fi
done

# Chromium's own texts in Chinese (file choosers, date fields), as the
# county's people see them; the screenshots are taken without it otherwise.
if [ ! -e /usr/lib/chromium/locales/zh-CN.pak ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing chromium-l10n"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium-l10n >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium-l10n >/dev/null; } \
      || echo "could not install chromium-l10n: chromium's own texts stay in English" >&2
  else
    echo "chromium-l10n is missing: chromium's own texts stay in English" >&2
  fi
fi

say "building"
cargo build --locked -p onewindow-cli
cargo test --locked -p onewindow-server --test browser --no-run

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

database="sqlite:$work/demo.db"
say "creating a demo county ($cases cases) in $work/demo.db"
target/debug/onewindow demo --no-serve --cases "$cases" --database-url "$database" >"$work/demo.log"
tail -n 20 "$work/demo.log"

say "serving it"
# Port 0: the server picks a free port and prints its address.
target/debug/onewindow serve --database-url "$database" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
base=""
for _ in $(seq 1 600); do
  base="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n 1 || true)"
  [ -n "$base" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$work/serve.log" >&2
    echo "the demo server stopped" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$base" ]; then
  cat "$work/serve.log" >&2
  echo "the demo server did not start within a minute" >&2
  exit 1
fi
echo "demo server at $base"

say "screenshots into $out"
ONEWINDOW_SCREENSHOTS="$out" ONEWINDOW_SCREENSHOT_BASE="$base" \
  cargo test --locked -p onewindow-server --test browser -- --ignored --exact screenshots --nocapture

ls -l "$out"/*.png
