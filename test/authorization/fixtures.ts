import { sql } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { type StaffRole, staff } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { query, testDatabase } from '../helpers/app.js';
import { bearer, createClientRecord, createClinic, createProgram, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { activateClient, createGroupSession, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { createAgendaItemRow, createMeetingRow, createTeam } from '../helpers/teams.js';

/**
 * The world the authorization matrix runs in (see matrix.md for what each column and relationship
 * means). Everything is written straight to the database, except break-glass grants of clinicians,
 * which are requested through the API as a clinician would. Names and data are synthetic.
 */

export const columns = ['admin', 'therapist', 'skills_trainer', 'team_lead', 'compliance', 'none', 'anonymous'] as const;
export type Column = (typeof columns)[number];

/** The relationships of each scope, in the order a cell lists its codes. */
export const scopes = {
  public: ['anyone'],
  clinic: ['clinic'],
  record: ['clinic', 'other'],
  staff: ['self', 'colleague', 'other'],
  team: ['member', 'outsider', 'other'],
  group: ['leader', 'outsider', 'other'],
  client: ['own', 'team', 'group', 'unrelated', 'other', 'break-glass'],
} as const;
export type Scope = keyof typeof scopes;

/** Resolves a path parameter (the path before the first one, or the parameter's name) to an id. */
export type Resolve = (key: string) => Promise<string>;

export interface Person {
  id: string;
  clinicId: string;
  roles: StaffRole[];
  email: string;
  token: string;
}

export interface Setting {
  /** The token the cell calls with; null for the anonymous column. */
  token: string | null;
  resolve: Resolve;
}

const clinicians: readonly Column[] = ['therapist', 'skills_trainer', 'team_lead'];
const GROUP_START = '2024-01-01';
const DIARY_WEEK = '2024-01-08';

let passwordHash: Promise<string> | null = null;

/** A staff member inserted directly (one shared password hash keeps set-up fast), with a token. */
async function person(app: App, clinicId: string, roles: StaffRole[], label: string): Promise<Person> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const { db } = await testDatabase();
  const id = uuidv7();
  const email = `${label}-${id}@example.test`;
  await db.insert(staff).values({ clinicId, id, email, displayName: `Synthetic ${label}`, roles, passwordHash: await passwordHash });
  return { id, clinicId, roles, email, token: tokenFor(app, { id, clinicId, roles }) };
}

async function stateLimits(clinicId: string, staffId: string) {
  await query(sql`insert into coaching_limits (clinic_id, staff_id, version, effective_from, windows, channels, max_minutes, response_minutes, created_by)
    values (${clinicId}, ${staffId}, 1, '2020-01-01T00:00:00Z', ${JSON.stringify([{ weekday: 1, from: '17:00', to: '21:00' }])}::jsonb,
      array['phone'], 10, 60, ${staffId})`);
}

async function insertGrant(clinicId: string, staffId: string, clientId: string) {
  const id = uuidv7();
  await query(sql`insert into break_glass_grants (clinic_id, id, staff_id, client_id, reason, minutes, starts_at, expires_at)
    values (${clinicId}, ${id}, ${staffId}, ${clientId}, 'Synthetic emergency: the primary therapist is unreachable', 120, now(), now() + interval '2 hours')`);
  return id;
}

async function activeClient(clinicId: string, programId: string, primaryTherapistId: string) {
  const client = await createClientRecord(clinicId, { primaryTherapistId, programId, createdBy: primaryTherapistId });
  await activateClient(clinicId, client.id, GROUP_START);
  return client.id;
}

async function memberRow(team: { clinicId: string; id: string }, staffId: string) {
  const id = uuidv7();
  await query(
    sql`insert into team_members (clinic_id, id, team_id, staff_id, joined_on) values (${team.clinicId}, ${id}, ${team.id}, ${staffId}, '2020-01-01')`,
  );
  return id;
}

/** A consultation team with a meeting, an agenda item, an open proposal and a spare member. */
async function teamSite(
  clinicId: string,
  programId: string,
  leadId: string,
  memberIds: string[],
  spareId: string,
  proposalClientId: string,
) {
  const team = await createTeam(clinicId, { programId, leadId, memberIds });
  const memberId = await memberRow(team, spareId);
  const meeting = await createMeetingRow(team, '2025-01-08');
  const item = await createAgendaItemRow(meeting, { requestedBy: leadId });
  const proposalId = uuidv7();
  await query(sql`insert into team_agenda_proposals (clinic_id, id, meeting_id, client_id, kind, category, summary, evidence)
    values (${clinicId}, ${proposalId}, ${meeting.id}, ${proposalClientId}, 'contract_ending', 'consult', 'Synthetic contract ends soon', '{}'::jsonb)`);
  const ids: Record<string, string> = {
    '/v1/teams': team.id,
    '/v1/meetings': meeting.id,
    memberId,
    itemId: item.id,
    proposalId,
  };
  return ids;
}

/** A skills group (weekly on Mondays from 2024-01-01) with a session and a spare enrollment. */
async function groupSite(clinicId: string, programId: string, leaderId: string, coLeaderIds: string[], rosterClientId: string) {
  const group = await createSkillsGroup(clinicId, { programId, leaderId, coLeaderIds, cycleStartDate: GROUP_START });
  const session = await createGroupSession(group, '2024-01-08');
  const enrollment = await enrollClient(group, rosterClientId, GROUP_START);
  const ids: Record<string, string> = { '/v1/skills-groups': group.id, '/v1/group-sessions': session.id, enrollmentId: enrollment.id };
  return { group, ids };
}

/** The clinical records of one client, each created the first time a path names it. */
function clientRecords(clinicId: string, clientId: string, authorId: string): Resolve {
  const made = new Map<string, Promise<string>>();
  const once = (key: string, make: () => Promise<string>) => {
    if (!made.has(key)) made.set(key, make());
    return made.get(key) as Promise<string>;
  };
  const insert = async (statement: (id: string) => ReturnType<typeof sql>) => {
    const id = uuidv7();
    await query(statement(id));
    return id;
  };
  const makers: Record<string, () => Promise<string>> = {
    '/v1/clients': async () => clientId,
    episodeId: async () => {
      const [episode] = await query<{ id: string }>(
        sql`select id from treatment_episodes where clinic_id = ${clinicId} and client_id = ${clientId} and status <> 'discharged'`,
      );
      return (episode as { id: string }).id;
    },
    goalId: () =>
      insert(
        (id) => sql`insert into goals (clinic_id, id, client_id, text, status, created_by)
        values (${clinicId}, ${id}, ${clientId}, 'Finish a synthetic pottery course', 'active', ${authorId})`,
      ),
    targetId: () =>
      insert(
        (
          id,
        ) => sql`insert into targets (clinic_id, target_id, version, client_id, category, direction, measure, label, effective_from, created_by)
        values (${clinicId}, ${id}, 1, ${clientId}, 'quality_of_life', 'decrease', 'count', 'Skipping lunch (synthetic)', '2024-01-01T00:00:00Z', ${authorId})`,
      ),
    eventId: () =>
      insert(
        (id) => sql`insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, recorded_by)
        values (${clinicId}, ${id}, ${clientId}, 'nssi', '2024-01-10T21:30:00Z', 'moderate', 'client_report', ${authorId})`,
      ),
    analysisId: async () => {
      const eventId = await once('eventId', makers.eventId as () => Promise<string>);
      return insert(
        (id) => sql`insert into chain_analyses (clinic_id, id, client_id, event_id, behaviour_at, problem_behaviour, links, consequences,
          completed_in, created_by)
        values (${clinicId}, ${id}, ${clientId}, ${eventId}, '2024-01-10T21:30:00Z', 'Scratched forearm (synthetic)',
          ${JSON.stringify([{ type: 'thought', text: 'Nobody cares', skillfulAlternative: null, skillId: null }])}::jsonb, '[]'::jsonb,
          'homework', ${authorId})`,
      );
    },
    weekStart: async () => {
      const cardId = await insert(
        (id) => sql`insert into diary_cards (clinic_id, id, client_id, week_start) values (${clinicId}, ${id}, ${clientId}, ${DIARY_WEEK})`,
      );
      await query(sql`insert into diary_card_versions (clinic_id, card_id, version, days, change, changed_by)
        values (${clinicId}, ${cardId}, 1, '{}'::jsonb, 'card', ${authorId})`);
      return DIARY_WEEK;
    },
    date: async () => '2024-01-10',
    '/v1/sessions': async () => {
      const sessionId = await insert(
        (id) => sql`insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start,
          duration_minutes, type, attendance, note, created_by)
        values (${clinicId}, ${id}, ${clientId}, ${authorId}, '2024-01-08T10:00:00Z', 50, 'regular', 'attended', 'Synthetic session note', ${authorId})`,
      );
      await query(sql`insert into psychotherapy_notes (clinic_id, id, session_id, author_id, body)
        values (${clinicId}, ${uuidv7()}, ${sessionId}, ${authorId}, 'Synthetic process note')`);
      return sessionId;
    },
    '/v1/coaching-contacts': () =>
      insert(
        (id) => sql`insert into coaching_contacts (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, purpose,
          after_hours, over_minute_limit, outside_limits, rule_status, created_by)
        values (${clinicId}, ${id}, ${clientId}, ${authorId}, 'client', 'phone', '2024-01-10T21:30:00Z', 'skills_generalization',
          false, false, false, 'not_applicable', ${authorId})`,
      ),
  };
  return (key) => {
    const make = makers[key];
    if (!make) throw new Error(`no client record for path parameter ${key}: add one in test/authorization/fixtures.ts`);
    return once(key, make);
  };
}

const fromTable =
  (ids: Record<string, string>): Resolve =>
  async (key) => {
    const id = ids[key];
    if (!id) throw new Error(`no fixture for path parameter ${key}: add one in test/authorization/fixtures.ts`);
    return id;
  };

export type World = Awaited<ReturnType<typeof buildWorld>>;

export async function buildWorld(app: App) {
  const home = (await createClinic()).clinic;
  const away = (await createClinic()).clinic;
  const program = (await createProgram(home.id)).program;
  const awayProgram = (await createProgram(away.id)).program;
  const policyProgram = (await createProgram(home.id)).program;

  const actors = {} as Record<Exclude<Column, 'anonymous'>, Person>;
  for (const role of ['admin', 'therapist', 'skills_trainer', 'team_lead', 'compliance'] as const) {
    actors[role] = await person(app, home.id, [role], role);
  }
  actors.none = await person(app, home.id, [], 'no-roles');
  const actorIds = Object.values(actors).map((actor) => actor.id);

  // Staff around the actors: the primary therapist of every client that is not the actor's own,
  // leads and trainers of the groups and teams the actors are not in, a colleague, a newcomer.
  const therapist = await person(app, home.id, ['therapist'], 'primary');
  const outsideLead = await person(app, home.id, ['team_lead', 'therapist'], 'outside-lead');
  const outsideTrainer = await person(app, home.id, ['skills_trainer'], 'outside-trainer');
  const colleague = await person(app, home.id, ['therapist'], 'colleague');
  const newcomer = await person(app, home.id, ['therapist'], 'newcomer');
  const awayTherapist = await person(app, away.id, ['therapist', 'team_lead', 'skills_trainer'], 'away');
  const awaySpare = await person(app, away.id, ['therapist'], 'away-spare');
  for (const member of [...Object.values(actors), colleague, awayTherapist]) await stateLimits(member.clinicId, member.id);

  const rosterClient = await activeClient(home.id, program.id, therapist.id);
  const enrollee = await activeClient(home.id, program.id, therapist.id);
  const awayClient = await activeClient(away.id, awayProgram.id, awayTherapist.id);

  const teams = {
    member: await teamSite(home.id, program.id, actors.team_lead.id, actorIds, colleague.id, rosterClient),
    outsider: await teamSite(home.id, program.id, outsideLead.id, [], colleague.id, rosterClient),
    other: await teamSite(away.id, awayProgram.id, awayTherapist.id, [], awaySpare.id, awayClient),
  };
  const coLeaders = actorIds.filter((id) => id !== actors.skills_trainer.id);
  const leaderGroup = await groupSite(home.id, program.id, actors.skills_trainer.id, coLeaders, rosterClient);
  const groups = {
    leader: leaderGroup.ids,
    outsider: (await groupSite(home.id, program.id, outsideTrainer.id, [], rosterClient)).ids,
    other: (await groupSite(away.id, awayProgram.id, awayTherapist.id, [], awayClient)).ids,
  };
  const skill = async (clinicId: string) => {
    const id = uuidv7();
    await query(
      sql`insert into skills (clinic_id, id, module, name, sort_order, standard) values (${clinicId}, ${id}, 'mindfulness', ${`Synthetic skill ${id}`}, 999, false)`,
    );
    return id;
  };
  const records = {
    clinic: {
      '/v1/programs': policyProgram.id,
      '/v1/skills': await skill(home.id),
      '/v1/break-glass': await insertGrant(home.id, therapist.id, enrollee),
    },
    other: {
      '/v1/programs': awayProgram.id,
      '/v1/skills': await skill(away.id),
      '/v1/break-glass': await insertGrant(away.id, awayTherapist.id, awayClient),
    },
  };

  /** A client in the given relationship to the actor, with an active episode. */
  async function relatedClient(actor: Person, relationship: string): Promise<Resolve> {
    if (relationship === 'other') {
      return clientRecords(away.id, await activeClient(away.id, awayProgram.id, awayTherapist.id), awayTherapist.id);
    }
    const primary = relationship === 'own' ? actor.id : therapist.id;
    const clientId = await activeClient(home.id, program.id, primary);
    if (relationship === 'team')
      await query(sql`update clients set team_id = ${teams.member['/v1/teams']} where clinic_id = ${home.id} and id = ${clientId}`);
    if (relationship === 'group') await enrollClient(leaderGroup.group, clientId, GROUP_START);
    if (relationship === 'break-glass') await grantFor(actor, clientId);
    return clientRecords(home.id, clientId, primary);
  }

  async function grantFor(actor: Person, clientId: string) {
    const column = actor.roles[0] ?? 'none';
    if (!clinicians.includes(column)) {
      await insertGrant(home.id, actor.id, clientId);
      return;
    }
    const response = await app.inject({
      method: 'POST',
      url: '/v1/break-glass',
      headers: bearer(actor.token),
      payload: { clientId, reason: 'Synthetic emergency: the primary therapist is unreachable', minutes: 120 },
    });
    if (response.statusCode !== 201) throw new Error(`break-glass request for the fixture failed: ${response.statusCode} ${response.body}`);
  }

  const shared = new Map<string, Promise<Resolve>>();
  const sharedClient = (actor: Person, relationship: string) => {
    const key = `${actor.id}:${relationship}`;
    if (!shared.has(key)) shared.set(key, relatedClient(actor, relationship));
    return shared.get(key) as Promise<Resolve>;
  };

  /**
   * What one cell calls with and about. Writes get fresh clients and fresh staff members, so no
   * cell's outcome depends on what an earlier cell changed; reads share them. The anonymous column
   * names the therapist's targets.
   */
  async function setting(scope: Scope, column: Column, relationship: string, fresh: boolean): Promise<Setting> {
    const actor = column === 'anonymous' ? actors.therapist : actors[column];
    const token = column === 'anonymous' ? null : actor.token;
    const writes = fresh && column !== 'anonymous';
    switch (scope) {
      case 'public':
      case 'clinic':
        return { token, resolve: fromTable({}) };
      case 'record':
        return { token, resolve: fromTable(records[relationship as 'clinic' | 'other']) };
      case 'team':
        return { token, resolve: fromTable(teams[relationship as keyof typeof teams]) };
      case 'group':
        return { token, resolve: fromTable(groups[relationship as keyof typeof groups]) };
      case 'staff': {
        if (relationship === 'self') {
          const self = writes ? await person(app, home.id, actor.roles, `fresh-${column}`) : actor;
          return { token: column === 'anonymous' ? null : self.token, resolve: fromTable({ '/v1/staff': self.id }) };
        }
        const target =
          relationship === 'other' ? awayTherapist : writes ? await person(app, home.id, ['therapist'], 'fresh-colleague') : colleague;
        return { token, resolve: fromTable({ '/v1/staff': target.id }) };
      }
      case 'client':
        return { token, resolve: writes ? await relatedClient(actor, relationship) : await sharedClient(actor, relationship) };
    }
  }

  return {
    home,
    program,
    actors,
    outsideLead,
    outsideTrainer,
    newcomer,
    rosterClient,
    enrollee,
    setting,
    login: { clinic: home.slug, email: colleague.email, password: TEST_PASSWORD },
  };
}
