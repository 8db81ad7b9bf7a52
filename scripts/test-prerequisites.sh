#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest hook): makes sure what the tests need from the system is there, installing
# it from Debian's packages when it is missing, so that the README's test command passes on a fresh machine.
#   - Chromium (/usr/bin/chromium) for the dashboard's browser test, driven by playwright-core.
set -euo pipefail

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "test prerequisites: $* missing and this user cannot install Debian packages; run: sudo apt-get install -y $*" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "test prerequisites: $* missing and there is no apt-get here; install $* with your system's package manager" >&2
    exit 1
  fi
  echo "test prerequisites: installing $* from Debian's packages (once)…" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >&2
}

if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
