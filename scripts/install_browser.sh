#!/usr/bin/env bash
# Install what tests/test_browser.py needs: Debian's chromium (never a browser
# downloaded by a test tool) and Playwright's Python package in the venv.
# Idempotent: does nothing that is already done.
#
#   scripts/install_browser.sh [VENV]      # VENV defaults to .venv
#
# Needs root (or sudo) for apt-get when chromium is missing.
set -euo pipefail

VENV="${1:-.venv}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# fonts-ipafont-gothic: the Japanese terms of the notebooks render as glyphs, not boxes, in screenshots
APT_PACKAGES=(chromium fonts-dejavu-core fonts-ipafont-gothic)

log() { printf '[install_browser] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    echo "install_browser.sh: no venv at '$VENV' (expected $VENV/bin/python); run 'make setup' first" >&2
    exit 1
fi

# --- chromium from Debian -------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ] && [ -x "$CHROMIUM" ]; then
    log "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo"
        else
            echo "install_browser.sh: need root to apt-get install ${missing[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    start=$(date +%s)
    # apt-get update only when the package lists do not know chromium yet
    if ! apt-cache show chromium >/dev/null 2>&1 \
        || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ]; then
        log "apt-get update"
        $SUDO apt-get update -q
    fi
    log "apt-get install ${missing[*]:-chromium}"
    if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]:-chromium}"; then
        # stale lists (404 on a superseded .deb): refresh once and retry
        log "install failed; apt-get update and retry"
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q --no-install-recommends "${missing[@]:-chromium}"
    fi
    log "chromium installed in $(( $(date +%s) - start )) s: $("$CHROMIUM" --version 2>/dev/null || echo '?')"
fi

# --- Playwright (Python package only; its browser download is not used) ----
if "$VENV/bin/python" -c "import playwright.sync_api" >/dev/null 2>&1; then
    log "playwright already in $VENV: $("$VENV/bin/python" -m pip show playwright 2>/dev/null | sed -n 's/^Version: //p')"
else
    log "pip install playwright into $VENV"
    "$VENV/bin/python" -m pip install -q "playwright>=1.40,<2"
fi

log "ok"
