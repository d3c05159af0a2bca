#!/usr/bin/env bash
# The GPU checks of issue 17 in one go, for a machine with an NVIDIA GPU, CuPy and
# (optionally) PyTorch with CUDA.  Installs nothing.  Run from anywhere:
#
#     bash benchmarks/gpu_check.sh            # results also saved under $OUT (default
#                                             # /tmp/chainrule-gpu-check)
#
# 1. the environment: GPU, CuPy, PyTorch, which test dependencies are present;
# 2. pytest -m gpu: the op table (value, VJP, JVP, 2nd order) on cuda vs the CPU, nn
#    layers / losses / optimizers, func transforms, forward mode, the device API;
# 3. the stand-in and device tests again (they must pass with CuPy importable too);
# 4. python -m benchmarks --device cuda: MLP steps (784-256-10 batch 128; 4096x3 batch
#    8192) and the vec4 per-op chain vs a hand-written CuPy step and PyTorch CUDA.
# The exit status is non-zero if any step failed; every step runs regardless.
set -u
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="${OUT:-/tmp/chainrule-gpu-check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
status=0

echo "== environment" | tee "$OUT/env.txt"
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
    "$PY" - <<'EOF'
import importlib, platform
print("python", platform.python_version())
for name in ("numpy", "cupy", "torch", "pytest", "hypothesis"):
    try:
        m = importlib.import_module(name)
        print(f"{name} {getattr(m, '__version__', '?')}")
    except Exception as e:          # missing: the step that needs it says so below
        print(f"{name} MISSING ({type(e).__name__}: {e})")
try:
    import torch
    print("torch.cuda.is_available()", torch.cuda.is_available())
except Exception:
    pass
import chainrule
print("chainrule from", chainrule.__file__)
print("chainrule.cuda.is_available()", chainrule.cuda.is_available(),
      "device_count", chainrule.cuda.device_count())
if chainrule.cuda.is_available():
    print("device", chainrule.cuda.get_device_name())
EOF
} 2>&1 | tee -a "$OUT/env.txt"

echo "== GPU tests (pytest -m gpu)" | tee "$OUT/gpu_tests.txt"
"$PY" -m pytest -q -p no:randomly -m gpu tests/test_gpu.py -rs 2>&1 | tee -a "$OUT/gpu_tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
if grep -q "skipped" "$OUT/gpu_tests.txt" && ! grep -q "passed" "$OUT/gpu_tests.txt"; then
    echo "GPU tests were all skipped: chainrule found no GPU (see env.txt)" | tee -a "$OUT/gpu_tests.txt"
    status=1
fi

echo "== stand-in backend and device API tests" | tee "$OUT/standin_tests.txt"
"$PY" -m pytest -q -p no:randomly tests/test_backend_standin.py tests/test_device.py 2>&1 \
    | tail -5 | tee -a "$OUT/standin_tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== GPU benchmarks (python -m benchmarks --device cuda)" | tee "$OUT/gpu_bench.txt"
"$PY" -m benchmarks --device cuda 2>&1 | tee -a "$OUT/gpu_bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== done: status $status; results in $OUT"
exit $status
