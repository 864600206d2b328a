/** FULLY_CONNECTED: a linear layer (a flatten in front where the input is a map of one channel). */
import { ModelFormatError, UnsupportedOpError } from '../../../errors.ts';
import type { TfliteOpConverter } from '../converter.ts';
import { dimsToString, nhwc } from '../dims.ts';
import { fullyConnectedOptions } from '../schema.ts';

export const fullyConnected: TfliteOpConverter = (tc, op, { where, name }) => {
  const o = fullyConnectedOptions(op.options);
  if (o.weightsFormat !== 0) throw new UnsupportedOpError(`${where}: shuffled FULLY_CONNECTED weights are not supported`);
  const activation = tc.fusedActivation(o.activation, where);
  let x = tc.activation(op.inputs[0], where);
  const [n, c, h, w] = tc.b.shape(x);
  const weight = tc.constant(op.inputs[1], 'weights', where);
  if (weight.dims.length !== 2) throw new ModelFormatError(`${where}: weights are ${dimsToString(weight.dims)}, expected [out, in]`);
  const [outF, inF] = weight.dims;
  if (h * w > 1) {
    if (c !== 1) {
      throw new UnsupportedOpError(
        `${where}: FULLY_CONNECTED on the spatial map ${nhwc(tc.b.shape(x))} (NHWC) would flatten in NHWC order, ` +
          'which differs from the engine\'s NCHW flatten; only inputs with H = W = 1 (or C = 1) are supported',
      );
    }
    x = tc.b.flatten(x, `${name}/flatten`);
  }
  if (c * h * w !== inF) {
    throw new UnsupportedOpError(
      `${where}: input ${nhwc([n, c, h, w])} has ${c * h * w} features per batch item, the weights expect ${inF}`,
    );
  }
  const y = tc.b.linear(x, { outFeatures: outF, weight: weight.data, bias: tc.bias(op, outF, where), activation }, name);
  tc.bindOutput(op, y, where);
};
