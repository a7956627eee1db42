import { z } from 'zod';
import { AppError } from './errors.js';

/** Strong ETag from a row version. */
export const etagOf = (version: number) => `"${version}"`;

/** PATCH and PUT must say which version they change: 428 without If-Match, 412 when stale. */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (!header) throw new AppError('precondition_required', 'Send If-Match with the ETag from your last read');
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!tags.includes('*') && !tags.includes(etagOf(version))) {
    throw new AppError('precondition_failed', 'The record changed since you read it; read it again and retry');
  }
}

export const ifMatchHeaders = z.object({ 'if-match': z.string().max(200).optional() });

/** Opaque cursor: the last item's id, encoded so clients do not build their own. */
export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

const uuid = z.uuid();

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .transform((value, ctx) => {
      const id = Buffer.from(value, 'base64url').toString();
      if (!uuid.safeParse(id).success) {
        ctx.addIssue({ code: 'custom', message: 'cursor is not one this API issued' });
        return z.NEVER;
      }
      return id;
    })
    .optional(),
};

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Takes one row more than the page holds, to know whether another page follows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

/** Timestamps leave as ISO 8601 strings; in the schema they are documented as date-time. */
export const isoDateTime = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (value) => new Date(value),
  encode: (date) => date.toISOString(),
});
