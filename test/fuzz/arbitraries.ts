import fc from 'fast-check';
import { type Contract, isObject, type JsonSchema, type Operation, type Part } from './contract.js';
import { branches, invalidParameter, invalidValue, nested, pick, validValue, wrongTypes } from './invalid-values.js';

/** A request the operation's schemas admit: the starting point every invalid case changes in one place. */
export interface BaseRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
}

/** One request that is invalid by construction, and the answer the API owes it. */
export interface FuzzCase {
  /** What was made invalid, for the failure message. */
  label: string;
  part: Part;
  /** The dotted field the problem's `errors` must name ('' = any field of the part; null = no list is owed). */
  field: string | null;
  status: number;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

interface FuzzLimits {
  bodyLimit: number;
  /** Fastify's router refuses a path parameter longer than this with 414. */
  maxParamLength: number;
}

type Path = Array<string | number>;

const unknownKeys = [
  'id',
  'clinicId',
  'role',
  'roles',
  'isAdmin',
  'createdBy',
  'version',
  'deletedAt',
  '$where',
  'constructor',
  'toString',
  'a.b',
  '💥',
  "' OR 1=1 --",
  '<script>',
];

interface Location {
  path: Path;
  schema: JsonSchema;
  value: unknown;
  present: boolean;
}

/** Every place in the body a value can go: the fields the base request fills, and the optional ones it leaves out. */
function bodyLocations(contract: Contract, schema: JsonSchema, value: unknown, path: Path = [], present = true): Location[] {
  const found: Location[] = [{ path, schema, value, present }];
  if (!present) return found;
  const s = contract.resolve(schema);
  const branch = (s.anyOf ?? s.oneOf)?.find((alternative) => contract.conforms(alternative, value));
  if (branch) return [...found, ...bodyLocations(contract, branch, value, path).slice(1)];
  if (Array.isArray(value) && s.items) {
    const items = s.items;
    for (const [index, item] of value.slice(0, 3).entries()) found.push(...bodyLocations(contract, items, item, [...path, index]));
  }
  if (isObject(value)) {
    for (const [key, property] of Object.entries(s.properties ?? {})) {
      found.push(...bodyLocations(contract, property, value[key], [...path, key], Object.hasOwn(value, key)));
    }
    const entries = s.additionalProperties;
    if (isObject(entries)) {
      for (const key of Object.keys(value).slice(0, 3)) found.push(...bodyLocations(contract, entries, value[key], [...path, key]));
      found.push({ path: [...path, 'fuzzEntry'], schema: entries, value: undefined, present: false });
    }
  }
  return found;
}

function change(body: unknown, path: Path, apply: (parent: Record<string | number, unknown>, key: string | number) => void) {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  apply(parent, path.at(-1) as string | number);
  return copy;
}

const preview = (value: unknown) => {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}… (${text.length} chars)` : text;
};

const encodeSegment = (value: string) => encodeURIComponent(value).replaceAll('.', '%2E');

interface Changes {
  params?: Record<string, string>;
  /** A path segment sent as written, not encoded. */
  rawSegment?: { name: string; raw: string };
  query?: Record<string, string | string[] | undefined>;
  headers?: Record<string, string | undefined>;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  noBody?: boolean;
}

function assemble(operation: Operation, base: BaseRequest, changes: Changes) {
  const params = { ...base.params, ...changes.params };
  const path = operation.route.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) =>
    changes.rawSegment?.name === name ? changes.rawSegment.raw : encodeSegment(params[name] ?? ''),
  );
  const query = Object.entries({ ...base.query, ...changes.query }).flatMap(([key, value]) =>
    value === undefined ? [] : [value].flat().map((item) => `${encodeURIComponent(key)}=${encodeURIComponent(item)}`),
  );
  const headers = Object.fromEntries(
    Object.entries({ ...base.headers, ...changes.headers }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let payload: string | undefined;
  if (changes.rawBody !== undefined) payload = changes.rawBody;
  else if (Object.hasOwn(changes, 'body')) payload = JSON.stringify(changes.body);
  else if (!changes.noBody && base.body !== undefined) payload = JSON.stringify(base.body);
  if (payload !== undefined) headers['content-type'] = changes.contentType ?? 'application/json';
  return { url: query.length > 0 ? `${path}?${query.join('&')}` : path, headers, ...(payload === undefined ? {} : { payload }) };
}

/** The schema that describes a present value: the anyOf/oneOf branch it matched. */
function shapeOf(contract: Contract, schema: JsonSchema, value: unknown): JsonSchema {
  let s = contract.resolve(schema);
  for (let alternatives = s.anyOf ?? s.oneOf; alternatives; alternatives = s.anyOf ?? s.oneOf) {
    const branch = alternatives.find((alternative) => contract.conforms(alternative, value));
    if (!branch) break;
    s = contract.resolve(branch);
  }
  return s;
}

const malformedJson = [
  '',
  ' ',
  '{',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '[1,2',
  'nul',
  '{"a":1}}',
  '\u0000',
  '{"a":"\\x"}',
  'NaN',
  '{"a":NaN}',
  '--',
  '<xml/>',
];
const foreignTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'multipart/form-data; boundary=fuzz',
  'application/jsonx',
  'text/json',
];
const malformedSegments = ['%zz', '%E0%A4%A', '%', '%ED%A0%80', '%C0%AF', '%FF'];

/**
 * Requests invalid against one operation's declared schema, each changed in exactly one place
 * from a valid base: a parameter given a refused value, removed or repeated; a body field given a
 * refused value, a required field removed, an unknown field added; a body that is not JSON, not an
 * object, nested thousands deep, prototype-poisoned, in a foreign media type, missing or over the
 * size limit. Null when nothing about the operation can be made invalid.
 */
export function invalidRequests(contract: Contract, operation: Operation, base: BaseRequest, limits: FuzzLimits) {
  const families: Array<{ arbitrary: fc.Arbitrary<FuzzCase>; weight: number }> = [];
  const make = (label: string, part: Part, field: string | null, changes: Changes, status = 400): FuzzCase => {
    const request = assemble(operation, base, changes);
    const tooLarge = request.payload !== undefined && Buffer.byteLength(request.payload) > limits.bodyLimit;
    return { label, part, field: tooLarge ? null : field, status: tooLarge ? 413 : status, ...request };
  };

  const huge = { params: [200], query: [8_000], headers: [8_000] };
  for (const parameter of operation.parameters) {
    const { part, name } = parameter;
    const refused = invalidParameter(contract, parameter, huge[part]).map((value) => {
      const label = `${part}.${name} = ${preview(value)}`;
      if (part === 'params' && value.length > limits.maxParamLength) return make(label, part, null, { params: { [name]: value } }, 414);
      return make(label, part, name, { [part]: { [name]: value } });
    });
    const variants = [refused];
    if (parameter.required && part !== 'params')
      variants.push(fc.constant(make(`${part}.${name} left out`, part, name, { [part]: { [name]: undefined } })));
    if (part === 'query') {
      const value = base.query[name] ?? String(validValue(contract, parameter.schema) ?? 'x');
      variants.push(fc.constant(make(`query.${name} repeated`, part, name, { query: { [name]: [value, value] } })));
    }
    families.push({ arbitrary: fc.oneof(...variants), weight: 2 });
  }
  const segments = operation.parameters.filter((parameter) => parameter.part === 'params').map((parameter) => parameter.name);
  if (segments.length > 0) {
    const malformed = fc
      .tuple(pick(segments), pick(malformedSegments))
      .map(([name, raw]) => make(`params.${name} malformed: ${raw}`, 'params', null, { rawSegment: { name, raw } }));
    families.push({ arbitrary: malformed, weight: 1 });
  }
  if (operation.body) families.push(...bodyFamilies(contract, operation.body, operation.bodyRequired, base.body, limits, make));
  return families.length > 0 ? fc.oneof(...families) : null;
}

type Make = (label: string, part: Part, field: string | null, changes: Changes, status?: number) => FuzzCase;

function bodyFamilies(contract: Contract, schema: JsonSchema, required: boolean, body: unknown, limits: FuzzLimits, make: Make) {
  const families: Array<{ arbitrary: fc.Arbitrary<FuzzCase>; weight: number }> = [];
  const locations = bodyLocations(contract, schema, body);
  const dotted = (path: Path) => path.join('.');

  const replaced = locations.flatMap((location) => {
    const refused = location.path.length > 0 ? invalidValue(contract, location.schema, location.value, [100_000, limits.bodyLimit]) : null;
    if (!refused) return [];
    const field = dotted(location.path);
    const set = (value: unknown) =>
      change(body, location.path, (parent, key) => {
        parent[key] = value;
      });
    return [refused.map((value) => make(`body.${field} = ${preview(value)}`, 'body', field, { body: set(value) }))];
  });
  if (replaced.length > 0) families.push({ arbitrary: fc.oneof(...replaced), weight: 6 });

  const objects = locations.filter((location) => location.present && isObject(location.value));
  const removable = objects.flatMap((location) =>
    (shapeOf(contract, location.schema, location.value).required ?? [])
      .filter((key) => Object.hasOwn(location.value as object, key))
      .map((key) => [...location.path, key]),
  );
  if (removable.length > 0) {
    const removed = pick(removable).map((path) =>
      make(`body.${dotted(path)} left out`, 'body', dotted(path), { body: change(body, path, (parent, key) => void delete parent[key]) }),
    );
    families.push({ arbitrary: removed, weight: 2 });
  }

  const closed = objects.filter((location) => shapeOf(contract, location.schema, location.value).additionalProperties === false);
  if (closed.length > 0) {
    const added = fc
      .tuple(pick(closed), fc.oneof(pick(unknownKeys), fc.string({ minLength: 1, maxLength: 20 })), fc.oneof(pick(wrongTypes), fc.string()))
      .filter(([location, key]) => key !== '__proto__' && !shapeOf(contract, location.schema, location.value).properties?.[key])
      .map(([location, key, value]) => {
        const path = [...location.path, key];
        return make(`body.${dotted(path)} is not a known field`, 'body', dotted(path), {
          body: change(body, path, (parent, name) => {
            parent[name] = value;
          }),
        });
      });
    families.push({ arbitrary: added, weight: 2 });
  }

  // Nesting too deep to check value by value: arrays where the schema takes none, objects under a key it refuses.
  const refusesKeyA = branches(contract, schema).every(
    (branch) => ![branch.type].flat().includes('object') || (branch.additionalProperties === false && !branch.properties?.a),
  );
  const deepShapes = [...(contract.conforms(schema, []) ? [] : [true]), ...(refusesKeyA ? [false] : [])];
  const text = JSON.stringify(body ?? {});
  const poisoned = text === '{}' ? '' : `,${text.slice(1, -1)}`;
  const whole = [
    pick(malformedJson).map((raw) => make(`body is not JSON: ${preview(raw)}`, 'body', null, { rawBody: raw })),
    pick([`{"__proto__":{"isAdmin":true}${poisoned}}`, `{"constructor":{"prototype":{"isAdmin":true}}${poisoned}}`]).map((raw) =>
      make('body poisons the prototype', 'body', null, { rawBody: raw }),
    ),
    pick(foreignTypes).map((type) => make(`body sent as ${type}`, 'body', null, { body, contentType: type }, 415)),
    fc.constant(
      make('body over the size limit', 'body', null, { body: { ...(isObject(body) ? body : {}), padding: 'x'.repeat(limits.bodyLimit) } }),
    ),
  ];
  const notObjects = [null, 0, 'x', true, [], [body], nested(1000, true)].filter((value) => !contract.conforms(schema, value));
  if (notObjects.length > 0) whole.push(pick(notObjects).map((value) => make(`body is ${preview(value)}`, 'body', '', { body: value })));
  if (deepShapes.length > 0) {
    const deepBody = fc.tuple(pick([1000, 10_000, 100_000]), pick(deepShapes)).map(([depth, arrays]) =>
      make(`body nested ${depth} deep`, 'body', '', {
        rawBody: arrays ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      }),
    );
    whole.push(deepBody);
  }
  // Fastify hands validation null for a missing body, so a schema that admits null admits leaving it out.
  if (required && !contract.conforms(schema, null)) whole.push(fc.constant(make('body left out', 'body', '', { noBody: true })));
  families.push({ arbitrary: fc.oneof(...whole), weight: 3 });
  return families;
}
