/**
 * Runs `jobs` with at most `size` in flight, in order of the array. Stops taking new jobs once `signal`
 * fires or a job fails with `stopOnError`; the jobs already running finish.
 * Invariant: every started job's outcome is reported (fulfilled or rejected), none is dropped silently.
 */
export async function runPool<T, R>(
  jobs: T[],
  size: number,
  run: (job: T) => Promise<R>,
  o: { signal?: AbortSignal; stopOnError?: boolean } = {},
): Promise<Array<PromiseSettledResult<R> | undefined>> {
  const results: Array<PromiseSettledResult<R> | undefined> = new Array(jobs.length).fill(undefined);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < jobs.length && !o.signal?.aborted && !(failed && o.stopOnError)) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await run(jobs[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, jobs.length)) }, lane));
  return results;
}
