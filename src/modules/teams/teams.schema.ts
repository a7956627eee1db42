import { z } from 'zod';
import { agendaCategories, meetingRoles } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const name = z
  .string()
  .max(200)
  .transform((value) => value.trim())
  .refine((value) => value.length > 0, 'must not be blank');

const categoryOrder = z
  .array(z.enum(agendaCategories))
  .min(1)
  .max(agendaCategories.length)
  .refine((list) => new Set(list).size === list.length, 'must name each category once')
  .nullable()
  .describe('the categories the team takes first, in order; the others follow in the default order; null: the default order');

const settings = {
  categoryOrder,
  openingMinutes: z.number().int().min(0).max(60).describe('minutes of mindfulness and the agreement before the agenda (default 10)'),
  coachingContactsThreshold: z
    .number()
    .int()
    .min(1)
    .max(100)
    .describe("a client's coaching contacts since the last meeting above which the pre-fill flags over-use (default 5)"),
  afterHoursShareThreshold: z
    .number()
    .min(0)
    .max(1)
    .describe("share of a client's contacts after hours above which the pre-fill flags it, from two contacts (default 0.5)"),
};

export const createTeamBody = z.strictObject({
  programId: z.uuid(),
  name,
  leadId: z.uuid().describe('an active staff member with the team_lead role; becomes a member'),
  memberIds: z
    .array(z.uuid())
    .max(30)
    .refine((list) => new Set(list).size === list.length, 'members must not repeat')
    .optional()
    .describe('active clinicians who join today, besides the lead'),
  categoryOrder: settings.categoryOrder.optional(),
  openingMinutes: settings.openingMinutes.optional(),
  coachingContactsThreshold: settings.coachingContactsThreshold.optional(),
  afterHoursShareThreshold: settings.afterHoursShareThreshold.optional(),
});

/** The lead changes by an administrator only; the service refuses anyone else. */
export const updateTeamBody = z
  .strictObject({
    name: name.optional(),
    leadId: z.uuid().optional(),
    categoryOrder: settings.categoryOrder.optional(),
    openingMinutes: settings.openingMinutes.optional(),
    coachingContactsThreshold: settings.coachingContactsThreshold.optional(),
    afterHoursShareThreshold: settings.afterHoursShareThreshold.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const teamResponse = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    name: z.string(),
    leadId: z.uuid(),
    categoryOrder: z.array(z.enum(agendaCategories)).nullable(),
    effectiveCategoryOrder: z.array(z.enum(agendaCategories)).describe('the order the agenda uses: categoryOrder, or the default'),
    openingMinutes: z.number().int(),
    coachingContactsThreshold: z.number().int(),
    afterHoursShareThreshold: z.number(),
    currentMembers: z.number().int(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Team' });

export const addMemberBody = z.strictObject({
  staffId: z.uuid().describe('an active clinician of the clinic'),
  joinedOn: z.iso.date().optional().describe('YYYY-MM-DD; default today (clinic-local)'),
  agreementsAcceptedAt: z.iso.datetime({ offset: true }).optional().describe('when the member accepted the team agreements'),
});

export const updateMemberBody = z
  .strictObject({
    leftOn: z.iso.date().nullable().optional().describe('the day the member left (no longer a member from that day); null reopens'),
    agreementsAcceptedAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const teamMemberResponse = z
  .object({
    id: z.uuid(),
    teamId: z.uuid(),
    staffId: z.uuid(),
    displayName: z.string(),
    roles: z.array(z.string()),
    joinedOn: z.iso.date(),
    leftOn: z.iso.date().nullable(),
    agreementsAcceptedAt: isoDateTime.nullable(),
    current: z.boolean().describe('a member today: joined on or before today and not yet left'),
    lead: z.boolean(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'TeamMember' });

export const rotaResponse = z
  .object({
    teamId: z.uuid(),
    basedOnMeetings: z.number().int().describe('how many past meetings the suggestion looked at'),
    suggestions: z.array(
      z.object({
        role: z.enum(meetingRoles),
        staffId: z.uuid().nullable().describe('the current member who held the role longest ago (never first), or null without members'),
        lastHeldOn: z.iso.date().nullable(),
        timesHeld: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'TeamRota' });

export const teamIdParams = z.strictObject({ id: z.uuid() });
export const memberParams = z.strictObject({ id: z.uuid(), memberId: z.uuid() });
export const listTeamsQuery = z.strictObject({
  ...pageQuery,
  programId: z.uuid().optional(),
  memberId: z.uuid().optional().describe('teams this staff member is a current member of'),
});
export const listMembersQuery = z.strictObject({
  current: z.enum(['true', 'false']).default('true').describe('false lists every membership, past ones too'),
});
export const teamPage = page(teamResponse);
export const teamMemberList = z.object({ items: z.array(teamMemberResponse) });
export { ifMatchHeaders };

export type TeamResponse = z.infer<typeof teamResponse>;
export type TeamMemberResponse = z.infer<typeof teamMemberResponse>;
export type RotaResponse = z.infer<typeof rotaResponse>;
export type CreateTeamBody = z.output<typeof createTeamBody>;
export type UpdateTeamBody = z.output<typeof updateTeamBody>;
export type AddMemberBody = z.output<typeof addMemberBody>;
export type UpdateMemberBody = z.output<typeof updateMemberBody>;
export type ListTeamsQuery = z.output<typeof listTeamsQuery>;
