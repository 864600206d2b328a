/**
 * Checks for semantics that changed at an early opset. webcnn reads every opset from 1; a converter calls
 * these where its op's earlier versions meant something else, and refuses what it cannot read the same way.
 */
import type { NodeContext } from '../context.ts';
import { fmt } from '../values.ts';

/**
 * Opset < 7 Add / Sub / Mul / Div / ... broadcast only with `broadcast=1`, aligning B at `axis` of A (default:
 * B's dims are A's trailing dims). That is NumPy's right-aligned broadcasting exactly when B ends at A's last
 * axis; any other `axis` is a different rule.
 */
export function checkLegacyBroadcast(ctx: NodeContext, a: readonly number[], b: readonly number[]): void {
  if (ctx.opset >= 7) return;
  if (ctx.attrInt('broadcast', 0) === 0) {
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw ctx.invalid(`operands ${fmt(a)} and ${fmt(b)} differ, and opset ${ctx.opset} without broadcast=1 needs equal shapes`);
    }
    return;
  }
  if (!ctx.hasAttr('axis')) return;
  const axis = ctx.attrInt('axis', 0);
  const start = axis < 0 ? axis + a.length : axis;
  if (start + b.length !== a.length) {
    throw ctx.unsupported(
      `legacy broadcast of ${fmt(b)} at axis ${axis} of ${fmt(a)} (opset ${ctx.opset}) is not NumPy broadcasting; webcnn reads it only where B ends at A's last axis`,
    );
  }
}

/**
 * Opset < 7 BatchNormalization and Dropout have `is_test` (default 0: training mode, batch statistics or
 * random dropping); webcnn runs the inference form only.
 */
export function checkLegacyIsTest(ctx: NodeContext): void {
  if (ctx.opset < 7 && ctx.attrInt('is_test', 0) === 0) {
    throw ctx.unsupported(`is_test=0 (training mode, opset ${ctx.opset}) is not supported; webcnn runs inference (is_test=1)`);
  }
}
