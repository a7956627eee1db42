import { sql } from 'drizzle-orm';

/**
 * The clinic's time zone, as SQL: dates of group sessions and "today" are the clinic's local ones.
 * A function call in a scalar subquery (migration 0016): evaluated once per statement, and no
 * table for the planner to bring a row-level-security policy in for at each use.
 */
export const clinicTimeZone = (clinicId: string) => sql`(select clinic_time_zone(${clinicId}::uuid))`;

/** Today's date in the clinic's time zone, as SQL. */
export const clinicDateToday = (clinicId: string) => sql`(now() at time zone ${clinicTimeZone(clinicId)})::date`;
