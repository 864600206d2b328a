#!/usr/bin/env bash
# Runs webcnn's GPU checks and benchmarks on a bare x86-64 Linux machine with a GPU, from the device kit that
# scripts/device/pack.sh built (.device-kit/ and .gl/ at the repository root; see docs/device.md):
#
#   bash scripts/device/run.sh          # from the repository root; logs and JSON go to $OUT
#
# Phases, each with its own time limit, each run whatever the others did (WEBCNN_DEVICE_PHASES picks some):
#   probe     the adapter Dawn finds (vendor, architecture, features, limits); without one, again with NVIDIA's
#             Vulkan driver named (VK_DRIVER_FILES)
#   classify  the shared MobileNetV2 on cat.bmp through the CLI (expects "Egyptian cat" in the top 3)
#   cases     the GPU correctness cases (test/run-gpu-cases.ts)
#   peers     npm run bench:peers -- --runtime node: webcnn, ORT Web (JSEP, native WebGPU EP), TF.js (WebGPU,
#             WASM), MobileNetV2 224 and ResNet-50 224
#   bench     npm run bench -- --runtime node: per-kernel timing of both networks
#   extra     with WEBCNN_DEVICE_EXTRA="NAME ARGS...[; NAME ARGS...]": each bundle NAME (pack.sh's entries, or
#             WEBCNN_KIT_ENTRIES) with its ARGS, one after another
# then a summary, printed last. $OUT gets at most 8 files: summary.txt, checks.log (probe and classify),
# cases.log, peers.log, peers.json, bench.log, timing.json, extra.log.
#
# Environment: OUT (default /tmp/webcnn-device-out); WEBCNN_DEVICE_QUICK=1 for a short dry run (small networks,
# few repeats: what a machine without a GPU can do in a few minutes); WEBCNN_DEVICE_PHASES (default
# "probe classify cases peers bench"); WEBCNN_DEVICE_ROUNDS / WEBCNN_DEVICE_WARMUPS (peers, default 50 / 5);
# WEBCNN_DEVICE_CASES (case groups, default all); WEBCNN_DEVICE_NODE (a node binary, or "kit" for the kit's;
# default: the machine's node when it is 20 or newer, else the kit's); WEBCNN_DAWN_OPTIONS (Dawn options, src/gpu/node-device.ts);
# WEBCNN_DEVICE_SHADER_CACHE=1 keeps NVIDIA's shader disk cache on (off by default: cold starts compile for real).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
START=$(date +%s)
OUT=${OUT:-/tmp/webcnn-device-out}
mkdir -p "$OUT"
QUICK=${WEBCNN_DEVICE_QUICK:-0}
PHASES=" ${WEBCNN_DEVICE_PHASES:-probe classify cases peers tune precision bench} "
KIT=${WEBCNN_KIT_DIR:-/tmp/webcnn-kit}
# Seconds for the whole run: each phase's limit shrinks so that the later ones keep their share.
if [ "$QUICK" = 1 ]; then BUDGET=${WEBCNN_DEVICE_BUDGET:-1500}; else BUDGET=${WEBCNN_DEVICE_BUDGET:-420}; fi
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
STATUS=()
rm -f "$OUT/checks.log"

note() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(($(date +%s) - START)); }
# record PHASE STATUS SECONDS NOTE
record() { STATUS+=("$(printf '%-9s %-8s %5s s  %s' "$1" "$2" "$3" "$4")"); }
wanted() { [[ "$PHASES" == *" $1 "* ]]; }
# cap WANT RESERVE: WANT seconds, or fewer so that RESERVE seconds of the budget stay for later phases (>= 20).
cap() {
  local left=$((BUDGET - $(elapsed) - $2))
  [ "$left" -lt 20 ] && left=20
  if [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}

note "==== webcnn device run, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -m), $(nproc) CPUs, quick=$QUICK ===="
if command -v nvidia-smi >/dev/null 2>&1; then
  note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
else
  note "gpu: no nvidia-smi"
fi

# The Vulkan loader and GLVND (NVIDIA's Vulkan ICD is libGLX_nvidia.so.0, which needs libGLdispatch from
# libglvnd0): unpacked from .gl where the machine lacks them; X11 client libraries only where libX11 is missing.
gl_installed=""
for f in .gl/*.deb; do
  [ -f "$f" ] || continue
  lib=$(dpkg-deb -c "$f" 2>/dev/null | grep -o '[^/]*\.so\.[0-9]*$' | head -1)
  if [ -n "$lib" ] && ldconfig -p 2>/dev/null | grep -q " $lib "; then continue; fi
  dpkg -x "$f" / && gl_installed+="$(basename "$f" | cut -d_ -f1) "
done
if ! ldconfig -p 2>/dev/null | grep -q 'libX11\.so\.6'; then
  for f in .gl/x11/*.deb; do [ -f "$f" ] && dpkg -x "$f" / && gl_installed+="$(basename "$f" | cut -d_ -f1) "; done
fi
ldconfig
note "vulkan/glvnd: ${gl_installed:+installed from .gl: $gl_installed; }loader $(ldconfig -p | grep -m1 'libvulkan\.so\.1' | sed 's/.*=> //'), GLdispatch $(ldconfig -p | grep -m1 'libGLdispatch\.so\.0' | sed 's/.*=> //')"

# Unpack the kit (in parallel: xz is single-threaded).
rm -rf "$KIT" && mkdir -p "$KIT"
if ! ls .device-kit/*.tar.xz >/dev/null 2>&1; then
  note "no .device-kit/*.tar.xz: build it with 'npm run device:kit' and carry .device-kit"
  exit 2
fi
untar() {
  if command -v xz >/dev/null 2>&1; then
    tar xJf "$1" -C "$2"
  else
    python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
  fi
}
pids=()
for t in .device-kit/*.tar.xz; do untar "$t" "$KIT" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || note "unpacking failed (tar status $?)"; done
note "kit: $(head -1 "$KIT/js/BUILD" 2>/dev/null), unpacked in $(elapsed) s"

NODE=node
if [ "${WEBCNN_DEVICE_NODE:-}" = kit ]; then
  NODE=$KIT/bin/node
elif [ -n "${WEBCNN_DEVICE_NODE:-}" ]; then
  NODE=$WEBCNN_DEVICE_NODE
elif ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
  NODE=$KIT/bin/node
fi
note "node: $NODE $("$NODE" --version 2>&1)"
export WEBCNN_SHARED=$KIT WEBCNN_PEER_WASM_DIR=$KIT/wasm
# NVIDIA's driver keeps compiled shaders on disk (~/.nv/GLCache; Vulkan too) for later processes. webcnn's
# kernels, compiled by the classify, cases and tune phases, would then come from that cache in the cold starts
# of peers and cold-start, while the peers' kernels compile for real. Off, unless WEBCNN_DEVICE_SHADER_CACHE=1.
if [ "${WEBCNN_DEVICE_SHADER_CACHE:-0}" != 1 ]; then
  export __GL_SHADER_DISK_CACHE=0
  note "driver shader disk cache: off (__GL_SHADER_DISK_CACHE=0)"
else
  note "driver shader disk cache: as the machine has it (WEBCNN_DEVICE_SHADER_CACHE=1)"
fi
JS=$KIT/js
cd "$KIT"

# run PHASE SECONDS LOG COMMAND...: the command under `timeout`, its output shown and kept in LOG; sets RC.
run() {
  local phase=$1 limit=$2 log=$3
  shift 3
  echo
  echo "==== $phase (limit $limit s): $*"
  local t0
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
  RC=${PIPESTATUS[0]}
  SECONDS_TAKEN=$(($(date +%s) - t0))
  KILLED=""
  if [ $RC -eq 124 ] || [ $RC -eq 137 ]; then
    KILLED="killed at its limit of $limit s; "
    echo "==== $phase: killed at its limit of $limit s"
  fi
  return 0
}

ADAPTER=none
# An NVIDIA device node means the adapter should be NVIDIA's (not a software Vulkan driver found first).
want_nvidia() { ls /dev/nvidia0 /dev/nvidiactl >/dev/null 2>&1; }
probe_good() { [ $RC -eq 0 ] && { ! want_nvidia || grep -m1 '^adapter:' "$KIT/probe.last" | grep -qi nvidia; }; }
probe() {
  run probe "$(cap 45 300)" "$KIT/probe.last" "$NODE" "$JS/probe.mjs"
  cat "$KIT/probe.last" >>"$OUT/checks.log"
}
if wanted probe; then
  probe
  first_rc=$RC
  first_adapter=$(grep -m1 '^adapter:' "$KIT/probe.last" | cut -c10-)
  if ! probe_good; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      [ -f "$icd" ] || continue
      echo "no NVIDIA adapter: again with VK_DRIVER_FILES=$icd" | tee -a "$OUT/checks.log"
      export VK_DRIVER_FILES=$icd
      probe
      probe_good && break
      unset VK_DRIVER_FILES
    done
  fi
  if probe_good; then
    ADAPTER=$(grep -m1 '^adapter:' "$KIT/probe.last" | cut -c10-)
    record probe ok "$SECONDS_TAKEN" "${VK_DRIVER_FILES:+VK_DRIVER_FILES=$VK_DRIVER_FILES; }$ADAPTER"
  elif [ "$first_rc" -eq 0 ]; then
    ADAPTER=$first_adapter
    record probe "NOT-NV" "$SECONDS_TAKEN" "only a non-NVIDIA adapter, used as is: $ADAPTER"
  else
    record probe FAILED "$SECONDS_TAKEN" "status $RC: $(grep -v XDG_RUNTIME "$KIT/probe.last" | tail -1 | cut -c1-150)"
  fi
  if ! probe_good; then
    {
      echo "---- Vulkan diagnostics"
      ls -l /dev/nvidia* /dev/dri 2>&1 | head
      ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
      cat /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json 2>&1 | head -20
      ldconfig -p | grep -i 'vulkan\|nvidia' | head
      for l in /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0; do [ -f "$l" ] && echo "ldd $l:" && ldd "$l" 2>&1 | head -30; done
      VK_LOADER_DEBUG=error,warn,driver timeout 60 "$NODE" "$JS/probe.mjs" 2>&1 | grep -v XDG_RUNTIME | tail -40
    } >>"$OUT/checks.log" 2>&1
    tail -40 "$OUT/checks.log"
  fi
fi

if wanted classify; then
  run classify "$(cap 45 280)" "$KIT/classify.log" "$NODE" "$JS/webcnn.mjs" classify "$KIT/images/cat.bmp" \
    --model "$KIT/models/mobilenet_v2_1.0_224_quant.tflite" --labels "$KIT/labels/imagenet_labels.txt" --top 3
  cat "$KIT/classify.log" >>"$OUT/checks.log"
  top=$(grep -v XDG_RUNTIME "$KIT/classify.log" | grep -m3 . | tr -s ' ' | tr '\n' ';' | cut -c1-150)
  if [ $RC -eq 0 ] && grep -q 'Egyptian cat' "$KIT/classify.log"; then
    record classify ok "$SECONDS_TAKEN" "$top"
  else
    record classify FAILED "$SECONDS_TAKEN" "${KILLED}status $RC: $top"
  fi
fi

if wanted cases; then
  # The whole case table: on CI, Node runs only its share of the groups Playwright also runs (test/case-share.ts).
  export WEBCNN_GPU_CASES=${WEBCNN_GPU_CASES:-all}
  if [ "$QUICK" = 1 ]; then groups=${WEBCNN_DEVICE_CASES:-kernels}; limit=600; else groups=${WEBCNN_DEVICE_CASES:-}; limit=120; fi
  limit=$(cap $limit 190)
  # shellcheck disable=SC2086
  run cases $limit "$OUT/cases.log" "$NODE" "$JS/run-gpu-cases.mjs" $groups
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/cases.log" | tail -1)
  if [ $RC -eq 0 ]; then record cases ok "$SECONDS_TAKEN" "${groups:-all groups}: $counts"; else record cases FAILED "$SECONDS_TAKEN" "${KILLED}status $RC, ${groups:-all groups}: ${counts:-no count}"; fi
fi

# Which tiles win on this adapter: whole-network choices and the autotuner, per launch (scripts/tune-report.ts).
if wanted tune; then
  if [ "$QUICK" = 1 ]; then args=(--networks mobilenet_v2 --input-size 64 --runs 3); limit=900; else args=(--runs 30); limit=100; fi
  limit=$(cap $limit 60)
  run tune $limit "$OUT/tune.log" "$NODE" "$JS/tune-report.mjs" "${args[@]}" --out "$OUT/tune.json"
  if [ $RC -eq 0 ]; then record tune ok "$SECONDS_TAKEN" "$(grep -E '^[a-z_0-9]+ totals:' "$OUT/tune.log" | cut -c1-300 | tr '\n' ' ')"; else record tune FAILED "$SECONDS_TAKEN" "${KILLED}status $RC"; fi
fi

if wanted peers; then
  if [ "$QUICK" = 1 ]; then
    limit=$(cap 600 40)
    args=(--networks mobilenetv2 --input-size 64 --width-multiplier 0.35 --rounds "${WEBCNN_DEVICE_ROUNDS:-2}" --warmups "${WEBCNN_DEVICE_WARMUPS:-1}")
  else
    limit=$(cap "${WEBCNN_DEVICE_PEERS_LIMIT:-210}" 40)
    args=(--networks mobilenetv2,resnet50 --rounds "${WEBCNN_DEVICE_ROUNDS:-50}" --warmups "${WEBCNN_DEVICE_WARMUPS:-5}")
    [ -n "${WEBCNN_DEVICE_PEER_ENGINES:-}" ] && args+=(--engines "$WEBCNN_DEVICE_PEER_ENGINES")
  fi
  # A network whose process dies or overruns is run again engine by engine: half the phase each, 100 s at most.
  nt=$((limit / 2 - 5))
  [ $nt -gt 100 ] && [ "$QUICK" != 1 ] && nt=100
  args+=(--network-timeout "$nt")
  run peers $limit "$OUT/peers.log" "$NODE" "$JS/bench-peers.mjs" --runtime node "${args[@]}" --out "$OUT/peers.json"
  errors=$(grep -c 'could not run' "$OUT/peers.log")
  if [ $RC -eq 0 ]; then record peers ok "$SECONDS_TAKEN" "${args[*]}; $errors engine/network error rows"; else record peers FAILED "$SECONDS_TAKEN" "${KILLED}status $RC; ${args[*]}"; fi
fi

# f32 vs f16-packed vs native f16 latency (scripts/precision-latency.ts), and the real model at native f16.
if wanted precision; then
  if [ "$QUICK" = 1 ]; then args=(--networks mobilenet_v2 --rounds 3); limit=600; else args=(--rounds 31); limit=60; fi
  limit=$(cap $limit 40)
  run precision $limit "$OUT/precision.log" "$NODE" "$JS/precision-latency.mjs" "${args[@]}"
  if [ $RC -eq 0 ]; then record precision ok "$SECONDS_TAKEN" "see precision.log"; else record precision FAILED "$SECONDS_TAKEN" "${KILLED}status $RC"; fi
  for p in f16 f16-packed; do
    echo "---- classify --precision $p" >>"$OUT/precision.log"
    timeout 60 "$NODE" "$JS/webcnn.mjs" classify "$KIT/images/cat.bmp" --precision $p \
      --model "$KIT/models/mobilenet_v2_1.0_224_quant.tflite" --labels "$KIT/labels/imagenet_labels.txt" --top 3 2>&1 | grep -v XDG_RUNTIME >>"$OUT/precision.log"
  done
fi

if wanted bench; then
  if [ "$QUICK" = 1 ]; then args=(--quick --networks mobilenet_v2); limit=600; else args=(); limit=100; fi
  limit=$(cap $limit 0)
  run bench $limit "$OUT/bench.log" "$NODE" "$JS/bench.mjs" --runtime node "${args[@]}" --out "$OUT/timing.json"
  if [ $RC -eq 0 ]; then record bench ok "$SECONDS_TAKEN" "${args[*]:-full}"; else record bench FAILED "$SECONDS_TAKEN" "${KILLED}status $RC; ${args[*]:-full}"; fi
fi

# Any other bundled entry points: WEBCNN_DEVICE_EXTRA="NAME ARGS...; NAME ARGS...", one after another, each
# under its own limit, all into extra.log.
if [ -n "${WEBCNN_DEVICE_EXTRA:-}" ]; then
  : >"$OUT/extra.log"
  IFS=';' read -r -a extras <<<"$WEBCNN_DEVICE_EXTRA"
  for spec in "${extras[@]}"; do
    read -r -a extra <<<"$spec"
    [ ${#extra[@]} -eq 0 ] && continue
    run extra "$(cap "${WEBCNN_DEVICE_EXTRA_LIMIT:-90}" 0)" "$OUT/extra.part.log" "$NODE" "$JS/${extra[0]}.mjs" "${extra[@]:1}"
    { echo "==== extra: ${extra[*]}"; cat "$OUT/extra.part.log"; } >>"$OUT/extra.log"
    rm -f "$OUT/extra.part.log"
    if [ $RC -eq 0 ]; then record extra ok "$SECONDS_TAKEN" "${extra[*]}"; else record extra FAILED "$SECONDS_TAKEN" "${KILLED}status $RC: ${extra[*]}"; fi
  done
fi

{
  echo
  echo "==================== summary ($(elapsed) s in all; logs in $OUT) ===================="
  grep -v '^====' "$SUMMARY"
  [ -f "$KIT/probe.last" ] && grep -E '^(features|limits|device):' "$KIT/probe.last" | cut -c1-400
  echo
  printf '%-9s %-8s %7s  %s\n' phase status time note
  printf '%s\n' "${STATUS[@]}"
  if [ -f "$OUT/cases.log" ] && grep -q '^FAIL' "$OUT/cases.log"; then
    echo
    echo "---- failing GPU cases (first 15)"
    grep '^FAIL' "$OUT/cases.log" | head -15 | cut -c1-220
  fi
  if [ -f "$OUT/peers.log" ] && grep -q '^engine ' "$OUT/peers.log"; then
    echo
    echo "---- peers (bench:peers --runtime node)"
    sed -n '/^engine /,/^took /p' "$OUT/peers.log"
  elif [ -f "$OUT/peers.log" ] && grep -q '^\[[0-9:]*\] | ' "$OUT/peers.log"; then
    echo
    echo "---- peers: what finished before the run stopped (peers.json has it)"
    grep '^\[[0-9:]*\] | ' "$OUT/peers.log" | cut -c14-
  fi
  if [ -f "$OUT/tune.log" ]; then
    echo
    echo "---- tile choices (tune-report; per launch in tune.log / tune.json)"
    grep -E '^(mobilenet_v2|resnet50)[ :]' "$OUT/tune.log" | cut -c1-400
  fi
  if [ -f "$OUT/precision.log" ]; then
    echo
    echo "---- precision (f32 / f16-packed / f16)"
    grep -v '^\s*$' "$OUT/precision.log" | tail -25 | cut -c1-300
  fi
  if [ -s "$OUT/extra.log" ]; then
    echo
    echo "---- extras (last 40 lines each; all in extra.log)"
    csplit -s -z -f "$OUT/extra.split." "$OUT/extra.log" '/^==== extra: /' '{*}' 2>/dev/null
    for f in "$OUT"/extra.split.*; do [ -f "$f" ] && { head -1 "$f"; tail -n +2 "$f" | grep -v XDG_RUNTIME | tail -40 | cut -c1-300; rm -f "$f"; }; done
  fi
  if [ -f "$OUT/bench.log" ] && grep -q '^timer:' "$OUT/bench.log"; then
    echo
    echo "---- per-kernel timing summary (bench --runtime node; rows in bench.log and timing.json)"
    sed -n '/^adapter:/,/^suite took/p' "$OUT/bench.log" | tail -n +2
  fi
} >"$OUT/summary.tmp"
cat "$OUT/summary.tmp" >"$SUMMARY"
rm -f "$OUT/summary.tmp"
# At most 8 files come back from the device tool: everything but the summary travels as one archive.
(cd "$OUT" && files=$(ls | grep -v '^summary.txt$' | grep -v '^logs.tar.gz$') && [ -n "$files" ] && tar czf logs.tar.gz $files && rm -f $files)
cat "$SUMMARY"
