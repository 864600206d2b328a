/** Camera access with failures sorted into what the page can tell the visitor. */
export type CameraFailure = 'unsupported' | 'denied' | 'missing' | 'busy' | 'other';

export class CameraError extends Error {
  override readonly name = 'CameraError';
  constructor(
    readonly failure: CameraFailure,
    message: string,
  ) {
    super(message);
  }
}

export async function startCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError('unsupported', 'This browser offers no camera access here (it needs https or localhost).');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new CameraError('denied', 'Camera permission was denied. Allow it in the address bar, or classify a still image instead.');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      throw new CameraError('missing', 'No camera was found. You can classify a still image instead.');
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      throw new CameraError('busy', 'The camera is in use by another application. Close it, or classify a still image.');
    }
    throw new CameraError('other', `The camera could not start (${(e as Error).message}).`);
  }
  try {
    video.srcObject = stream;
    await video.play();
    if (video.videoWidth === 0) {
      await new Promise<void>((resolve) => video.addEventListener('loadedmetadata', () => resolve(), { once: true }));
    }
  } catch (e) {
    // The stream is ours until we return it: stop it (and the camera light) when the video cannot play it.
    stopCamera(stream);
    throw e;
  }
  return stream;
}

export function stopCamera(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}
