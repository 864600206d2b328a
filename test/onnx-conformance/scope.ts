/**
 * Which ONNX node tests the conformance suite holds webcnn to: every test whose ops are all ops webcnn claims
 * (the converter table's keys) or ops issue #16 plans (so that adding one of those turns its tests from
 * "known unsupported" into failures to pass, until the table below is updated).
 */
import { SUPPORTED_ONNX_OPS } from '../../src/formats/onnx/ops/index.ts';
import type { NodeTest } from './runner.ts';

/** Ops issue #16 adds (CNN zoo), not yet in the converter table; drop one from here once it is claimed. */
export const PLANNED_ONNX_OPS: readonly string[] = [];

export function opsInScope(): Set<string> {
  return new Set([...SUPPORTED_ONNX_OPS, ...PLANNED_ONNX_OPS]);
}

export function inScope(test: NodeTest, ops = opsInScope()): boolean {
  return test.ops.length > 0 && test.ops.every((op) => ops.has(op));
}
