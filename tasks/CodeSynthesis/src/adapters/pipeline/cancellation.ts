/**
 * The agent cancels a task with SIGINT, then SIGTERM 7.5 s later. Turn both into one AbortSignal so the
 * run stops before writing, or finishes a write it has started (see FsTreeStore.commit).
 */
export function cancelOnSignals(onCancel: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) return;
      onCancel(name);
      controller.abort(new Error(name));
    });
  }
  return controller.signal;
}
