#!/usr/bin/env bash
# Create the two virtual environments the benchmark peers run in:
#   benchmarks/.venv-peers    Python 3.11: numpy, jax, torch==2.13.0 (CPU) and arignote (editable)
#   benchmarks/.venv-pytensor Python 3.12: pytensor (PyTensor 3.x needs Python >= 3.12), numba
#   the system OpenBLAS (Debian's libopenblas-dev), which PyTensor's C backend links to
# Usage: bash benchmarks/setup_peers.sh [peers|pytensor|blas|all]   (default: all)
# Override the interpreters with PYTHON311=... / PYTHON312=... if pyenv is not used.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
what="${1:-all}"

find_python() {  # $1 = minor version, e.g. 3.12
    if command -v pyenv >/dev/null 2>&1; then
        local p
        p="$(ls -d "$(pyenv root)"/versions/"$1".*/bin/python 2>/dev/null | sort -V | tail -1 || true)"
        if [ -n "$p" ]; then echo "$p"; return; fi
    fi
    command -v "python$1"
}

if [ "$what" = all ] || [ "$what" = peers ]; then
    PY="${PYTHON311:-$(find_python 3.11)}"
    echo "== .venv-peers with $("$PY" --version)"
    "$PY" -m venv "$HERE/.venv-peers"
    "$HERE/.venv-peers/bin/python" -m pip install -q --upgrade pip
    # torch is pinned to the exact release whose CPU wheel the project uses: any other
    # version would pull the multi-gigabyte CUDA build.
    "$HERE/.venv-peers/bin/python" -m pip install -q -e "$ROOT[bench]"
    "$HERE/.venv-peers/bin/python" -c "import numpy, jax, torch, arignote; print('numpy', numpy.__version__, 'jax', jax.__version__, 'torch', torch.__version__)"
fi

if [ "$what" = all ] || [ "$what" = pytensor ]; then
    PY="${PYTHON312:-$(find_python 3.12)}"
    echo "== .venv-pytensor with $("$PY" --version)"
    "$PY" -m venv "$HERE/.venv-pytensor"
    "$HERE/.venv-pytensor/bin/python" -m pip install -q --upgrade pip
    "$HERE/.venv-pytensor/bin/python" -m pip install -q pytensor numba
    "$HERE/.venv-pytensor/bin/python" -c "import pytensor, numba; print('pytensor', pytensor.__version__, 'numba', numba.__version__)"
fi

if [ "$what" = all ] || [ "$what" = blas ]; then
    # PyTensor's C backend (modes C, CVM) links BLAS itself; pip gives it none, and without
    # one its dot products fall back to slow code. run_all.sh then passes
    # PYTENSOR_FLAGS=blas__ldflags=-lopenblas (its auto-detection wants cblas/gfortran too).
    if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
        echo "== system OpenBLAS present"
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing libopenblas-dev"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev
    else
        echo "== no system OpenBLAS: install libopenblas-dev (or set PYTENSOR_FLAGS=blas__ldflags=...)" >&2
    fi
fi
