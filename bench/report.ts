import { readFile, writeFile } from 'node:fs/promises';

export const START_MARKER = '<!-- results:start -->';
export const END_MARKER = '<!-- results:end -->';

export interface PhaseRow {
  label: string;
  throughput: number;
  unit: string;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface Goal {
  label: string;
  value: number;
  target: number;
  format: (value: number) => string;
}

export interface Report {
  date: string;
  command: string;
  phases: PhaseRow[];
  goals: Goal[];
  notes: string[];
  machine: string[];
  config: string[];
}

const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : 'n/a');
export const met = (goal: Goal) => goal.value >= goal.target;

export function markdown(report: Report): string {
  const lines = [
    `Measured ${report.date} with \`${report.command}\`.`,
    '',
    '| phase | throughput/s | latency avg | p50 | p99 |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.phases.map((p) => `| ${p.label} | ${whole(p.throughput)} ${p.unit} | ${ms(p.avgMs)} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} |`),
    '',
    '| ratio | measured | goal | met |',
    '| --- | ---: | ---: | :---: |',
    ...report.goals.map((g) => `| ${g.label} | ${g.format(g.value)} | ≥ ${g.format(g.target)} | ${met(g) ? 'yes' : '**no**'} |`),
    '',
    ...report.notes.map((note) => `- ${note}`),
    '',
    '**Machine**',
    '',
    ...report.machine.map((line) => `- ${line}`),
    '',
    '**Configuration**',
    '',
    ...report.config.map((line) => `- ${line}`),
  ];
  return lines.join('\n');
}

/** Replaces what lies between the result markers in the README (appending them if absent). */
export async function writeResults(readmePath: string, section: string): Promise<void> {
  let text = '';
  try {
    text = await readFile(readmePath, 'utf8');
  } catch {
    text = '# Benchmark\n\n## Results\n\n';
  }
  const block = `${START_MARKER}\n${section}\n${END_MARKER}`;
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  if (start !== -1 && end > start) {
    text = `${text.slice(0, start)}${block}${text.slice(end + END_MARKER.length)}`;
  } else {
    text = `${text.trimEnd()}\n\n${block}\n`;
  }
  await writeFile(readmePath, text);
}
