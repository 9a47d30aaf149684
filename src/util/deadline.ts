// A signal that aborts when `parent` does or when `ms` have passed. Built from a plain timer and
// controller, strongly held until dispose(): AbortSignal.any over an AbortSignal.timeout that
// nothing else references can be garbage-collected before it fires, and then the deadline never comes.
export interface Deadline {
  signal: AbortSignal;
  /** True once the time ran out (as opposed to the parent aborting). */
  readonly expired: boolean;
  dispose(): void;
}

export function deadline(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onParent = (): void => controller.abort(parent.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new Error(`timed out after ${ms} ms`));
  }, ms);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}
