import { TORCHVISION_PREPROCESSING, type Preprocessing } from '../src/formats/model.ts';
import { expect, test } from './fixtures.ts';

const TFLITE: Preprocessing = { size: [224, 224], resize: 'stretch', cropFraction: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

test.describe('GPU image preprocessing vs CPU reference (max |err| <= 1e-4)', () => {
  const cases: [number, number, Preprocessing][] = [
    [512, 341, TFLITE],
    [640, 480, TORCHVISION_PREPROCESSING],
    [97, 61, TFLITE],
    [1, 1, TORCHVISION_PREPROCESSING],
  ];
  for (const [w, h, p] of cases) {
    test(`${w}x${h} ${p.resize}`, async ({ harnessPage }) => {
      const r = await harnessPage.evaluate(([w, h, p]) => window.webcnnHarness.preprocess(w, h, p), [w, h, p] as const);
      console.log(`${w}x${h} ${p.resize}: worst error ${r.maxAbsError.toExponential(2)} over ${r.values} values`);
      expect(r.maxAbsError).toBeLessThanOrEqual(1e-4);
    });
  }
});
