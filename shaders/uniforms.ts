export type UniformType = 'u32' | 'i32' | 'f32';

export interface UniformField {
  readonly name: string;
  readonly type: UniformType;
}

/** A uniform block's fields by name, in declaration order (the order of the WGSL struct and the packed bytes). */
export type UniformSpec = Readonly<Record<string, UniformType>>;

/**
 * A kernel's uniform block, declared once: `fields` for the WGSL struct and `packUniforms`, `S` for the values
 * a launch must give (`uniformValues`). Field order is the spec's key order.
 */
export interface UniformBlock<S extends UniformSpec> {
  readonly fields: readonly UniformField[];
  readonly spec: S;
}

/** One number per field of `S`, no more, no fewer. */
export type UniformValues<S extends UniformSpec> = { readonly [K in keyof S]: number };

declare const checked: unique symbol;

/** Uniform values `uniformValues` checked against a block (a `Launch` takes only these). */
export type CheckedUniforms = Readonly<Record<string, number>> & { readonly [checked]: true };

/** Keys of `V` that `S` does not declare, mapped to `never`: an extra field then fails to type-check. */
type NoExtra<S extends UniformSpec, V> = { readonly [K in Exclude<keyof V, keyof S>]: never };

export function uniformBlock<const S extends UniformSpec>(spec: S): UniformBlock<S> {
  return { spec, fields: Object.entries(spec).map(([name, type]) => ({ name, type })) };
}

/** `a`'s fields then `b`'s (e.g. a kernel's geometry, then the epilogue's clamp bounds). */
export function joinUniforms<A extends UniformSpec, B extends UniformSpec>(a: UniformBlock<A>, b: UniformBlock<B>): UniformBlock<A & B> {
  return uniformBlock({ ...a.spec, ...b.spec } as A & B);
}

/**
 * A launch's uniform values, checked against the block by the compiler: a missing, extra or misspelt field is a
 * type error (`packUniforms` still checks at run time for callers that build values by name).
 */
export function uniformValues<S extends UniformSpec, V extends UniformValues<S>>(
  block: UniformBlock<S>,
  values: V & NoExtra<S, V>,
): CheckedUniforms {
  void block;
  return values as unknown as CheckedUniforms;
}
