import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The JSON Schema keywords openapi.yaml uses for requests and problems (OpenAPI 3.1, zod-generated). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
}

export type Part = 'params' | 'query' | 'headers' | 'body';

export interface Parameter {
  part: Exclude<Part, 'body'>;
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** "POST /v1/clients/{id}/goals", as openapi.yaml spells it. */
  name: string;
  method: string;
  /** The Fastify route pattern, "/v1/clients/:id/goals". */
  route: string;
  parameters: Parameter[];
  body: JsonSchema | null;
  bodyRequired: boolean;
  /** The schema every 4xx answer declares. */
  problem: JsonSchema | null;
}

const annotations = new Set(['description', 'default', 'title', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'id', '$id', '$schema']);
const checked = new Set([
  '$ref',
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
]);

/** Formats the generated document always pairs with a pattern; these cover a format given alone. */
const formats: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
};

const methods = ['get', 'put', 'post', 'patch', 'delete'];

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

/**
 * openapi.yaml as the fuzzer reads it: its operations, and a small JSON Schema check that says
 * whether a value is one the contract admits. The check refuses keywords it does not know, so a
 * schema feature added later cannot make the fuzzer call a valid request invalid without notice.
 */
export class Contract {
  private readonly components: Record<string, JsonSchema>;
  private readonly patterns = new Map<string, RegExp>();

  constructor(
    private readonly document: {
      paths: Record<string, Record<string, OpenApiOperation>>;
      components?: { schemas?: Record<string, JsonSchema> };
    },
  ) {
    this.components = document.components?.schemas ?? {};
  }

  static load(file = new URL('../../openapi.yaml', import.meta.url)): Contract {
    return new Contract(parse(readFileSync(file, 'utf8')));
  }

  operations(): Operation[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => methods.includes(method))
        .map(([method, operation]) => this.operation(path, method.toUpperCase(), operation)),
    );
  }

  private operation(path: string, method: string, operation: OpenApiOperation): Operation {
    const parts: Record<string, Parameter['part']> = { path: 'params', query: 'query', header: 'headers' };
    const parameters = (operation.parameters ?? []).map((parameter) => {
      const part = parts[parameter.in];
      if (!part) throw new Error(`${method} ${path}: parameters in ${parameter.in} are not fuzzed yet`);
      return { part, name: parameter.name, required: parameter.required === true, schema: parameter.schema };
    });
    const content = operation.requestBody?.content ?? {};
    const extra = Object.keys(content).filter((type) => type !== 'application/json');
    if (extra.length > 0) throw new Error(`${method} ${path}: request bodies of type ${extra.join(', ')} are not fuzzed yet`);
    // Problems are sent, and declared, as application/problem+json.
    const problem = operation.responses?.['4XX']?.content?.['application/problem+json']?.schema ?? null;
    return {
      name: `${method} ${path}`,
      method,
      route: path.replace(/\{([^}]+)\}/g, ':$1'),
      parameters,
      body: content['application/json']?.schema ?? null,
      bodyRequired: operation.requestBody?.required === true,
      problem,
    };
  }

  /** The schema a $ref names (followed until it is not a reference). */
  resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let hops = 0; current.$ref; hops++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      const next = this.components[name];
      if (!next || hops > 20) throw new Error(`cannot resolve ${current.$ref}`);
      current = next;
    }
    return current;
  }

  /** Whether the contract admits the value (JSON Schema 2020-12 semantics for the keywords above). */
  conforms(schema: JsonSchema, value: unknown): boolean {
    const s = this.resolve(schema);
    for (const keyword of Object.keys(s)) {
      if (!checked.has(keyword) && !annotations.has(keyword)) throw new Error(`the fuzzer does not understand the keyword "${keyword}"`);
    }
    if (s.type !== undefined && ![s.type].flat().some((type) => hasType(type, value))) return false;
    if (s.enum && !s.enum.some((member) => member === value)) return false;
    if ('const' in s && s.const !== value) return false;
    if (s.anyOf && !s.anyOf.some((branch) => this.conforms(branch, value))) return false;
    if (s.oneOf && s.oneOf.filter((branch) => this.conforms(branch, value)).length !== 1) return false;
    if (s.allOf && !s.allOf.every((branch) => this.conforms(branch, value))) return false;
    if (s.not && this.conforms(s.not, value)) return false;
    if (typeof value === 'string') return this.stringConforms(s, value);
    if (typeof value === 'number') return numberConforms(s, value);
    if (Array.isArray(value)) return this.arrayConforms(s, value);
    if (isObject(value)) return this.objectConforms(s, value);
    return true;
  }

  private stringConforms(s: JsonSchema, value: string): boolean {
    // Lengths count code points: at most the UTF-16 length and at least half of it, so most checks need no count.
    const { minLength: min, maxLength: max } = s;
    if (min !== undefined && (value.length < min || (value.length < 2 * min && codePoints(value) < min))) return false;
    if (max !== undefined && value.length > max && (value.length > 2 * max || codePoints(value) > max)) return false;
    if (s.pattern !== undefined && !this.regex(s.pattern).test(value)) return false;
    const format = s.format ? formats[s.format] : undefined;
    return !format || s.pattern !== undefined || format.test(value);
  }

  private arrayConforms(s: JsonSchema, value: unknown[]): boolean {
    if (s.minItems !== undefined && value.length < s.minItems) return false;
    if (s.maxItems !== undefined && value.length > s.maxItems) return false;
    const items = s.items;
    return !items || value.every((item) => this.conforms(items, item));
  }

  private objectConforms(s: JsonSchema, value: Record<string, unknown>): boolean {
    const properties = s.properties ?? {};
    if ((s.required ?? []).some((key) => !Object.hasOwn(value, key))) return false;
    for (const [key, item] of Object.entries(value)) {
      const names = s.propertyNames;
      if (names && !this.conforms(names, key)) return false;
      const declared = properties[key];
      if (declared) {
        if (!this.conforms(declared, item)) return false;
      } else if (s.additionalProperties === false) {
        return false;
      } else if (isObject(s.additionalProperties) && !this.conforms(s.additionalProperties, item)) {
        return false;
      }
    }
    return true;
  }

  private regex(pattern: string): RegExp {
    let regex = this.patterns.get(pattern);
    if (!regex) {
      regex = new RegExp(pattern);
      this.patterns.set(pattern, regex);
    }
    return regex;
  }
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      throw new Error(`the fuzzer does not understand the type "${type}"`);
  }
}

function codePoints(value: string): number {
  let count = 0;
  for (let index = 0; index < value.length; index++, count++) {
    const unit = value.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && (value.charCodeAt(index + 1) & 0xfc00) === 0xdc00) index++;
  }
  return count;
}

function numberConforms(s: JsonSchema, value: number): boolean {
  if (s.minimum !== undefined && value < s.minimum) return false;
  if (s.maximum !== undefined && value > s.maximum) return false;
  if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) return false;
  if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) return false;
  return s.multipleOf === undefined || Number.isInteger(value / s.multipleOf);
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
