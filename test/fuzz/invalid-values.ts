import fc from 'fast-check';
import { type Contract, isObject, type JsonSchema, type Parameter } from './contract.js';

/*
 * Values a schema refuses. Each generator draws from corpora of near misses (ids and dates that
 * almost parse, SQL- and script-looking text, unicode, blanks, numbers past their bounds, wrong
 * types, deep nesting) and keeps only what the schema check refuses, so a value the contract admits
 * is never sent as invalid.
 */

const sqlText = [
  "' OR 1=1 --",
  '1; DROP TABLE clients; --',
  "' UNION SELECT password_hash FROM staff --",
  "admin'--",
  '" OR ""="',
  "%' AND 1=0 UNION SELECT NULL --",
  "'; SELECT pg_sleep(5); --",
  '$1::uuid',
];
const scriptText = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as text.
  '${7*7}',
  '<svg/onload=alert(1)>',
];
const unicodeText = [
  '💥',
  '👨‍👩‍👧‍👦',
  '\u202Eevil',
  'שלום',
  'مرحبا',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  '\u200B',
  '\uFEFF',
  '１２３',
  'I\u0307',
  '\u0301',
];
const blankText = ['', ' ', 'null', 'undefined', 'NaN', 'Infinity', '-0', 'true', '[]', '{}', '0', '%00', '../../etc/passwd'];
const impossibleDates = [
  '2026-02-30',
  '2026-13-01',
  '2026-00-10',
  '2025-02-29',
  '2026-1-1',
  '26-01-01',
  '2026/01/01',
  '20260101',
  '2026-01-32',
  '0000-00-00',
];
const impossibleTimes = ['T24:00:00Z', 'T10:60:00Z', 'T10:00:00', ' 10:00:00Z', 'T10:00Z', 'T10:00:00+25:00', 'T10:00:00.Z', 'T1:00:00Z'];
export const wrongTypes: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 53) - 2,
  1e308,
  '',
  'null',
  '1',
  'true',
  [],
  [null],
  {},
  { $gt: '' },
];
const fillers = ['x', 'é', '💥', '\u202E', 'ب'];

export const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

/** Nested arrays or objects, as deep as asked. */
export function nested(depth: number, arrays: boolean): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = arrays ? [value] : { a: value };
  return value;
}

const deep = fc.tuple(fc.integer({ min: 2, max: 1000 }), fc.boolean()).map(([depth, arrays]) => nested(depth, arrays));

const mangledUuid = fc
  .tuple(fc.uuid(), fc.nat(8), pick(['0', '9', 'c', 'f', 'g', 'z', ...sqlText, ...unicodeText]))
  .map(([uuid, how, junk]) => {
    const at = (index: number, char: string) => uuid.slice(0, index) + char + uuid.slice(index + 1);
    const variants = [
      at(14, junk.charAt(0) || '0'),
      at(19, junk.charAt(0) || '0'),
      uuid.replaceAll('-', ''),
      `{${uuid}}`,
      uuid.slice(0, -1),
      `${uuid}0`,
      uuid + junk,
      `urn:uuid:${uuid}`,
      at(how * 4, 'g'),
    ];
    return variants[how] as string;
  });

const pad = (value: number, width: number) => String(value).padStart(width, '0');
const randomDate = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
  .map(([year, month, day]) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`);
const datesAndTimes = fc.oneof(
  pick(impossibleDates),
  randomDate,
  fc
    .tuple(fc.oneof(pick(impossibleDates), randomDate, fc.constant('2030-01-07')), pick([...impossibleTimes, 'T10:00:00Z', '']))
    .map(([date, time]) => date + time),
);

/** Strings that look like input but fit no format: near-miss ids and dates, SQL, script, unicode, blanks. */
const junkString = fc.oneof(
  pick([...sqlText, ...scriptText, ...unicodeText, ...blankText]),
  mangledUuid,
  datesAndTimes,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(
      pick(['01900000-0000-7000-8000-000000000000', '2030-01-07', '2030-01-07T10:00:00Z']),
      pick([...sqlText, ...scriptText, ...unicodeText]),
    )
    .map(([valid, junk]) => valid + junk),
);

const tooLong = (max: number, huge: readonly number[]) =>
  fc
    .tuple(pick(fillers), fc.oneof({ arbitrary: fc.integer({ min: 1, max: 64 }), weight: 4 }, { arbitrary: pick(huge), weight: 1 }))
    .map(([filler, extra]) => filler.repeat(max + extra));

/** Replaces lone surrogates, which a URL or header cannot carry. */
const wellFormed = (value: string) => value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** A value the schema admits, for filling arrays to a wrong length; undefined when none is obvious. */
export function validValue(contract: Contract, schema: JsonSchema): unknown {
  const s = contract.resolve(schema);
  const candidate = (() => {
    if (s.enum) return s.enum[0];
    if ('const' in s) return s.const;
    const branch = s.anyOf?.[0] ?? s.oneOf?.[0];
    if (branch) return validValue(contract, branch);
    switch ([s.type].flat()[0]) {
      case 'string':
        return (
          {
            uuid: '01900000-0000-7000-8000-000000000000',
            date: '2030-01-07',
            'date-time': '2030-01-07T10:00:00Z',
            email: 'fuzz@example.test',
          }[s.format ?? ''] ?? 'x'.repeat(Math.max(1, s.minLength ?? 0))
        );
      case 'integer':
      case 'number':
        return s.minimum ?? 0;
      case 'boolean':
        return true;
      case 'array':
        return Array.from({ length: s.minItems ?? 0 }, () => validValue(contract, s.items ?? {}));
      case 'object':
        return Object.fromEntries((s.required ?? []).map((key) => [key, validValue(contract, s.properties?.[key] ?? {})]));
      default:
        return null;
    }
  })();
  return contract.conforms(s, candidate) ? candidate : undefined;
}

/** The schema's branches, with anyOf/oneOf flattened: a value must be invalid for every one of them. */
export function branches(contract: Contract, schema: JsonSchema): JsonSchema[] {
  const s = contract.resolve(schema);
  const alternatives = s.anyOf ?? s.oneOf;
  return alternatives ? alternatives.flatMap((branch) => branches(contract, branch)) : [s];
}

function candidatesFor(contract: Contract, s: JsonSchema, sample: unknown, huge: readonly number[]): fc.Arbitrary<unknown>[] {
  const types = [s.type].flat();
  const pools: fc.Arbitrary<unknown>[] = [];
  if (types.includes('string') || s.enum) {
    if (s.pattern || s.format || s.enum) pools.push(junkString);
    if (s.enum) {
      const members = s.enum.map(String);
      pools.push(
        pick(members.flatMap((m) => [m.toUpperCase(), `${m} `, ` ${m}`, `${m}\u0000`, m.slice(0, -1), `${m}x`, `'${m}' OR 1=1 --`])),
      );
    }
    if (s.maxLength !== undefined) pools.push(tooLong(s.maxLength, huge));
    if (s.minLength) pools.push(fc.constant('x'.repeat(s.minLength - 1)), fc.constant(''));
  }
  if (types.includes('integer') || types.includes('number')) {
    const min = s.minimum ?? -(2 ** 53);
    const max = s.maximum ?? 2 ** 53;
    pools.push(pick([min - 1, max + 1, min - 1000, max + 1000, -(2 ** 53) - 2, 2 ** 53 + 2, 1e21, -1e308, String(min), '']));
    if (types.includes('integer') && !types.includes('number')) pools.push(pick([min + 0.5, max - 0.5, 1.5, 0.1]));
  }
  if (types.includes('array')) {
    const filler = Array.isArray(sample) && sample.length > 0 ? sample[0] : validValue(contract, s.items ?? {});
    if (s.maxItems !== undefined && filler !== undefined) pools.push(fc.constant(Array.from({ length: s.maxItems + 1 }, () => filler)));
    if (s.minItems && filler !== undefined) pools.push(fc.constant(Array.from({ length: s.minItems - 1 }, () => filler)));
    if (s.items) pools.push(pick(wrongTypes).map((item) => [item]));
  }
  if (types.includes('object')) {
    pools.push(fc.constant({}));
    const names = s.propertyNames;
    const entry = isObject(s.additionalProperties) ? validValue(contract, s.additionalProperties) : undefined;
    if (names?.maxLength !== undefined && entry !== undefined) pools.push(fc.constant({ ['k'.repeat(names.maxLength + 1)]: entry }));
  }
  return pools;
}

/**
 * Values the schema refuses: wrong types, deep nesting, and — per branch — near-miss strings,
 * numbers past their bounds, arrays of the wrong length. Every one is checked against the
 * schema, so a value the contract admits is never sent as "invalid". Null when the schema admits
 * anything.
 */
export function invalidValue(contract: Contract, schema: JsonSchema, sample?: unknown, huge: readonly number[] = [100_000]) {
  if ([null, true, 0, 1.5, '', 'x', [], {}].every((probe) => contract.conforms(schema, probe))) return null;
  const pools = [pick(wrongTypes), deep, ...branches(contract, schema).flatMap((branch) => candidatesFor(contract, branch, sample, huge))];
  return fc.oneof(...pools).filter((value) => !contract.conforms(schema, value));
}

/** Values a query, path or header parameter refuses: strings only, as they arrive. */
export function invalidParameter(contract: Contract, parameter: Parameter, huge: readonly number[]) {
  const s = contract.resolve(parameter.schema);
  const numeric = [s.type].flat().some((type) => type === 'integer' || type === 'number');
  const admits = (value: string) => (numeric ? contract.conforms(s, Number(value)) : contract.conforms(s, value));
  const header = parameter.part === 'headers';
  const pools = [
    junkString,
    pick(['-1', '0', '1.5', '1e400', '0x1G', 'abc', ' ', "1' OR '1'='1"]),
    ...branches(contract, s).flatMap((branch) => candidatesFor(contract, branch, undefined, huge)),
  ];
  const strings = fc
    .oneof(...pools)
    .map((value) => (typeof value === 'number' ? String(value) : value))
    .filter((value): value is string => typeof value === 'string')
    .map((value) => (header ? value.replace(/[^\x20-\x7e]/g, '~').trim() : wellFormed(value)));
  return strings.filter((value) => !admits(value) && (parameter.part !== 'params' || value !== ''));
}
