import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const sharedDir = resolve(process.env.WEBCNN_SHARED ?? resolve(root, '../shared'));

/**
 * Development only: serves the default models and labels (classifier and segmenter) at /models/ from the
 * shared data folder (or from models/, where `npm run fetch-model -- --demo` puts them), so the demo never
 * commits or bundles weights.
 */
function localModels(): Plugin {
  const files: Record<string, string[]> = {
    'mobilenet_v2_1.0_224_quant.tflite': [resolve(sharedDir, 'models'), resolve(root, 'models')],
    'imagenet_labels.txt': [resolve(sharedDir, 'labels'), resolve(root, 'models')],
    'deeplabv3_mnv2_pascal_quant.tflite': [resolve(sharedDir, 'models'), resolve(root, 'models')],
    'pascal_voc_segmentation_labels.txt': [resolve(sharedDir, 'labels'), resolve(root, 'models')],
  };
  return {
    name: 'webcnn-local-models',
    configureServer(server) {
      server.middlewares.use('/models/', (req, res, next) => {
        const name = decodeURIComponent((req.url ?? '').replace(/^\//, '').split('?')[0]);
        const path = files[name]?.map((dir) => resolve(dir, name)).find((p) => existsSync(p));
        if (!path) return next();
        res.setHeader('Content-Length', String(statSync(path).size));
        res.setHeader('Content-Type', name.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream');
        createReadStream(path).pipe(res);
      });
    },
  };
}

/**
 * protobufjs picks up the `long` package when it can, and `long` compiles a small WebAssembly module at load
 * time (an optional fast path), which a Content-Security-Policy without `'wasm-unsafe-eval'` reports as a
 * violation. webcnn's ONNX decoder reads int64 fields as numbers and never needs `Long`, so protobufjs gets an
 * empty module instead (other packages that import `long` keep it).
 */
function noLongForProtobufjs(): Plugin {
  const stub = '\0webcnn-no-long';
  return {
    name: 'webcnn-no-long-for-protobufjs',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'long' && importer && /[\\/]node_modules[\\/]protobufjs[\\/]/.test(importer)) return stub;
      return null;
    },
    load(id) {
      return id === stub ? 'export default null;' : null;
    },
  };
}

// Serves the demo pages and the Playwright GPU-test harness from the project root; `npm run build` emits the
// demo pages as a static site in dist/.
export default defineConfig({
  plugins: [localModels(), noLongForProtobufjs()],
  server: { host: '127.0.0.1', strictPort: true },
  preview: { host: '127.0.0.1', strictPort: true },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        demo: resolve(root, 'index.html'),
        timing: resolve(root, 'demo/timing.html'),
      },
    },
  },
});
