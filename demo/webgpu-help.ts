/** What a visitor without WebGPU can do about it, shared by the demo pages. */
export function noWebgpuHelp(what: 'demo' | 'page'): string {
  return (
    `This ${what} needs WebGPU: Chrome or Edge 113+ (desktop and Android), Safari 26+, or Firefox 141+ on Windows. ` +
    'On Linux Chrome, enable chrome://flags/#enable-unsafe-webgpu and Vulkan.'
  );
}
