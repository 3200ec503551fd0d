#!/usr/bin/env bash
# Debian's headless Chromium, for the tests that open the verdict page and the DVC plots in a real
# browser (tests/helpers.py: rendered_dom). `make test` runs this; it does nothing when one is installed.
set -euo pipefail
for browser in chromium-headless-shell chromium; do
    if command -v "$browser" > /dev/null; then exit 0; fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "install-browser: no headless Chromium found, and this script can only install it as root with apt-get;" >&2
    echo "install-browser: install Debian's chromium-headless-shell (or chromium), or set AFFREPRO_BROWSER to its path" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends chromium-headless-shell > /dev/null \
    || { apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends chromium-headless-shell > /dev/null; }
