#!/usr/bin/env bash
# Set up everything dotnet needs on a fresh machine: a virtual environment in .venv
# with PyTorch (CPU build), dotnet itself and its test tools, and Graphviz's `dot`
# (for `dotnet render`) from the system's packages when they can be installed.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

if ! command -v dot >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing Graphviz (apt-get install graphviz)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
            || echo "setup: Graphviz could not be installed; 'dotnet render' will say how to get it"
    else
        echo "setup: Graphviz's 'dot' is missing; install it (apt-get install graphviz) for 'dotnet render'"
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==${TORCH_VERSION}"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
echo "setup: ready (.venv/bin/dotnet, .venv/bin/python -m pytest)"
