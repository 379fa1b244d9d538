#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build, run and test Lifebridge:
# C toolchain and OpenSSL headers (SQLCipher), WebKitGTK and friends (the Tauri app),
# WebKitWebDriver + Xvfb (end-to-end tests of the real window), Chromium (the station's
# receiving desk page, driven by playwright-core), PostgreSQL (the station's second
# backend), libdmtx and zbar (independent label decoders), a CJK font (a fresh Debian has none: the zh-CN window showed
# boxes for every Chinese character), Node.js packages from package-lock.json (the UI), and
# tauri-driver from crates.io. Idempotent and quiet when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential pkg-config libssl-dev file
  libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  webkit2gtk-driver xvfb xauth postgresql poppler-utils chromium chromium-driver
  dmtx-utils zbar-tools fonts-noto-cjk openssl)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: apt packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "install-deps: cargo is missing: install Rust with rustup first" >&2; exit 1; }

# npm ci only when the lock changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v tauri-driver >/dev/null; then
  echo "install-deps: cargo install tauri-driver"
  cargo install tauri-driver --locked --quiet
fi
