#!/usr/bin/env bash
# System packages the platform needs on Debian: WeasyPrint's libraries and fonts (with HarfBuzz subsetting),
# and for the tests a JDK and Maven (Apache Kafka from Maven Central jars) and Chromium (browser tests). Installs only what is missing.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core shared-mime-info)
if [[ "${TELESERVICES_WITH_TEST_DEPS:-0}" == 1 ]]; then
  packages+=(openjdk-17-jre-headless maven chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "Paquets système manquants (${missing[*]}) et apt-get indisponible : installez-les à la main." >&2
  exit 0
fi
sudo=""
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "Installez en root : ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installation des paquets système : ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
