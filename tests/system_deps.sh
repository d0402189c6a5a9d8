#!/usr/bin/env bash
# Installs the system packages that tests and benchmarks use, when we may (root with apt-get, as in CI).
# Otherwise it says, in one line each, what to install; the tests that need a missing one skip themselves.
set -u
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
{ command -v node && command -v npm; } >/dev/null 2>&1 || need+=(nodejs npm)
# PostgreSQL server binaries (initdb, postgres) for the tests that run the store over PostgreSQL
{ ls /usr/lib/postgresql/*/bin/initdb || command -v initdb; } >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  stamp=/var/lib/apt/periodic/agentaudit-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
    apt-get update -qq >/dev/null 2>&1 && mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || echo "system_deps: could not install ${need[*]} with apt-get; the tests that need them will skip"
else
  for pkg in "${need[@]}"; do
    echo "system_deps: '$pkg' is not installed (sudo apt-get install $pkg); the tests and benchmarks that need it skip"
  done
fi
exit 0
