# shellcheck shell=bash disable=SC2154 # device-run.sh sets the variables named below
# The step machinery of launch/device/device-run.sh, which sources it and
# sets what it uses: work, out, results, commands, log, suffix, deadline,
# step_cap, step_env, python, ppsim, times, bytes, predict_args, local_check.
#
# step [--always] LIMIT NAME [VAR=VALUE...] COMMAND...: runs COMMAND in the
#   steps' environment (plus the VAR=VALUE words), in a session of its own,
#   under a time limit cut to what is left of the budget; streams its output
#   into the log; records the command, exit status and seconds; on failure
#   prints the end of its output (the device call's reply shows only the end
#   of what this script prints) and ends what the step left running; packs.
#   Sets last_status (and $work/step.txt, the step's own output). --always:
#   runs whatever is left of the budget (the pre-flight).
# mpi_step [--gtest] LIMIT NAME ...: the same for a step that launches MPI
#   ranks, skipped once an earlier one timed out or failed in set-up; such a
#   failure here skips the ones after it. --gtest: a GoogleTest program,
#   which prints no backend line of its own; only its time-out stops the rest.
# skip NAME REASON: records a step that did not run, and why.
# pack: brings OUT up to date.

last_status=0
mpi_stopped=
own_session=(setsid)
command -v setsid > /dev/null || own_session=()

skip() {
  echo "$1 (skipped: $2)" >> "$commands"
  echo "$me: $1: skipped ($2)"
  pack
}

# The processes whose session is $1 (field 6 of /proc/PID/stat; the command
# name in field 2 may hold spaces, so fields are counted after its ')').
session_members() {
  local stat fields p
  for p in /proc/[0-9]*; do
    read -r stat < "$p/stat" 2> /dev/null || continue
    read -r -a fields <<< "${stat##*) }"
    [[ ${fields[3]:-} == "$1" ]] && echo "${p#/proc/}"
  done
  return 0
}

# end_leftovers NAME SESSION: after a failed step. `timeout` signals one
# process group, and MPI ranks may sit in others: every process still in the
# step's session is ended (TERM, then KILL), then every MPS daemon the step
# started (one-gpu.sh keeps its pipes under the step's TMPDIR) is told to
# quit, then whatever nvidia-smi still lists on the GPU is ended, so that
# spinning kernels of a dead step do not share the GPU with the next one.
end_leftovers() {
  local name=$1 pids=() pipe
  ((${#own_session[@]})) && mapfile -t pids < <(session_members "$2")
  if ((${#pids[@]})); then
    echo "$me: $name: ending leftover processes$(for p in "${pids[@]}"; do printf ' %s (%s)' "$p" "$(cat "/proc/$p/comm" 2> /dev/null)"; done)" >> "$log"
    kill -TERM "${pids[@]}" 2> /dev/null
    sleep 2
    mapfile -t pids < <(session_members "$2")
    ((${#pids[@]})) && kill -KILL "${pids[@]}" 2> /dev/null
  fi
  for pipe in "$work"/tmp/*/pipe; do
    [[ -d $pipe ]] || continue
    echo "$me: $name: quitting the MPS daemon of $pipe" >> "$log"
    echo quit | CUDA_MPS_PIPE_DIRECTORY=$pipe timeout 10 nvidia-cuda-mps-control >> "$log" 2>&1
  done
  command -v nvidia-smi > /dev/null || return 0
  mapfile -t pids < <(timeout 20 nvidia-smi --query-compute-apps=pid --format=csv,noheader 2> /dev/null |
    tr -d ' ' | grep -x '[0-9][0-9]*')
  if ((${#pids[@]})); then
    echo "$me: $name: ending processes still on the GPU: ${pids[*]}" >> "$log"
    kill -TERM "${pids[@]}" 2> /dev/null
    sleep 2
    kill -KILL "${pids[@]}" 2> /dev/null
  fi
  return 0
}

step() {
  local always=0
  [[ $1 == --always ]] && { always=1; shift; }
  local limit=$1 name=$2 vars=() shown left start offset pid
  shift 2
  while [[ $1 == [A-Za-z_]*=* ]]; do vars+=("$1"); shift; done
  # As typed in the checkout's root: the steps run in the temporary folder,
  # so their output paths read results/<gpu>/..., as they land once extracted.
  shown="${vars[*]}${vars[*]:+ }$*"
  shown=${shown//$root\//}
  left=$((deadline - SECONDS - 15))
  ((always && left < limit)) && left=$limit
  if ((left < 20)); then
    skip "$name" "time budget spent: $shown"
    last_status=-1
    return 0
  fi
  ((limit > step_cap)) && limit=$step_cap
  ((limit > left)) && limit=$left
  echo "== $name (limit $limit s): $shown" >> "$log"
  offset=$(stat -c %s "$log")
  rm -rf "$work/tmp"
  mkdir -p "$work/tmp"
  start=$SECONDS
  # setsid (not a group leader here, so it does not fork): the step's pid is
  # its session, which end_leftovers sweeps.
  env -i "${step_env[@]}" "${vars[@]}" TMPDIR="$work/tmp" "${own_session[@]}" timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1 &
  pid=$!
  wait "$pid"
  last_status=$?
  tail -c +"$((offset + 1))" "$log" > "$work/step.txt"
  echo "$name (exit $last_status, $((SECONDS - start)) s): $shown" >> "$commands"
  echo "$me: $name: exit $last_status ($((SECONDS - start)) s)"
  if ((last_status != 0)); then
    tail -n 12 "$work/step.txt" | sed 's/^/    /'
    end_leftovers "$name" "$pid"
  fi
  pack
  return 0
}

# Why an MPI step's failure means that the next ones would fail the same way
# (one short phrase), or nothing when it does not.
setup_failure() {
  local gtest=$1
  ((last_status == 0 || last_status == -1)) && return  # passed, or skipped for time
  if ((last_status == 124 || last_status == 137)); then
    echo "it ran out of its time limit"
  elif grep -q 'timed out in set-up' "$work/step.txt"; then
    echo "it timed out in set-up"
  elif grep -q 'timed out' "$work/step.txt"; then
    echo "it timed out in an iteration"
  elif grep -q 'in set-up' "$work/step.txt"; then
    echo "it failed in set-up"
  elif ! ((gtest)) && ! grep -q '^ppbench: backend ' "$work/step.txt"; then
    echo "it failed before its backend was up"
  fi
}

mpi_step() {
  local gtest=0
  [[ $1 == --gtest ]] && { gtest=1; shift; }
  if [[ -n $mpi_stopped ]]; then
    skip "$2" "MPI steps stopped after $mpi_stopped"
    return 0
  fi
  step "$@"
  local why
  why=$(setup_failure "$gtest")
  if [[ -n $why ]]; then
    mpi_stopped="$2 ($why)"
    echo "$me: $2: $why: the MPI steps after it are skipped"
  fi
  return 0
}

# Writes each run's free-transfer prediction and, once calibration.json is
# there, its calibrated-link one (ppsim, in the steps' environment), where
# missing. Sweep points are named <schedule>-M<M> and have 4 ranks.
predict() {
  local dir name args cal=$results/calibration.json
  for dir in "$results"/*/ "$results"/sweep/points/*/; do
    [[ -f $dir/summary.json ]] || continue
    name=${dir#"$results"/}
    name=${name%/}
    args=${predict_args[$name]:-}
    if [[ -z $args && $name == sweep/points/*-M* ]]; then
      name=${name#sweep/points/}
      args="-s 4 --schedule ${name%-M*} -b ${name##*-M}"
    fi
    [[ -n $args ]] || continue
    # shellcheck disable=SC2086 # args holds flags
    [[ -f $dir/predicted-free.json ]] ||
      env -i "${step_env[@]}" timeout 30 "$ppsim" $args "${times[@]}" --no-visualization \
        --metrics-json "$dir/predicted-free.json" >> "$log" 2>&1
    # shellcheck disable=SC2086
    [[ -f $dir/predicted-links.json || ! -f $cal ]] ||
      env -i "${step_env[@]}" timeout 30 "$ppsim" $args --calibration "$cal" --activation-bytes "$bytes" \
        --no-visualization --metrics-json "$dir/predicted-links.json" >> "$log" 2>&1
  done
}

# One table for the notes and results/README.md, in the caller's Python; a
# value that is missing or null is a dash, never a lost table.
write_error_table() {
  [[ -n $python ]] || { echo "$me: errors$suffix.md not written (no python3)" >> "$log"; return 0; }
  "$python" - "$results" > "$results/errors$suffix.md" 2>> "$log" <<'PY' ||
import json, pathlib, sys

results = pathlib.Path(sys.argv[1])

def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

def get(doc, *keys):
    for k in keys:
        if not isinstance(doc, dict) or doc.get(k) is None:
            return None
        doc = doc[k]
    return doc

def ms(us):
    return "-" if us is None else f"{us / 1000:.3f} ms"

def rel(measured, model):
    return "-" if measured is None or model is None or measured == 0 else f"{100 * (measured - model) / measured:+.2f}%"

print("Makespan error = (measured - model) / measured. Headline: against the calibrated link model;")
print("free transfers shows what communication adds; the replay (measured op and link times) separates")
print("duration errors from the execution rule.")
print()
print("| run | measured (median) | predicted, free transfers | predicted, calibrated links | replay"
      " | error vs free | error vs links | replay error | bubble measured | bubble error vs links |")
print("|---|---|---|---|---|---|---|---|---|---|")
for summary in sorted(results.glob("*/summary.json")) + sorted(results.glob("sweep/points/*/summary.json")):
    run = summary.parent
    s = load(summary)
    measured = get(s, "measured", "median_iteration", "makespan")
    free = get(load(run / "predicted-free.json"), "makespan")
    links = get(load(run / "predicted-links.json"), "makespan")
    replay = get(s, "replay", "makespan")
    bubble = get(s, "measured", "median_iteration", "bubble_fraction")
    links_bubble = get(load(run / "predicted-links.json"), "bubble_fraction")
    bubble_pp = None if bubble is None or links_bubble is None else 100 * (bubble - links_bubble)
    print(f"| {run.relative_to(results)} | {ms(measured)} | {ms(free)} | {ms(links)} | {ms(replay)}"
          f" | {rel(measured, free)} | {rel(measured, links)} | {rel(measured, replay)}"
          f" | {'-' if bubble is None else f'{100 * bubble:.1f}%'} | {'-' if bubble_pp is None else f'{bubble_pp:+.2f} pp'} |")
PY
    echo "$me: errors$suffix.md not written (python3 failed)" >> "$log"
}

# Brings OUT up to date with everything finished so far: the archive (written
# aside, then renamed, so a call killed while packing still returns the last
# whole one) and copies of the files worth reading first.
pack() {
  predict
  [[ -f $work/device.txt ]] && cp "$work/device.txt" "$results/device.txt"
  cp "$log" "$results/log$suffix.txt"
  write_error_table
  # Python's tarfile where tar is missing or fails; it picks gzip by the name's ending.
  local part=$out/.partial-results.tar.gz
  if tar -C "$work" -czf "$part" results 2> /dev/null ||
    { [[ -n $python ]] && (cd "$work" && "$python" -m tarfile -c "$part" results); }; then
    mv -f "$part" "$out/results.tar.gz"
  else
    rm -f "$part"
    echo "$me: packing results.tar.gz failed: OUT holds only the copies" >&2
  fi
  cp "$commands" "$out/commands$suffix.txt"
  [[ -f $results/errors$suffix.md ]] && cp "$results/errors$suffix.md" "$out/errors$suffix.md"
  [[ -f $work/device.txt ]] && cp "$work/device.txt" "$out/device.txt"
  return 0
}
