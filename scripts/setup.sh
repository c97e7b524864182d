#!/usr/bin/env bash
# Set up everything dotnet needs on a fresh machine: a virtual environment in .venv
# with PyTorch (CPU build), dotnet itself and its test tools, and Graphviz's `dot`
# and a CJK font (for `dotnet render`) from the system's packages when they can be installed.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

# Graphviz, and a CJK font for the specs' Chinese titles (without one, PNGs show empty
# boxes and 'dotnet render' warns [missing-font]).
packages=()
command -v dot >/dev/null 2>&1 || packages+=(graphviz)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    packages+=(fonts-noto-cjk)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${packages[*]} (apt-get install)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null) \
            || echo "setup: ${packages[*]} could not be installed; 'dotnet render' will say what is missing"
    else
        echo "setup: missing ${packages[*]}; install them (apt-get install ${packages[*]}) for 'dotnet render'"
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==${TORCH_VERSION}"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
echo "setup: ready (.venv/bin/dotnet, .venv/bin/python -m pytest)"
