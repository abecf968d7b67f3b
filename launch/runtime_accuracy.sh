#!/usr/bin/env bash
# The measurements behind docs/runtime.md, on the CPU backend at -np 4
# (oversubscribed where the host has fewer cores):
#   1. compute accuracy: achieved - target op duration for several targets;
#   2. measured vs predicted vs replay for the four schedules with 5 ms ops;
#   3. the harness overhead (op start - inputs ready).
# Needs a build (launch/demo.sh or launch/test.sh) and python3 for the tables.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ppbench=$build_dir/src/ppbench
np=${PPB_NP:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { mpirun -np "$np" --oversubscribe "$ppbench" "$@" >/dev/null; }

echo "== compute accuracy: 1f1b, -np $np, 8 microbatches, 10 measured iterations"
for ms in 0.2 1 5 20; do
  run --schedule 1f1b -f "$ms" --backward-times "$ms" --iters 10 --out "$work/acc-$ms"
done
python3 - "$work" <<'PY'
import json, sys
def q(v, p): return v[min(len(v) - 1, int(p * len(v)))]
print(f"{'target':>8} {'ops':>5} {'median':>9} {'p95':>9} {'p99':>9} {'max':>9}   (achieved - target, us)")
for ms in ["0.2", "1", "5", "20"]:
    m = json.load(open(f"{sys.argv[1]}/acc-{ms}/measured.json"))
    d = sorted(o["end"] - o["start"] - float(ms) * 1000 for it in m["iterations"] for r in it["ranks"] for o in r["ops"])
    print(f"{ms + ' ms':>8} {len(d):>5} {q(d, .5):>9.1f} {q(d, .95):>9.1f} {q(d, .99):>9.1f} {d[-1]:>9.1f}")
PY

echo "== measured vs predicted vs replay: -np $np, -f 5 --backward-times 5 (zb-h1: --weight-times 5), M=8"
for s in gpipe 1f1b interleaved zb-h1; do
  extra=(); [[ $s == zb-h1 ]] && extra=(--weight-times 5)
  run --schedule "$s" -f 5 --backward-times 5 "${extra[@]}" --out "$work/sched-$s"
done
python3 - "$work" <<'PY'
import json, sys
print(f"{'schedule':>12} {'measured':>10} {'predicted':>10} {'replay':>10} {'err':>7} {'bubble':>7} {'b.err':>7} {'replay err':>10} {'overhead med/p99 us':>20}")
for s in ["gpipe", "1f1b", "interleaved", "zb-h1"]:
    j = json.load(open(f"{sys.argv[1]}/sched-{s}/summary.json"))
    e, h = j["error"], j["harness_overhead"]
    print(f"{s:>12} {j['measured']['median_iteration']['makespan']/1e3:>8.2f}ms {j['predicted']['makespan']/1e3:>8.2f}ms "
          f"{j['replay']['makespan']/1e3:>8.2f}ms {100*e['makespan_rel']:>+6.2f}% "
          f"{100*j['measured']['median_iteration']['bubble_fraction']:>6.1f}% {e['bubble_pp']:>+5.2f}pp "
          f"{100*e['replay_makespan_rel']:>+9.2f}% {h['median_us']:>9.1f} / {h['p99_us']:.1f}")
PY
