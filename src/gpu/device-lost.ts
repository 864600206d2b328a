/**
 * One `device.lost` reaction per device, which tells the watchers still alive. A device's `lost` promise lives
 * as long as the device, and whatever its reactions reach lives with it. A `then` per compiled model kept every
 * disposed model (graph, packed-weight closures, buffers' wrappers) until the device went: V8 gives all closures
 * made in one function a shared context, so even a closure that only held a `WeakRef` kept the model alive
 * through a sibling closure's `this` (measured: docs/reliability.md, Device loss and memory). Here the reaction
 * reaches only a set of weak references.
 */

/** What a lost device says happened, for messages: its message, else its reason. */
export function lostReasonText(info: GPUDeviceLostInfo): string {
  return info.message || info.reason || 'unknown reason';
}

export interface LostWatcher {
  onLost(info: GPUDeviceLostInfo): void;
}

interface DeviceWatch {
  readonly watchers: Set<WeakRef<LostWatcher>>;
  lost: GPUDeviceLostInfo | null;
}

const watches = new WeakMap<GPUDevice, DeviceWatch>();

/**
 * Calls `watcher.onLost` once when `device` is lost (at once if it already was), for as long as something else
 * keeps `watcher` alive: the device does not.
 */
export function watchDeviceLost(device: GPUDevice, watcher: LostWatcher): void {
  let watch = watches.get(device);
  if (!watch) {
    watch = { watchers: new Set(), lost: null };
    watches.set(device, watch);
    listen(device.lost, watch);
  }
  if (watch.lost) {
    watcher.onLost(watch.lost);
    return;
  }
  // Forget the watchers that were collected, so that the set does not grow with every model ever compiled.
  for (const ref of watch.watchers) if (ref.deref() === undefined) watch.watchers.delete(ref);
  watch.watchers.add(new WeakRef(watcher));
}

/** Its own function, so that the reaction's context holds `watch` and nothing else. */
function listen(lost: Promise<GPUDeviceLostInfo>, watch: DeviceWatch): void {
  void lost.then((info) => {
    watch.lost = info;
    for (const ref of watch.watchers) ref.deref()?.onLost(info);
    watch.watchers.clear();
  });
}
