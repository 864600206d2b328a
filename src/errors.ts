/**
 * Every failure webcnn reports is a `WebcnnError` subclass with a one-line message that says what went wrong
 * and where, so that applications can branch on the class and show the message as it is.
 */
export class WebcnnError extends Error {
  override readonly name: string = 'WebcnnError';
}

/** A tensor shape that does not fit an op, or a run input of the wrong size. */
export class ShapeError extends WebcnnError {
  override readonly name: string = 'ShapeError';
}

/** A graph that is malformed: dangling tensors, nodes out of order, wrong arity. */
export class GraphError extends WebcnnError {
  override readonly name = 'GraphError';
}

/** An op, attribute or dtype the engine does not implement. */
export class UnsupportedOpError extends WebcnnError {
  override readonly name = 'UnsupportedOpError';
}

/** A model file that is not what it claims to be, or is internally inconsistent. */
export class ModelFormatError extends WebcnnError {
  override readonly name = 'ModelFormatError';
}

/** Something that would exceed a device limit (buffer size, binding size, workgroup count). */
export class ResourceLimitError extends WebcnnError {
  override readonly name = 'ResourceLimitError';
}

/** No WebGPU implementation or no adapter in this environment. */
export class WebGPUUnavailableError extends WebcnnError {
  override readonly name = 'WebGPUUnavailableError';
}

/** The GPU device was lost or destroyed while the model was in use. */
export class DeviceLostError extends WebcnnError {
  override readonly name = 'DeviceLostError';
}

/** A WebGPU validation or out-of-memory error raised while compiling or running. */
export class GpuError extends WebcnnError {
  override readonly name = 'GpuError';
}

/**
 * An option asks for what the device or webcnn does not offer: precision 'f16' without `shader-f16`, an unknown
 * precision or network, timestamps without `timestamp-query`, a kernel tile no kernel implements, an image
 * classifier from a model without image preprocessing.
 */
export class UnsupportedFeatureError extends WebcnnError {
  override readonly name = 'UnsupportedFeatureError';
}

/** A call on a model after `dispose()`. */
export class DisposedError extends WebcnnError {
  override readonly name = 'DisposedError';
}

/**
 * A model given to the wrong image task: a segmenter to `ImageClassifier`, a classifier to `ImageSegmenter`, or
 * a first output neither task can read. A `ShapeError`, as the output's shape is what is wrong.
 */
export class ModelKindError extends ShapeError {
  override readonly name = 'ModelKindError';
}

/**
 * An ONNX tensor stored outside the model file (`data_location` EXTERNAL) whose data cannot be read: its file
 * was not given, its `location` is not a plain relative path, its offset / length run past the file, or its
 * length does not fit the tensor's dims and type. Not a `ModelFormatError`: the model itself may be fine, and
 * format detection must not move on to another format because of it.
 */
export class ExternalDataError extends WebcnnError {
  override readonly name = 'ExternalDataError';
}

/** `loadModelFile` (Node): the model file cannot be read (missing, a directory, unreadable, cut short). */
export class ModelFileError extends WebcnnError {
  override readonly name = 'ModelFileError';
}
