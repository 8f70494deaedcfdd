#!/usr/bin/env bash
# Install what the grading sandbox (autograder/sandbox.py) needs: Debian's bubblewrap, plus
# prlimit and setpriv from util-linux. Idempotent: does nothing when they are there.
set -euo pipefail

log() { printf '[install_sandbox] %s\n' "$*"; }

if command -v bwrap >/dev/null && command -v prlimit >/dev/null && command -v setpriv >/dev/null; then
    log "bubblewrap already installed: $(bwrap --version)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install_sandbox.sh: need root to apt-get install bubblewrap" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends bubblewrap util-linux; then
    log "install failed; apt-get update and retry"
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends bubblewrap util-linux
fi
log "installed: $(bwrap --version)"
