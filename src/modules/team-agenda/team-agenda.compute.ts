import type { AgendaCategory } from '../../db/schema/index.js';

export interface OrderableItem {
  id: string;
  category: AgendaCategory;
  requestedAt: Date;
  minutesRequested: number;
}

export interface PlacedItem<T> {
  item: T;
  position: number;
  /** Minutes from the start of the meeting (after the opening) at which the item would start. */
  startsAtMinute: number;
  fits: boolean;
}

/** Category by the team's order, then the earliest request (carried items keep theirs), then id. */
export function compareAgendaItems(order: readonly AgendaCategory[]) {
  const rank = new Map(order.map((category, index) => [category, index]));
  return (a: OrderableItem, b: OrderableItem) =>
    (rank.get(a.category) ?? order.length) - (rank.get(b.category) ?? order.length) ||
    a.requestedAt.getTime() - b.requestedAt.getTime() ||
    a.id.localeCompare(b.id);
}

/**
 * Orders the items and time-boxes them: the meeting's opening (mindfulness, the agreement) comes
 * first, then items in order while they fit in the minutes left. The first item that does not fit
 * and every item after it are over: a lower-priority item never takes the time of a higher one
 * that did not fit.
 */
export function timeBoxAgenda<T extends OrderableItem>(
  items: T[],
  order: readonly AgendaCategory[],
  durationMinutes: number,
  openingMinutes: number,
): { placed: PlacedItem<T>[]; availableMinutes: number; requestedMinutes: number; overMinutes: number } {
  const availableMinutes = Math.max(durationMinutes - openingMinutes, 0);
  let used = 0;
  let full = false;
  const placed = [...items].sort(compareAgendaItems(order)).map((item, index) => {
    const startsAtMinute = openingMinutes + used;
    used += item.minutesRequested;
    full ||= used > availableMinutes;
    return { item, position: index + 1, startsAtMinute, fits: !full };
  });
  return { placed, availableMinutes, requestedMinutes: used, overMinutes: Math.max(used - availableMinutes, 0) };
}
