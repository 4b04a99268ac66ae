#!/usr/bin/env bash
# The default full comparison: every workload, arignote against every peer, ending with
# the targets table of issue 5 (which needs every default workload and every peer).
#   bash benchmarks/run_all.sh                      # all workloads, W3_first..W5_first included
#   WORKLOADS=W5,W7,W7_mem bash benchmarks/run_all.sh
#   REPEAT=3 bash benchmarks/run_all.sh             # 3 interleaved passes, medians reported
#   QUIET=0.25 bash benchmarks/run_all.sh           # before each run, wait (at most WAIT_MAX
#                                                   # seconds, default 600) for CPUs <= 25% busy
# Needs the peers' environments: bash benchmarks/setup_peers.sh (once).
# Writes benchmarks/results/latest.json and prints the tables.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS="$HERE/.venv-peers/bin/python"
PT="$HERE/.venv-pytensor/bin/python"
for p in "$PEERS" "$PT"; do
    [ -x "$p" ] || { echo "missing $p: run bash benchmarks/setup_peers.sh first" >&2; exit 1; }
done
WORKLOADS="${WORKLOADS:-W1,W2_1e6,W2_1e7,W3,W4,W5,W7,W7_mem,W3_first,W4_first,W5_first}"
mkdir -p "$HERE/results"
# Python bytecode as an installed package has it (pip compiles it; the peers' packages have theirs):
# without it every fresh process compiles arignote's modules from source, which the first-call
# workloads would count (~40 ms for W5's function() + first call).
unset PYTHONDONTWRITEBYTECODE
"$PEERS" -c "import arignote, compileall, os; compileall.compile_dir(os.path.dirname(arignote.__file__), quiet=1)"
args=(--repeat "${REPEAT:-1}")
[ -n "${QUIET:-}" ] && args+=(--wait-quiet "$QUIET" --wait-max "${WAIT_MAX:-600}")
# PyTensor's C backend needs to be told which BLAS to link (see setup_peers.sh)
if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' && [[ "${PYTENSOR_FLAGS:-}" != *blas__ldflags* ]]; then
    export PYTENSOR_FLAGS="${PYTENSOR_FLAGS:+$PYTENSOR_FLAGS,}blas__ldflags=-lopenblas"
fi
# pytensor: NUMBA is its default backend; C is its pure-C linker (every op needs C code,
# so graphs with Scan cannot compile there); CVM is its C backend with the Python
# fallback that Theano's FAST_RUN used.
exec "$PEERS" "$HERE/run.py" "${args[@]}" --workloads "$WORKLOADS" --json "$HERE/results/latest.json" \
    --impl "arignote:FAST_RUN@$PEERS" --impl "arignote:FAST_COMPILE@$PEERS" \
    --impl "numpy@$PEERS" --impl "jax@$PEERS" --impl "torch@$PEERS" --impl "torch:threads=1@$PEERS" \
    --impl "pytensor:NUMBA@$PT" --impl "pytensor:C@$PT" --impl "pytensor:CVM@$PT"
