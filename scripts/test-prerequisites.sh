#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest hook): makes sure what the tests need from the system is there, installing
# it from Debian's packages when it is missing, so that the README's test command passes on a fresh machine.
#   - Chromium (/usr/bin/chromium) for the dashboard's browser test, driven by playwright-core.
#   - PostgreSQL 15+ on 127.0.0.1:5432 (database `test`, trusted on loopback) for the PostgreSQL store and the
#     replica tests, and Redis 7 on 127.0.0.1:6379 for push and shared limits across replicas. Each is checked;
#     when it does not answer it is started, and when it is not installed it is installed from Debian's packages
#     and set up as the tests expect. Tests that need them never skip: they fail saying what is unreachable.
#     TWINFED_TEST_PG_URL / TWINFED_TEST_REDIS_URL point the tests elsewhere; then nothing is started here.
set -euo pipefail

# Prints the prefix that runs a command as root ("" when root already, "sudo -n" when allowed), or fails saying why.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then echo ""; return; fi
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then echo "sudo -n"; return; fi
  echo "test prerequisites: $1 needs root and this user cannot sudo; $2" >&2
  exit 1
}

apt_install() {
  local sudo
  sudo=$(as_root "$* is missing" "run: sudo apt-get install -y $*")
  if ! command -v apt-get >/dev/null; then
    echo "test prerequisites: $* missing and there is no apt-get here; install $* with your system's package manager" >&2
    exit 1
  fi
  echo "test prerequisites: installing $* from Debian's packages (once)…" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >&2
}

if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi

# --- PostgreSQL ---------------------------------------------------------------------------------------------------
pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 -t 3 2>/dev/null; }

if [ -z "${TWINFED_TEST_PG_URL:-}" ]; then
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
    installed_pg=1
  fi
  if ! pg_answers; then
    sudo=$(as_root "PostgreSQL is not running" "start it: sudo pg_ctlcluster --skip-systemctl-redirect <version> main start")
    version=$(ls /etc/postgresql | sort -V | tail -1)
    echo "test prerequisites: starting PostgreSQL $version…" >&2
    $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
    for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  fi
  if [ "${installed_pg:-0}" = 1 ]; then
    # A fresh Debian cluster trusts nobody on TCP: trust loopback for the test database, as this project's machines do.
    sudo=$(as_root "setting up PostgreSQL" "allow 127.0.0.1 to database test in pg_hba.conf")
    version=$(ls /etc/postgresql | sort -V | tail -1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    $sudo sed -i '1i host test all 127.0.0.1/32 trust' "$hba"
    $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2
  fi
  if ! pg_answers; then
    echo "test prerequisites: PostgreSQL does not answer on 127.0.0.1:5432" >&2
    exit 1
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    sudo=$(as_root "creating database test" "run: sudo -u postgres createdb test")
    echo "test prerequisites: creating PostgreSQL database test…" >&2
    $sudo runuser -u postgres -- createdb test >&2
  fi
fi

# --- Redis --------------------------------------------------------------------------------------------------------
redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

if [ -z "${TWINFED_TEST_REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  if ! redis_answers; then
    sudo=$(as_root "Redis is not running" "start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379")
    echo "test prerequisites: starting Redis…" >&2
    $sudo mkdir -p /var/lib/redis /var/log/redis
    $sudo redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
    for _ in $(seq 1 30); do redis_answers && break; sleep 1; done
  fi
  if ! redis_answers; then
    echo "test prerequisites: Redis does not answer on 127.0.0.1:6379" >&2
    exit 1
  fi
fi
