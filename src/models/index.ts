export * from './params.ts';
export * from './blocks.ts';
export * from './bottleneck-unchained.ts';
export * from './mobilenet-v2.ts';
export * from './resnet.ts';
