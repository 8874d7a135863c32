/**
 * CPU time and memory of another process, read from Linux procfs (proc(5)):
 *   /proc/PID/stat    fields 14 and 15 (utime, stime) in clock ticks, for all threads of the process;
 *   /proc/PID/status  VmRSS (resident now) and VmHWM (peak resident, "high water mark"), in kB.
 * Only meaningful while the process is alive: read the peak before stopping it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** user + system. */
  readonly cpuSeconds: number;
}

export interface MemoryUsage {
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

export type ChildStats = CpuTimes & MemoryUsage;

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), via getconf; 100 on every Linux we know of, used if getconf is missing. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const parsed = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds used so far by `pid` (all its threads), or undefined when the process is gone. */
export function readCpuTimes(pid: number): CpuTimes | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may contain spaces or ')': split after the last ')'.
  // What follows starts at field 3 (state), so field N is at index N - 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  const hz = clockTicksPerSecond();
  return { userSeconds: utime / hz, systemSeconds: stime / hz, cpuSeconds: (utime + stime) / hz };
}

/** Current and peak resident set size of `pid`, or undefined when the process is gone. */
export function readMemory(pid: number): MemoryUsage | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const rss = kb('VmRSS');
  const peak = kb('VmHWM');
  if (rss === undefined || peak === undefined) return undefined;
  return { rssBytes: rss, peakRssBytes: peak };
}

export function readChildStats(pid: number): ChildStats | undefined {
  const cpu = readCpuTimes(pid);
  const memory = readMemory(pid);
  return cpu && memory ? { ...cpu, ...memory } : undefined;
}
