/**
 * The webcam demo: camera (or a still image) -> GPU preprocessing -> network -> top-5 list (classify) or a mask
 * drawn over the picture on the GPU (segment). One frame in flight at most: while the GPU works, newer frames
 * replace older ones and only the newest is run next.
 */
import { acquireDevice } from '../../src/gpu/device.ts';
import { lostReasonText } from '../../src/gpu/device-lost.ts';
import { noWebgpuHelp } from '../webgpu-help.ts';
import { detectModelFormat, loadModel, type LoadedModel, type TorchvisionArchitecture } from '../../src/formats/index.ts';
import type { ImageSource } from '../../src/runtime/classifier.ts';
import { WebGPUUnavailableError } from '../../src/errors.ts';
import { CameraError, startCamera, stopCamera } from './camera.ts';
import { guessLabels } from './known-labels.ts';
import { DEFAULT_FILES, MAX_MODEL_BYTES, download, parseLabelsBeforeNote, type DemoTask } from './model-source.ts';
import { ClassifyRunner, type TaskRunner } from './runners.ts';
import { SegmentRunner, classCount, taskOf } from './segment-runner.ts';
import { elements, setupPredictions, showKernels, showMessage, showProgress, showSourceMessage, showStats, showTask } from './view.ts';

interface CurrentModel {
  readonly name: string;
  /** What the model does: the default model's task, or what a picked file's outputs say. */
  readonly task: DemoTask;
  readonly loaded: LoadedModel;
  readonly labels: readonly string[] | undefined;
}

const state = {
  device: null as GPUDevice | null,
  /** What the visitor chose to do; a picked model file sets it to what that model does. */
  task: 'classify' as DemoTask,
  runner: null as TaskRunner | null,
  model: null as CurrentModel | null,
  source: 'camera' as 'camera' | 'image',
  stream: null as MediaStream | null,
  /** The camera request in progress, so that a second "Camera" click does not open a second stream. */
  opening: null as Promise<void> | null,
  still: null as ImageBitmap | null,
  stillUrl: null as string | null,
  /** The still image waits to be run (it was busy, or the image or model just changed). */
  stillPending: false,
  paused: false,
  busy: false,
  inflight: null as Promise<unknown> | null,
  frames: [] as number[],
  /** Frames (or still images) run so far, in either task. */
  processed: 0,
  recovering: false,
  /** Model choices so far: a compile whose choice is no longer the latest is thrown away. */
  modelRequests: 0,
  /** The latest model chosen (installed or still compiling): what a recovery after device loss compiles. */
  wanted: null as CurrentModel | null,
  /** The last checkpoint file chosen, loaded again when the architecture changes. */
  modelFile: null as File | null,
  /** A labels file chosen by the visitor: used for every model with as many classes. */
  chosenLabels: null as { readonly name: string; readonly labels: readonly string[] } | null,
  /**
   * What clears the message on show: a frame's error clears at the next good frame, any other error at the
   * visitor's next action (a new model, image or source), so that it is not wiped by the next frame.
   */
  messageClears: null as 'processed' | 'action' | null,
};

/** For tests and the curious: the live device, runner and counters. */
declare global {
  interface Window {
    webcnnDemo: { readonly state: typeof state };
  }
}
window.webcnnDemo = { state };

const NO_WEBGPU_HELP = noWebgpuHelp('demo');

/** Messages from here on: an error stays until `messageClears` says (see `state`). */
function say(text: string, kind: 'info' | 'error' = 'info', clears: 'processed' | 'action' = 'action'): void {
  showMessage(text, kind);
  state.messageClears = kind === 'error' ? clears : null;
}

/** The visitor did something: an error of an earlier action has had its moment. */
function clearActionError(): void {
  if (state.messageClears !== null) say('');
}

/** The labels for a model: a chosen file with as many labels as classes, else the model's own, else `fallback`. */
function labelsFor(loaded: LoadedModel, fallback?: readonly string[]): { labels: readonly string[] | undefined; warning: string | null } {
  const classes = classCount(loaded);
  const chosen = state.chosenLabels;
  const own = loaded.labels ?? (fallback?.length === classes ? fallback : undefined);
  if (!chosen) return { labels: own, warning: null };
  if (chosen.labels.length === classes) return { labels: chosen.labels, warning: null };
  return { labels: own, warning: `${chosen.name} has ${chosen.labels.length} labels, the model ${classes} classes: not used.` };
}

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
  state.runner = null;
  showKernels(null);
  say(`The GPU device was lost (${lostReasonText(info)}); recovering…`);
  try {
    state.device = await acquire();
  } catch (e) {
    say(`Could not recover the GPU: ${(e as Error).message}`, 'error');
    return;
  } finally {
    state.recovering = false;
    state.busy = false;
  }
  // The latest choice, also one that was still compiling on the lost device (that compile is thrown away).
  const model = state.wanted ?? state.model;
  if (model) await useModel(model, ++state.modelRequests, 'Recovered from a lost GPU device.');
  else say('Recovered from a lost GPU device.');
}

/**
 * Compiles `next` and swaps it in; on failure the previous model keeps running. `request` orders the choices:
 * a compile that a later choice, or a device loss, overtook is disposed instead of swapped in.
 */
async function useModel(next: CurrentModel, request: number, done = `${next.name} ready.`, warning: string | null = null): Promise<void> {
  const device = state.device;
  if (!device || request !== state.modelRequests) return;
  state.wanted = next;
  say(`Compiling ${next.name}…`);
  const labelsNow = () => state.model?.labels;
  const runner: TaskRunner =
    next.task === 'segment'
      ? await SegmentRunner.create(device, next.loaded, next.labels, labelsNow, elements.overlay, () => Number(elements.opacity.value))
      : await ClassifyRunner.create(device, next.loaded, next.labels, labelsNow);
  if (request !== state.modelRequests || device !== state.device || state.recovering) {
    runner.dispose();
    return;
  }
  const previous = state.runner;
  state.runner = runner;
  showKernels(runner.upgrade);
  state.frames = [];
  showTaskChoice(next.task);
  // Labels chosen while this model loaded apply to it too.
  state.model = { ...next, labels: labelsFor(next.loaded, next.labels).labels };
  elements.modelName.textContent = next.name;
  // The previous runner may still have a frame in flight: free it once that frame is done, however it ends.
  if (previous) {
    const free = () => previous.dispose();
    void (state.inflight ?? Promise.resolve()).then(free, free);
  }
  // The loader's non-fatal findings (e.g. a TFLite file's label archive cut off) are said, not swallowed.
  const warnings = [...(next.loaded.warnings ?? []), ...(warning ? [warning] : [])];
  say(warnings.length ? `${done} Warning: ${warnings.join(' ')}` : done);
  if (state.source === 'image') requestStill();
}

/** The default model of `task` (the visitor's current task unless given). */
async function loadDefaultModel(task = state.task): Promise<void> {
  // The choice counts from the click, not from the end of the download: a model picked meanwhile wins.
  const request = ++state.modelRequests;
  state.modelFile = null;
  const files = DEFAULT_FILES[task];
  showProgress(0);
  try {
    const [bytes, labelText] = await Promise.all([
      download(files.model, (f) => request === state.modelRequests && showProgress(f * 0.8)),
      download(files.labels, () => undefined).then((b) => new TextDecoder().decode(b)),
    ]);
    const loaded = loadModel(bytes, { fileName: files.model.name });
    if (request === state.modelRequests) showProgress(0.9);
    const { labels, warning } = labelsFor(loaded, parseLabelsBeforeNote(labelText));
    await useModel({ name: files.model.name, task, loaded, labels }, request, undefined, warning);
  } catch (e) {
    say(`Could not load the default model: ${(e as Error).message}`, 'error');
    // The running model goes on: the task switch and panels show what it does again.
    if (request === state.modelRequests && state.model) showTaskChoice(state.model.task);
  } finally {
    if (request === state.modelRequests) showProgress(null);
  }
}

async function loadModelFile(file: File): Promise<void> {
  clearActionError();
  if (file.size > MAX_MODEL_BYTES) {
    say(`${file.name} is ${file.size} bytes, over the ${MAX_MODEL_BYTES}-byte limit.`, 'error');
    return;
  }
  const request = ++state.modelRequests;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Only a checkpoint depends on the architecture chosen: it is the one loaded again when that changes.
    state.modelFile = detectModelFormat(bytes, file.name) === 'safetensors' ? file : null;
    const loaded = loadModel(bytes, { fileName: file.name, architecture: elements.arch.value as TorchvisionArchitecture });
    // The model says what it does: a segmenter switches the page to segment mode, a classifier to classify.
    const task = taskOf(loaded);
    // A chosen labels file of the right length wins, then the model's own, then the current model's labels
    // (when it does the same task), then a known label set for its task and class count (said so).
    const current = state.model;
    const { labels, warning } = labelsFor(loaded, current?.task === task ? current.labels : undefined);
    const guess = labels ? null : guessLabels(file.name, task, classCount(loaded));
    const done = guess ? `${file.name} ready. ${guess.note}` : undefined;
    await useModel({ name: file.name, task, loaded, labels: labels ?? guess?.labels }, request, done, warning);
  } catch (e) {
    // The loader's one-line message (it names the file), and the previous model keeps classifying.
    const message = (e as Error).message;
    say(message.startsWith(file.name) ? message : `${file.name}: ${message}`, 'error');
  }
}

/**
 * A labels file applies to the current model at once, without compiling anything (the page names the classes
 * itself), and to later models with as many classes. A model still loading picks it up when it is installed.
 */
async function loadLabelsFile(file: File): Promise<void> {
  // A blank line ends the names: PASCAL VOC's labels file has a note after one.
  clearActionError();
  state.chosenLabels = { name: file.name, labels: parseLabelsBeforeNote(await file.text()) };
  const current = state.model;
  if (!current) return;
  const { labels, warning } = labelsFor(current.loaded, current.labels);
  if (warning) {
    say(warning, 'error');
    return;
  }
  state.model = { ...current, labels };
  say(`Labels from ${file.name} applied to ${current.name}.`);
  if (state.source === 'image') requestStill();
}

async function loadImageFile(file: File): Promise<void> {
  clearActionError();
  try {
    const bitmap = await fitTexture(await createImageBitmap(file));
    state.still?.close();
    state.still = bitmap;
    if (state.stillUrl) URL.revokeObjectURL(state.stillUrl);
    state.stillUrl = URL.createObjectURL(file);
    elements.still.src = state.stillUrl;
    setSource('image'); // asks for the new still to be classified
  } catch (e) {
    say(`${file.name} is not an image this browser can decode (${(e as Error).message}).`, 'error');
  }
}

/** A picture larger than the GPU's largest texture, scaled down by the browser to fit (aspect kept). */
async function fitTexture(bitmap: ImageBitmap): Promise<ImageBitmap> {
  const max = state.device?.limits.maxTextureDimension2D ?? 8192;
  const scale = max / Math.max(bitmap.width, bitmap.height);
  if (scale >= 1) return bitmap;
  const resized = await createImageBitmap(bitmap, {
    resizeWidth: Math.max(1, Math.floor(bitmap.width * scale)),
    resizeHeight: Math.max(1, Math.floor(bitmap.height * scale)),
    resizeQuality: 'high',
  });
  bitmap.close();
  return resized;
}

function setSource(source: 'camera' | 'image'): void {
  if (source !== state.source) clearActionError();
  state.source = source;
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) radio.checked = radio.value === source;
  elements.video.hidden = source !== 'camera';
  elements.still.hidden = source !== 'image';
  if (source === 'image') {
    // The camera (and its light) goes off while a still image is shown; choosing the camera opens it again.
    closeCamera();
    if (state.still) {
      showSourceMessage(null);
      requestStill();
    } else {
      showSourceMessage('Choose or drop an image to classify.');
    }
  } else if (!state.stream) {
    void openCamera();
  } else {
    showSourceMessage(null);
  }
}

function closeCamera(): void {
  stopCamera(state.stream);
  state.stream = null;
  elements.video.srcObject = null;
}

function openCamera(): Promise<void> {
  state.opening ??= startCameraForPage().finally(() => (state.opening = null));
  return state.opening;
}

async function startCameraForPage(): Promise<void> {
  try {
    const stream = await startCamera(elements.video);
    // The visitor may have switched to a still image while the camera was being asked for: no camera then.
    if (state.source !== 'camera') {
      stopCamera(stream);
      elements.video.srcObject = null;
      return;
    }
    state.stream = stream;
    showSourceMessage(null);
  } catch (e) {
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

/** Runs the current model on one picture (a frame or the still image) unless a frame is in flight. */
async function runFrame(source: ImageSource): Promise<void> {
  const runner = state.runner;
  if (!runner || state.busy) return;
  state.busy = true;
  const started = performance.now();
  try {
    const pending = runner.run(source);
    state.inflight = pending;
    await pending;
    const wall = performance.now() - started;
    const gpu = runner.lastGpuTimeMs;
    const now = performance.now();
    // Frames of the last 2 s; at under 0.5 FPS (a large model on a software GPU), the previous frame.
    const recent = state.frames.filter((t) => now - t < 2000);
    state.frames = [...(recent.length ? recent : state.frames.slice(-1)), now];
    state.processed++;
    const fps = state.frames.length > 1 ? ((state.frames.length - 1) * 1000) / (now - state.frames[0]) : null;
    showStats(fps, gpu ?? wall, gpu !== null ? 'gpu' : 'wall');
    showKernels(runner.upgrade);
    if (state.messageClears === 'processed') say('');
  } catch (e) {
    if (!state.recovering && state.runner === runner) {
      // No result of an earlier picture may stand next to this failure.
      runner.clear();
      say(`${runner.task === 'segment' ? 'Segmentation' : 'Classification'} failed: ${(e as Error).message}`, 'error', 'processed');
    }
  } finally {
    state.busy = false;
    state.inflight = null;
    runPendingStill();
  }
}

/** The task radios and the panels show `task` (the visitor's choice, or what a picked model does). */
function showTaskChoice(task: DemoTask): void {
  state.task = task;
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="task"]')) radio.checked = radio.value === task;
  showTask(task);
}

/** The visitor switched tasks: that task's default model (the running one keeps going until it is ready). */
function setTask(task: DemoTask): void {
  clearActionError();
  if (task === state.task) return;
  showTaskChoice(task);
  void loadDefaultModel(task);
}

/** Asks for the still image to be run: now, or as soon as the frame in flight is done. */
function requestStill(): void {
  state.stillPending = true;
  runPendingStill();
}

function runPendingStill(): void {
  if (!state.stillPending || state.busy || !state.runner || !state.still || state.source !== 'image') return;
  state.stillPending = false;
  void runFrame(state.still);
}

/** Per displayed video frame: run it when the GPU is free; otherwise the frame is dropped. */
function frameLoop(): void {
  const next = () =>
    'requestVideoFrameCallback' in elements.video
      ? elements.video.requestVideoFrameCallback(frameLoop)
      : requestAnimationFrame(frameLoop);
  if (!state.paused && state.source === 'camera' && state.stream && elements.video.readyState >= 2) {
    void runFrame(elements.video);
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
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="task"]')) {
    radio.addEventListener('change', () => radio.checked && setTask(radio.value as DemoTask));
  }
  // The mask is drawn again at the new opacity at once, also when paused or on a still image.
  elements.opacity.addEventListener('input', () => state.runner?.redraw?.());
  // Each file input is emptied once read, so that choosing the same file again is a change too.
  const onFile = (input: HTMLInputElement, use: (f: File) => Promise<void>) =>
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      input.value = '';
      if (f) void use(f);
    });
  onFile(elements.imageFile, loadImageFile);
  onFile(elements.modelFile, loadModelFile);
  onFile(elements.labelsFile, loadLabelsFile);
  // A checkpoint's architecture is a loading option: the last model file is loaded again under the new one.
  elements.arch.addEventListener('change', () => {
    if (state.modelFile) void loadModelFile(state.modelFile);
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
      else if (file.type === 'text/plain' || file.name.toLowerCase().endsWith('.txt')) void loadLabelsFile(file);
      else void loadModelFile(file);
    }
  });
}

async function main(): Promise<void> {
  setupPredictions();
  // ?task=segment opens the page in segment mode (a link to it, or a test).
  showTaskChoice(new URLSearchParams(location.search).get('task') === 'segment' ? 'segment' : 'classify');
  showStats(null, null, 'gpu');
  wireControls();
  try {
    state.device = await acquire();
  } catch (e) {
    say(e instanceof WebGPUUnavailableError ? `WebGPU is not available. ${NO_WEBGPU_HELP}` : (e as Error).message, 'error');
    // Nothing here can run without a GPU device: no empty video box, no controls that would do nothing.
    elements.video.hidden = true;
    for (const control of [elements.pause, elements.imageFile, elements.modelFile, elements.labelsFile, elements.arch, elements.defaultModel]) {
      control.disabled = true;
    }
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"], input[name="task"]')) radio.disabled = true;
    elements.opacity.disabled = true;
    return;
  }
  void openCamera();
  // Frames wait for a model, not for the default model's download: a model picked meanwhile runs at once.
  frameLoop();
  await loadDefaultModel();
}

void main();
