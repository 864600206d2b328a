/// <reference types="@webgpu/types" preserve="true" />
/**
 * webcnn: a WebGPU compute-shader inference engine for convolutional networks.
 *
 *   const { device } = await acquireDevice();
 *   const graph = mobilenetV2({ params: mapParams(stateDict) });   // or loadModel(fileBytes, options).graph
 *   const model = await compileModel(device, graph);
 *   const [logits] = await model.run([nchwFloat32Input]);
 */

export * from './errors.ts';
export type * from './graph/ir.ts';
export { NO_ACTIVATION, RELU, RELU6, activationBounds, composeActivations, elementCount, shapeToString } from './graph/ir.ts';
export { GraphBuilder } from './graph/builder.ts';
export type { Conv2dOptions, LinearOptions, PoolOptions } from './graph/builder.ts';
export { validateGraph } from './graph/validate.ts';
export { optimizeGraph, foldBatchNorm, fuseActivations, fusePoolLinear, fuseResidualAdds } from './graph/passes/index.ts';
export type { OptimizeOptions } from './graph/passes/index.ts';
export { planMemory } from './graph/memory-plan.ts';
export type { MemoryPlan } from './graph/memory-plan.ts';
export { acquireDevice, deviceAdapterInfo, isSoftwareAdapter } from './gpu/device.ts';
export type { AcquireDeviceOptions, AcquiredDevice } from './gpu/device.ts';
export { CompiledModel } from './runtime/compiled-model.ts';
/** `compileModel` validates, optimizes (BN folding, fusion) and compiles a graph for `device`. */
export { compileModel, resolvePrecision } from './runtime/compile.ts';
export type { BindingKind, KernelBinding, KernelProgram, StoragePrecision, UniformField, UniformType } from '../shaders/common.ts';
export type { CompileOptions, CompileTimings, UpgradePlan } from './runtime/compile-options.ts';
export type { UpgradeStatus } from './runtime/upgrade.ts';
export type { MemoryReport, TensorDescription } from './runtime/compiled-model.ts';
export { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, defaultKernelChoice, defaultUpgrade } from './runtime/kernel-choice.ts';
export type { ConvTile, KernelChoice, SplitKRule, Tile } from './runtime/kernel-choice.ts';
export type { BufferRef, Step, StepKind } from './runtime/step.ts';
export type { ConvLayerKind } from './runtime/kernel-table.ts';
export type { Conv2dTile } from '../shaders/conv2d/index.ts';
export type { ConvSharedTile } from '../shaders/conv-shared/index.ts';
export type { DepthwiseTile } from '../shaders/depthwise/index.ts';
export type { PointwiseTile } from '../shaders/pointwise/index.ts';
export type { PointwiseShapeRule } from '../shaders/pointwise/shape-tile.ts';
export type { GroupedConvTile } from '../shaders/conv-grouped/index.ts';
export { SPLIT_K_MAX_TILES } from '../shaders/conv-shared/geometry.ts';
export { TILE_CANDIDATES } from './runtime/autotune.ts';
export type { TuneOptions, TuneResult } from './runtime/autotune.ts';
export { MemoryTuningCache, localStorageTuningCache } from './runtime/tuning-cache.ts';
export type { BlockEntry, TuningCache, TuningEntry } from './runtime/tuning-cache.ts';
export * from './models/index.ts';
export { runGraphReference, runGraphReferenceAll } from './reference/index.ts';
export type { ReferenceInputs } from './reference/index.ts';
export { exportOnnx, loadOnnx } from './formats/onnx/index.ts';
export type { ExportOnnxOptions, ExternalDataSource, LoadOnnxOptions } from './formats/onnx/index.ts';
export { TORCHVISION_ARCHITECTURES, TORCHVISION_PREPROCESSING, detectModelFormat, loadModel } from './formats/index.ts';
export type { InputQuantization, LoadModelOptions, LoadedModel, ModelBytes, ModelFormat, Preprocessing, TorchvisionArchitecture } from './formats/index.ts';
export { loadTflite } from './formats/tflite/index.ts';
export { loadSafetensors } from './formats/safetensors/index.ts';
export type { SafetensorsLoadOptions } from './formats/safetensors/index.ts';
export { ImageClassifier } from './runtime/classifier.ts';
export type { Classification, ClassifierOptions, ClassifyOptions, ImageSource, RgbaImage } from './runtime/classifier.ts';

export { isIndexOutput, toIndices } from './runtime/indices.ts';
export { ImageSegmenter } from './runtime/segmenter.ts';
export type { GpuSegmentation, SegmentClass, SegmentOptions, SegmenterOptions, Segmentation } from './runtime/segmenter.ts';
export { detectModelKind } from './runtime/model-kind.ts';
export type { ModelKind } from './runtime/model-kind.ts';
export { MaskOverlay } from './runtime/mask-overlay.ts';
export type { OverlayDrawOptions } from './runtime/mask-overlay.ts';
export { segmentationPalette } from './runtime/palette.ts';
