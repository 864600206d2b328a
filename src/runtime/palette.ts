/**
 * Class colours for masks: the PASCAL VOC colour map (class bits spread over the high bits of R, G and B, so
 * neighbouring classes differ strongly), which the VOC ground-truth PNGs and most segmentation tools use.
 */

/** RGBA8 per class, `classes * 4` bytes; class 0 (background) gets alpha 0 when `transparentBackground`. */
export function segmentationPalette(classes: number, transparentBackground = true): Uint8Array {
  if (!(Number.isInteger(classes) && classes >= 0)) throw new RangeError(`classes must be a whole number, got ${classes}`);
  const out = new Uint8Array(classes * 4);
  for (let i = 0; i < classes; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let bit = 7; c > 0 && bit >= 0; bit--, c >>= 3) {
      r |= (c & 1) << bit;
      g |= ((c >> 1) & 1) << bit;
      b |= ((c >> 2) & 1) << bit;
    }
    out.set([r, g, b, i === 0 && transparentBackground ? 0 : 255], i * 4);
  }
  return out;
}
