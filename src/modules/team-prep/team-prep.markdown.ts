import type { AgendaCategory } from '../../db/schema/index.js';
import type { PacketClient, TeamPrepPacket } from './team-prep.schema.js';

/**
 * The prep packet as a Markdown document to read in the meeting or print. Every text a person
 * wrote is escaped: it can neither break a table nor bring in markup. No HTML.
 */

const categoryLabels: Record<AgendaCategory, string> = {
  client_life_threatening: 'Client life-threatening behaviour',
  client_therapy_interfering: 'Client therapy-interfering behaviour',
  therapist_therapy_interfering: 'Therapist therapy-interfering behaviour',
  therapist_burnout_motivation: 'Therapist burnout or motivation',
  team_interfering: 'Team-interfering behaviour',
  consult: 'Consult',
  skills_group_issue: 'Skills-group issue',
  admin: 'Admin',
  celebration: 'Celebration',
};

/** A stored value such as `stage_1` or `skills_generalization`, as words. */
const words = (value: string) => value.replaceAll('_', ' ');
/** Free text on one line, with Markdown's punctuation (and the table separator) escaped. */
const text = (value: string) =>
  value
    .replace(/\s*\r?\n\s*/g, ' ')
    .replace(/[\\`*_[\]<>|]/g, '\\$&')
    .trim();
const figure = (value: number | null) => (value === null ? '–' : String(value));
const percent = (value: number | null) => (value === null ? '–' : `${Math.round(value * 100)}%`);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (header: string[], rows: string[][]) => [row(header), row(header.map(() => '---')), ...rows.map(row)];
const section = (title: string, lines: string[], empty: string) => [`### ${title}`, '', ...(lines.length > 0 ? lines : [empty]), ''];

function itemLines(items: PacketClient['items']): string[] {
  return items.flatMap((item) => {
    const carried = item.carriedOver ? '; carried over' : '';
    const lines = [
      `- **${categoryLabels[item.category]}**: ${text(item.question)} (${item.minutesRequested} min, requested by ${text(item.requestedBy.displayName)}${carried})`,
    ];
    if (item.clarity) lines.push(`  - Clarity: ${text(item.clarity)}`);
    if (item.motivation) lines.push(`  - Motivation: ${text(item.motivation)}`);
    if (item.obstacles.length > 0 || item.obstaclesNote) {
      const note = item.obstaclesNote ? ` (${text(item.obstaclesNote)})` : '';
      lines.push(`  - Obstacles: ${item.obstacles.map(words).join(', ') || 'none named'}${note}`);
    }
    return lines;
  });
}

function treatmentLines(client: PacketClient): string[] {
  const lines = [`- Stage: ${client.stage ? `${words(client.stage.stage)} since ${client.stage.fromDate}` : 'not assigned'}`];
  const episode = client.episode;
  if (!episode) return [...lines, '- Episode: none open'];
  const contract = episode.contractStart ? `, contract ${episode.contractStart} to ${episode.contractEnd ?? 'open'}` : '';
  const fourMiss = episode.fourMissMetOn ? `; four-miss rule met on ${episode.fourMissMetOn}` : '';
  return [...lines, `- Episode: ${words(episode.status)}${contract}${fourMiss}`];
}

function targetLines(targets: PacketClient['targets']): string[] {
  return targets.map((t) => {
    const side =
      t.therapyInterferingActor === 'therapist' ? ' — **therapist-side TIB**' : t.therapyInterferingActor === 'client' ? ' (client)' : '';
    const subtype = t.lifeThreateningSubtype ? ` (${words(t.lifeThreateningSubtype)})` : '';
    return `- ${words(t.category)}: ${text(t.label)}${subtype}, ${t.direction}${side}`;
  });
}

function diaryLines(client: PacketClient): string[] {
  const columns = new Map<string, string>();
  for (const t of client.targets) columns.set(t.targetId, t.label);
  for (const week of client.diaryTrends) for (const t of week.targets) if (!columns.has(t.targetId)) columns.set(t.targetId, t.label);
  const header = [
    'Week',
    'Days',
    'Completion',
    ...[...columns.values()].map((label) => `${text(label)}: max urge / action days`),
    'Skills mean',
    'Urge to quit (max)',
  ];
  const rows = client.diaryTrends.map((week) => [
    week.weekStart,
    `${week.daysFilled}/7${week.backFilledDays > 0 ? ` (${week.backFilledDays} back-filled)` : ''}`,
    percent(week.completion),
    ...[...columns.keys()].map((id) => {
      const rated = week.targets.find((t) => t.targetId === id);
      return rated ? `${figure(rated.maxUrge)} / ${rated.actionDays}` : '–';
    }),
    figure(week.skillsOverallMean),
    figure(week.urgeToQuitMax),
  ]);
  return table(header, rows);
}

function eventLines(events: PacketClient['events']): string[] {
  return events.map((e) => {
    const stay = e.daysInHospital === null ? '' : `, ${e.daysInHospital} days in hospital`;
    return `- ${e.occurredAt.toISOString()}: ${words(e.kind)}, ${e.severity} (${words(e.source)})${stay}`;
  });
}

function attendanceLines(attendance: PacketClient['attendance']): string[] {
  if (attendance.length === 0) return [];
  const rows = attendance.map((a) => [
    words(a.modality),
    `${a.streak} of ${a.threshold}`,
    a.status,
    a.metOn ?? '–',
    String(a.inPeriod.attended),
    String(a.inPeriod.missed),
    String(a.inPeriod.neutral),
  ]);
  return table(['Modality', 'Miss streak', 'Status', 'Met on', 'Attended', 'Missed', 'Neutral'], rows);
}

function coachingLines(coaching: PacketClient['coaching']): string[] {
  const purposes = Object.entries(coaching.purposes)
    .filter(([, n]) => n > 0)
    .map(([purpose, n]) => `${words(purpose)} ${n}`);
  return [
    `- Contacts: ${coaching.contacts} (${coaching.minutes} minutes); after hours: ${coaching.afterHours} (${percent(coaching.afterHoursShare)})`,
    `- Purposes: ${purposes.join(', ') || 'none'}`,
    `- Relationship repair: ${coaching.relationshipRepair}; 24-hour rule blocks: ${coaching.twentyFourHourBlocks}; overrides: ${coaching.overrides}; outside limits: ${coaching.outsideLimits}`,
  ];
}

function chainLines(chain: PacketClient['lastChainAnalysis']): string[] {
  if (!chain) return [];
  const list = (values: string[]) => values.map(text).join('; ') || 'none';
  return [
    `- ${chain.behaviourAt.toISOString()}: ${text(chain.problemBehaviour)} (completed in ${chain.completedIn})`,
    `- Prompting event: ${chain.promptingEvent ? text(chain.promptingEvent) : 'not recorded'}`,
    `- Vulnerabilities: ${list(chain.vulnerabilities)}`,
    `- Links: ${chain.links.map((link) => `${words(link.type)}: ${text(link.text)}`).join(' → ')}`,
    `- Solutions: ${list(chain.solutions)}`,
  ];
}

function clientSection(client: PacketClient): string[] {
  return [
    `## ${text(client.client.name)}`,
    '',
    ...section('Agenda items', itemLines(client.items), '- none'),
    ...section('Stage and episode', treatmentLines(client), ''),
    ...section('Targets', targetLines(client.targets), '- none in force'),
    ...section(
      'Goals',
      client.goals.map((g) => `- ${text(g.text)}${g.domain ? ` (${text(g.domain)})` : ''}`),
      '- none active',
    ),
    ...section('Diary trends', diaryLines(client), ''),
    ...section('Events', eventLines(client.events), '- none in the period'),
    ...section('Attendance', attendanceLines(client.attendance), '- no active episode'),
    ...section('Coaching', coachingLines(client.coaching), ''),
    ...section('Last chain analysis', chainLines(client.lastChainAnalysis), '- none'),
  ];
}

export function renderPrepMarkdown(packet: TeamPrepPacket): string {
  const { meeting, period } = packet;
  const others = packet.otherItems.map(
    (item) =>
      `- **${categoryLabels[item.category]}**: ${text(item.question)} (${item.minutesRequested} min, requested by ${text(item.requestedBy.displayName)})`,
  );
  return [
    `# Consultation team prep — ${text(meeting.teamName)} — ${meeting.date}`,
    '',
    `Meeting of ${meeting.date}, ${meeting.durationMinutes} minutes. Figures cover ${period.from} to ${period.to}. Generated ${packet.generatedAt.toISOString()}.`,
    '',
    ...packet.clients.flatMap(clientSection),
    '## Other items',
    '',
    ...(others.length > 0 ? others : ['- none']),
    '',
  ].join('\n');
}
