#!/usr/bin/env bash
# Install what tests/test_hub.py and hub/jupyterhub_config.py need besides the Python packages
# (jupyterhub is pinned in pyproject.toml): configurable-http-proxy from the npm registry, into
# the venv (VENV/chp/), linked as VENV/bin/configurable-http-proxy so that the hub finds it on
# the PATH the Makefile exports. Nothing is installed globally. Idempotent.
#
#   scripts/install_hub.sh [VENV]      # VENV defaults to .venv
set -euo pipefail

VENV="${1:-.venv}"
CHP_VERSION="5.3.0"  # the version checked with JupyterHub 6.1.1
PREFIX="$VENV/chp"
LINK="$VENV/bin/configurable-http-proxy"

log() { printf '[install_hub] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    echo "install_hub.sh: no venv at '$VENV'; run 'make setup' first" >&2
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install_hub.sh: npm not found; install Node.js 20 (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

installed="$(cd "$PREFIX" 2>/dev/null && npm ls --depth=0 --parseable --long configurable-http-proxy 2>/dev/null | sed -n 's/.*:configurable-http-proxy@\([^:]*\).*/\1/p' | head -1 || true)"
if [ "$installed" = "$CHP_VERSION" ] && [ -x "$LINK" ]; then
    log "configurable-http-proxy $CHP_VERSION already in $PREFIX"
else
    log "npm install configurable-http-proxy@$CHP_VERSION into $PREFIX"
    mkdir -p "$PREFIX"
    npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
        "configurable-http-proxy@$CHP_VERSION"
    ln -sf "../chp/node_modules/.bin/configurable-http-proxy" "$LINK"
fi
log "ok: $("$LINK" --version)"
