# Debian's chromium for the demo's browser test (playwright-core drives it; no browser download).
# Not a server: it installs the package when missing and exports CHROMIUM_PATH. Sourced by
# tooling/with-services.sh like every service script.

start_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    log "chromium: using CHROMIUM_PATH=$CHROMIUM_PATH"
    return 0
  fi
  if [[ ! -x /usr/bin/chromium ]]; then
    log "chromium: installing Debian's chromium package"
    apt_install chromium
  fi
  [[ -x /usr/bin/chromium ]] || {
    log "chromium: /usr/bin/chromium is missing after install"
    return 1
  }
  export CHROMIUM_PATH=/usr/bin/chromium
  log "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed) at $CHROMIUM_PATH"
}
