#!/usr/bin/env bash
# Line coverage of src/backends/cuda under the CUDA double's tests (ctest -L
# cuda-double): a separate --coverage build in build-coverage/ (no nvcc needed),
# the suite, then gcov per source file and the total. Not part of CI (a second
# build); the figure is in docs/gpu.md.
#   launch/cuda_double_coverage.sh [BUILD_DIR]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cov=${1:-$repo/build-coverage}
cmake -S "$repo" -B "$cov" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=--coverage \
  -DPPB_ENABLE_CUDA=OFF -DPPB_ENABLE_CUDA_DOUBLE=ON -DPPB_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$cov" -j "${PPB_JOBS:-2}" --target ppbench_cuda_double ppbench ppsim cuda_double_semantics_test \
  gpu_backend_test_on_double gpu_kernels_test_on_double gpu_ppbench_test_on_double ppbench_double_tests
find "$cov" -name '*.gcda' -delete
ctest --test-dir "$cov" -L cuda-double -j "${PPB_JOBS:-2}" --output-on-failure

# gcov over the objects of the backend's sources (the double's build of the
# backend, and the plain C++ half it links), one summary line per file; a
# file the suite never ran (no .gcda) counts with none of its lines.
python3 - "$repo" "$cov" <<'PY'
import os, re, subprocess, sys
repo, cov = sys.argv[1], sys.argv[2]
src = os.path.join(repo, "src/backends/cuda")
total = covered = 0
rows = []
for objdir in ["tests/cuda_double/CMakeFiles/ppb_cuda_backend_double.dir",
               "src/backends/cuda/CMakeFiles/ppb_cuda_plan.dir"]:
    for root, _, files in os.walk(os.path.join(cov, objdir)):
        for f in files:
            if not f.endswith(".gcno"):
                continue
            out = subprocess.run(["gcov", "-n", "-o", root, os.path.join(root, f)], capture_output=True, text=True,
                                 cwd=cov).stdout
            for name, pct, n in re.findall(r"File '([^']+)'\nLines executed:([\d.]+)% of (\d+)", out):
                path = os.path.normpath(os.path.join(cov, name))
                if os.path.dirname(path) != src or not path.endswith(".cpp"):
                    continue
                hit = round(float(pct) * int(n) / 100)
                rows.append((os.path.basename(path), hit, int(n)))
                total += int(n)
                covered += hit
for name, hit, n in sorted(rows):
    print(f"{name:28} {hit:5} of {n:5} lines  {100 * hit / n:5.1f}%")
print(f"{'src/backends/cuda':28} {covered:5} of {total:5} lines  {100 * covered / max(total, 1):5.1f}%  (cuda_backend_stub.cpp: the build without CUDA)")
PY
