#!/usr/bin/env bash
# Runs every test of onewindow: formatting, lints, and the whole test suite on
# SQLite and, when it can be reached or started here, PostgreSQL.
# Installs what it needs when missing. Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# PostgreSQL for the store and HTTP tests: use TEST_DATABASE_URL when given,
# else the local server on 127.0.0.1:5432, starting the cluster if it is down.
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

# Tools the tests read documents with (pdftotext, pdffonts).
need_packages=()
command -v pdftotext >/dev/null 2>&1 || need_packages+=(poppler-utils)
# The browser tests (crates/server/tests/browser.rs): Debian's headless
# chromium, its chromedriver, and a Chinese font for the pages' text.
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
[ -x /usr/bin/chromedriver ] || need_packages+=(chromium-driver)
if ! { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }; then
  need_packages+=(fonts-wqy-microhei)
fi
if [ "${#need_packages[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing ${need_packages[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_packages[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_packages[@]}" >/dev/null; } \
      || echo "could not install ${need_packages[*]}; the tests that need them say so" >&2
  else
    echo "missing ${need_packages[*]} (install with your package manager); the tests that need them say so" >&2
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
