/** Nearest-rank percentile of an ascending array; NaN when it is empty. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface CpuSample {
  idle: number;
  total: number;
}

/** Cumulative CPU time of the whole host, from os.cpus(). */
export function hostCpu(cpus: { times: Record<string, number> }[]): CpuSample {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus) {
    for (const [kind, ms] of Object.entries(cpu.times)) {
      total += ms;
      if (kind === 'idle') idle += ms;
    }
  }
  return { idle, total };
}

/** Share of the host's CPU time that was busy between two samples, 0..1. */
export function busyShare(before: CpuSample, after: CpuSample): number {
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : Number.NaN;
}
