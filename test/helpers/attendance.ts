import { sql } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { uuidv7 } from '../../src/lib/ids.js';
import type { PolicySettings } from '../../src/modules/programs/programs.queries.js';
import { addDays } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { query } from './app.js';
import { createClientRecord, createClinic, createProgram, memberWithToken, tokenFor } from './factories.js';
import { activateClient } from './groups.js';

/** Monday of the week `weeksAgo` weeks before this one (UTC, the test clinics' time zone). */
export function monday(weeksAgo: number): string {
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const isoWeekday = ((now.getUTCDay() + 6) % 7) + 1;
  return addDays(today, -(isoWeekday - 1) - 7 * weeksAgo);
}

/** A therapist's active client, contract started twelve weeks ago, under a program with the given policy. */
export async function activeClient(app: App, policy: Partial<PolicySettings> = {}) {
  const { clinic, admin } = await createClinic();
  const therapist = await memberWithToken(app, clinic.id, ['therapist']);
  const { program } = await createProgram(clinic.id, 'adult', policy);
  const client = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
  await activateClient(clinic.id, client.id, monday(12));
  return { clinic, admin: { ...admin, token: tokenFor(app, admin) }, therapist, program, client };
}

/** An individual session written straight to the database (set-up), at 10:00 UTC on the date. */
export async function pastSession(
  setting: { clinic: { id: string }; client: { id: string }; therapist: { id: string } },
  date: string,
  attendance: string,
  extra: { lateMinutes?: number; noticeHours?: number; hour?: number } = {},
) {
  const id = uuidv7();
  const at = `${date}T${String(extra.hour ?? 10).padStart(2, '0')}:00:00Z`;
  await query(sql`insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type,
      attendance, late_minutes, notice_hours, created_by)
    values (${setting.clinic.id}, ${id}, ${setting.client.id}, ${setting.therapist.id}, ${at}, 50, 'regular', ${attendance},
      ${extra.lateMinutes ?? null}, ${extra.noticeHours ?? null}, ${setting.therapist.id})`);
  return id;
}

/** Group attendance written straight to the database (set-up). */
export async function groupMark(clinicId: string, sessionId: string, clientId: string, status: string, recordedBy: string) {
  await query(sql`insert into group_attendance (clinic_id, session_id, client_id, status, recorded_by)
    values (${clinicId}, ${sessionId}, ${clientId}, ${status}, ${recordedBy})`);
}
