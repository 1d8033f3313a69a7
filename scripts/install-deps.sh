#!/usr/bin/env bash
# Installs the Debian bookworm packages BB Gateway needs to build, test and run.
# Idempotent: only missing packages are installed; nothing is done when all are present.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git clang-format
  # libraries
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev openssl libxml2-dev libxmlsec1-dev zlib1g-dev
  librdkafka-dev libsqlite3-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # peers and tools used by tests and benchmarks
  kcat wrk nginx-light curl python3 python3-confluent-kafka python3-jsonschema python3-yaml
  # eID peers: SAML IdPs (pysaml2 needs the xmlsec1 command), OIDC/JOSE clients, python3-saml for the bench
  xmlsec1 python3-pysaml2 python3-lasso python3-jwcrypto python3-authlib python3-onelogin-saml2
  python3-cryptography python3-lxml python3-requests
  # offline translation backend of connectors/etranslation (and its tests)
  apertium apertium-en-es
  # fuzzing (libFuzzer)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
