#!/usr/bin/env bash
# Debian packages the project needs, by purpose:
#   run  - what the demo draws with: a CJK font, so camera names, tiles and evidence photos
#          show Chinese (OpenCV's own faces draw "???"); headless Chromium, which draws the
#          trends' charts as PNG and prints the monthly briefing to PDF (offline, with the
#          plotly.js of the plotly package and the CJK font)
#   test - the above, plus headless Chromium and its driver for the page tests, GStreamer's RTSP
#          server for real camera tests, a C compiler for scripts/shift-clock.c (the suite on
#          another date), and poppler-utils (pdftotext, pdfinfo) to read the briefing's PDF
# Usage: scripts/system-deps.sh run|test   (installs only what is missing; needs root or sudo)
set -euo pipefail
RUN_PACKAGES=(fonts-noto-cjk chromium)
TEST_PACKAGES=("${RUN_PACKAGES[@]}" chromium-driver poppler-utils gcc libc6-dev
  gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi python3-gst-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x)
case "${1:-test}" in
  run) PACKAGES=("${RUN_PACKAGES[@]}") ;;
  test) PACKAGES=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
