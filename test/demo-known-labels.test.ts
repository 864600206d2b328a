/** The demo's names for a model picked without labels (demo/webcam/known-labels.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PASCAL_VOC_CLASSES, guessLabels } from '../demo/webcam/known-labels.ts';
import { parseLabelsBeforeNote } from '../demo/webcam/model-source.ts';
import { sharedPath } from './shared.ts';

describe('guessLabels', () => {
  it('names a 21-class segmenter as PASCAL VOC and says so', () => {
    const guess = guessLabels('mine.tflite', 'segment', 21);
    expect(guess.labels).toBe(PASCAL_VOC_CLASSES);
    expect(guess.labels?.[0]).toBe('background');
    expect(guess.labels?.[3]).toBe('bird');
    expect(guess.labels?.[15]).toBe('person');
    expect(guess.note).toMatch(/^mine\.tflite has no labels: its 21 classes are named as PASCAL VOC's/);
    expect(guess.note).toContain('pick a labels file');
  });

  it('numbers the classes of any other model and says which', () => {
    for (const [task, classes] of [['segment', 19], ['segment', 150], ['classify', 21], ['classify', 1000]] as const) {
      const guess = guessLabels('net.onnx', task, classes);
      expect(guess.labels).toBeUndefined();
      expect(guess.note).toBe(`net.onnx has no labels: its ${classes} classes are shown as class 0 to class ${classes - 1}; pick a labels file to name them.`);
    }
  });

  const shared = sharedPath('labels/pascal_voc_segmentation_labels.txt');
  it.skipIf(!existsSync(shared))('matches the shared DeepLabV3 label file', () => {
    expect(parseLabelsBeforeNote(readFileSync(shared, 'utf8'))).toEqual(PASCAL_VOC_CLASSES);
  });
});
