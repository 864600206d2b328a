/**
 * Names for the classes of a model picked without labels. Segmentation models with 21 classes are, in
 * practice, trained on PASCAL VOC's classes (the shared DeepLabV3 and all of torchvision's segmentation
 * models), so those get PASCAL VOC's names; any other model keeps numbered classes (`class N`). Either way
 * the page says which it did, so that a visitor knows the names are a guess and how to change them.
 */
import type { DemoTask } from './model-source.ts';

/** PASCAL VOC 2012's segmentation classes, in its label order (class 0 is background). */
export const PASCAL_VOC_CLASSES: readonly string[] = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];

export interface GuessedLabels {
  /** Names to use, or undefined: the classes stay numbered. */
  readonly labels: readonly string[] | undefined;
  /** What the page tells the visitor about it. */
  readonly note: string;
}

/** The labels for model `name` (doing `task`, telling `classes` classes apart) when none came with it. */
export function guessLabels(name: string, task: DemoTask, classes: number): GuessedLabels {
  if (task === 'segment' && classes === PASCAL_VOC_CLASSES.length) {
    return {
      labels: PASCAL_VOC_CLASSES,
      note: `${name} has no labels: its 21 classes are named as PASCAL VOC's (those of DeepLabV3 and torchvision's segmentation models); pick a labels file to rename them.`,
    };
  }
  return {
    labels: undefined,
    note: `${name} has no labels: its ${classes} classes are shown as class 0 to class ${classes - 1}; pick a labels file to name them.`,
  };
}
