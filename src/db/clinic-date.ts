import { sql } from 'drizzle-orm';

/** The clinic's time zone, as SQL: dates of group sessions and "today" are the clinic's local ones. */
export const clinicTimeZone = (clinicId: string) => sql`(select c.time_zone from clinics c where c.id = ${clinicId})`;

/** Today's date in the clinic's time zone, as SQL. */
export const clinicDateToday = (clinicId: string) => sql`(now() at time zone ${clinicTimeZone(clinicId)})::date`;
