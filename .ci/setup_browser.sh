#!/usr/bin/env bash
# System setup for the site test (tests/test_site.py): Debian's Chromium, which Playwright drives (no
# browser download), and npm's mermaid and MathJax, which the test serves in place of the CDN copies the
# pages load (tests/site/package.json and its lock file pin them).
# The Python package playwright comes from requirements.txt. Safe to run again; skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-dejavu-core)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
chromium --version 2>/dev/null || { echo "setup_browser: chromium did not install" >&2; exit 1; }

if [ ! -f tests/site/node_modules/mermaid/dist/mermaid.esm.min.mjs ] \
        || [ ! -f tests/site/node_modules/mathjax/es5/tex-mml-chtml.js ]; then
    npm ci --prefix tests/site --ignore-scripts --no-audit --no-fund --loglevel=error
fi
versions=$(node -p "['mermaid', 'mathjax'].map(p => p + ' ' + require('./tests/site/node_modules/' + p + '/package.json').version).join(', ')")
echo "setup_browser: $(chromium --version); $versions in tests/site/node_modules"
