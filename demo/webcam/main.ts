/**
 * The webcam demo: camera (or a still image) -> GPU preprocessing -> network -> top-5 overlay.
 * One frame in flight at most: while the GPU works, newer frames replace older ones and only the newest
 * is classified next.
 */
import { acquireDevice } from '../../src/gpu/device.ts';
import { loadModel, type LoadedModel, type TorchvisionArchitecture } from '../../src/formats/index.ts';
import { ImageClassifier, type ImageSource } from '../../src/runtime/classifier.ts';
import { WebGPUUnavailableError } from '../../src/errors.ts';
import { CameraError, startCamera, stopCamera } from './camera.ts';
import { DEFAULT_LABELS, DEFAULT_MODEL, MAX_MODEL_BYTES, download, parseLabels } from './model-source.ts';
import { elements, setupPredictions, showMessage, showPredictions, showProgress, showSourceMessage, showStats } from './view.ts';

interface CurrentModel {
  readonly name: string;
  readonly loaded: LoadedModel;
  readonly labels: readonly string[] | undefined;
}

const state = {
  device: null as GPUDevice | null,
  classifier: null as ImageClassifier | null,
  model: null as CurrentModel | null,
  source: 'camera' as 'camera' | 'image',
  stream: null as MediaStream | null,
  still: null as ImageBitmap | null,
  paused: false,
  busy: false,
  inflight: null as Promise<unknown> | null,
  frames: [] as number[],
  classified: 0,
  recovering: false,
};

/** For tests and the curious: the live device, classifier and counters. */
declare global {
  interface Window {
    webcnnDemo: { readonly state: typeof state };
  }
}
window.webcnnDemo = { state };

const NO_WEBGPU_HELP =
  'This demo needs WebGPU: Chrome or Edge 113+ (desktop and Android), Safari 26+, or Firefox 141+ on Windows. ' +
  'On Linux Chrome, enable chrome://flags/#enable-unsafe-webgpu and Vulkan.';

async function acquire(): Promise<GPUDevice> {
  const { device, adapterInfo } = await acquireDevice();
  elements.adapter.textContent = [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.description].filter(Boolean).join(' / ') || 'unknown';
  device.lost.then((info) => onDeviceLost(device, info));
  return device;
}

/** A lost device (driver reset, or destroyed) is replaced, the model recompiled from memory, and work resumes. */
async function onDeviceLost(device: GPUDevice, info: GPUDeviceLostInfo): Promise<void> {
  if (state.device !== device || state.recovering) return;
  state.recovering = true;
  state.classifier = null;
  showMessage(`The GPU device was lost (${info.message || info.reason}); recovering…`);
  try {
    state.device = await acquire();
    if (state.model) state.classifier = await ImageClassifier.create(state.device, state.model.loaded, { labels: state.model.labels });
    showMessage('Recovered from a lost GPU device.');
  } catch (e) {
    showMessage(`Could not recover the GPU: ${(e as Error).message}`, 'error');
  } finally {
    state.recovering = false;
    state.busy = false;
  }
}

/** Compiles `loaded` and swaps it in; on failure the previous model keeps running. */
async function useModel(next: CurrentModel): Promise<void> {
  if (!state.device) return;
  showMessage(`Compiling ${next.name}…`);
  const classifier = await ImageClassifier.create(state.device, next.loaded, { labels: next.labels });
  const previous = state.classifier;
  state.classifier = classifier;
  state.model = next;
  elements.modelName.textContent = next.name;
  // The previous classifier may still have a frame in flight: free it once that frame is done.
  if (previous) void (state.inflight ?? Promise.resolve()).finally(() => previous.dispose());
  showMessage(`${next.name} ready.`);
  if (state.source === 'image') void classifyStill();
}

async function loadDefaultModel(): Promise<void> {
  showProgress(0);
  try {
    const [bytes, labelText] = await Promise.all([
      download(DEFAULT_MODEL, (f) => showProgress(f * 0.8)),
      download(DEFAULT_LABELS, () => undefined).then((b) => new TextDecoder().decode(b)),
    ]);
    const loaded = loadModel(bytes, { fileName: DEFAULT_MODEL.name });
    showProgress(0.9);
    await useModel({ name: DEFAULT_MODEL.name, loaded, labels: parseLabels(labelText) });
  } catch (e) {
    showMessage(`Could not load the default model: ${(e as Error).message}`, 'error');
  } finally {
    showProgress(null);
  }
}

async function loadModelFile(file: File): Promise<void> {
  if (file.size > MAX_MODEL_BYTES) {
    showMessage(`${file.name} is ${file.size} bytes, over the ${MAX_MODEL_BYTES}-byte limit.`, 'error');
    return;
  }
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const loaded = loadModel(bytes, { fileName: file.name, architecture: elements.arch.value as TorchvisionArchitecture });
    const labelsFile = elements.labelsFile.files?.[0];
    // A chosen labels file wins, then the model's own; else keep the current labels when the class count matches.
    const classes = loaded.graph.tensors[loaded.graph.outputs[0]].shape[1];
    const current = state.model?.labels?.length === classes ? state.model.labels : undefined;
    const labels = labelsFile ? parseLabels(await labelsFile.text()) : (loaded.labels ?? current);
    await useModel({ name: file.name, loaded, labels });
  } catch (e) {
    // The loader's one-line message, and the previous model keeps classifying.
    showMessage(`${file.name}: ${(e as Error).message}`, 'error');
  }
}

async function loadImageFile(file: File): Promise<void> {
  try {
    const bitmap = await createImageBitmap(file);
    state.still?.close();
    state.still = bitmap;
    elements.still.src = URL.createObjectURL(file);
    setSource('image');
  } catch (e) {
    showMessage(`${file.name} is not an image this browser can decode (${(e as Error).message}).`, 'error');
  }
}

function setSource(source: 'camera' | 'image'): void {
  state.source = source;
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) radio.checked = radio.value === source;
  elements.video.hidden = source !== 'camera';
  elements.still.hidden = source !== 'image';
  if (source === 'image') {
    if (state.still) {
      showSourceMessage(null);
      void classifyStill();
    } else {
      showSourceMessage('Choose or drop an image to classify.');
    }
  } else if (!state.stream) {
    void openCamera();
  } else {
    showSourceMessage(null);
  }
}

async function openCamera(): Promise<void> {
  try {
    state.stream = await startCamera(elements.video);
    showSourceMessage(null);
  } catch (e) {
    // The visitor may have switched to a still image while the camera was being asked for.
    if (state.source !== 'camera') return;
    const message = e instanceof CameraError ? e.message : `The camera could not start (${(e as Error).message}).`;
    showSourceMessage(message);
    state.source = 'image';
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) radio.checked = radio.value === 'image';
    elements.video.hidden = true;
    elements.still.hidden = false;
    elements.imageFile.focus();
  }
}

async function classify(source: ImageSource): Promise<void> {
  const classifier = state.classifier;
  if (!classifier || state.busy) return;
  state.busy = true;
  const started = performance.now();
  try {
    const pending = classifier.classify(source, { topK: 5 });
    state.inflight = pending;
    const top = await pending;
    const wall = performance.now() - started;
    const gpu = classifier.model.lastGpuTimeMs;
    const now = performance.now();
    state.frames = [...state.frames.filter((t) => now - t < 2000), now];
    state.classified++;
    const fps = state.frames.length > 1 ? ((state.frames.length - 1) * 1000) / (now - state.frames[0]) : null;
    showPredictions(top);
    showStats(fps, gpu ?? wall, gpu !== null ? 'gpu' : 'wall');
  } catch (e) {
    if (!state.recovering && state.classifier === classifier) showMessage(`Classification failed: ${(e as Error).message}`, 'error');
  } finally {
    state.busy = false;
    state.inflight = null;
  }
}

async function classifyStill(): Promise<void> {
  if (state.still) await classify(state.still);
}

/** Per displayed video frame: classify it when the GPU is free; otherwise the frame is dropped. */
function frameLoop(): void {
  const next = () =>
    'requestVideoFrameCallback' in elements.video
      ? elements.video.requestVideoFrameCallback(frameLoop)
      : requestAnimationFrame(frameLoop);
  if (!state.paused && state.source === 'camera' && state.stream && elements.video.readyState >= 2) {
    void classify(elements.video);
  }
  next();
}

function wireControls(): void {
  elements.pause.addEventListener('click', () => {
    state.paused = !state.paused;
    elements.pause.textContent = state.paused ? 'Resume' : 'Pause';
    elements.pause.setAttribute('aria-pressed', String(state.paused));
    if (state.paused) elements.video.pause();
    else void elements.video.play().catch(() => undefined);
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) {
    radio.addEventListener('change', () => radio.checked && setSource(radio.value as 'camera' | 'image'));
  }
  elements.imageFile.addEventListener('change', () => {
    const f = elements.imageFile.files?.[0];
    if (f) void loadImageFile(f);
  });
  elements.modelFile.addEventListener('change', () => {
    const f = elements.modelFile.files?.[0];
    if (f) void loadModelFile(f);
  });
  elements.defaultModel.addEventListener('click', () => void loadDefaultModel());
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    elements.dropHint.hidden = false;
  });
  document.addEventListener('dragleave', () => (elements.dropHint.hidden = true));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    elements.dropHint.hidden = true;
    for (const file of Array.from(e.dataTransfer?.files ?? [])) {
      if (file.type.startsWith('image/')) void loadImageFile(file);
      else void loadModelFile(file);
    }
  });
}

async function main(): Promise<void> {
  setupPredictions();
  showStats(null, null, 'gpu');
  wireControls();
  try {
    state.device = await acquire();
  } catch (e) {
    showMessage(e instanceof WebGPUUnavailableError ? `WebGPU is not available. ${NO_WEBGPU_HELP}` : (e as Error).message, 'error');
    return;
  }
  void openCamera();
  await loadDefaultModel();
  frameLoop();
}

void main();
