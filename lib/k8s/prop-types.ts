/**
 * Runtime type checks of props and options, so that a value of the wrong
 * type (`servingTls: {}`, `props: null`, a number given as a string, which
 * plain JavaScript and other jsii languages let through) is refused with a
 * message naming the prop, never a bare TypeError further down.
 *
 * The schemas mirror the exported props and options interfaces;
 * test/prop-types.test.ts walks every property of every exported props and
 * options interface with the TypeScript compiler API and proves that each
 * wrong type is refused with its name, so a prop added without a schema
 * entry fails there.
 * @internal
 */
import { Duration, Size } from 'cdk8s';
import { IConstruct } from 'constructs';

/** One expected type. */
interface Check {
  /** e.g. 'a Duration (e.g. Duration.days(365))' */
  readonly what: string;
  readonly ok: (value: unknown) => boolean;
  /** element check of an array */
  readonly items?: Check;
  /** field checks of a struct */
  readonly fields?: Schema;
}

/** Field checks of a struct, by prop name. */
export type Schema = { readonly [prop: string]: Check };

const isObject = (v: unknown): v is { [key: string]: unknown } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The checks a schema is written with. */
export const T = {
  string: (example: string): Check => ({ what: `a string (e.g. ${example})`, ok: v => typeof v === 'string' }),
  number: (example: string): Check => ({ what: `a number (e.g. ${example})`, ok: v => typeof v === 'number' }),
  boolean: (): Check => ({ what: 'true or false', ok: v => typeof v === 'boolean' }),
  duration: (example: string): Check => ({ what: `a Duration (e.g. ${example})`, ok: v => v instanceof Duration }),
  size: (example: string): Check => ({ what: `a Size (e.g. ${example})`, ok: v => v instanceof Size }),
  /** an instance of a class (a strategy or value object made by its static factories) */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the classes have private constructors, which no `new (...) => T` type admits
  instance: (cls: Function, example: string): Check => ({ what: `a ${cls.name} (e.g. ${example})`, ok: v => v instanceof cls }),
  /** a member of a TypeScript string enum */
  enumOf: (values: { [key: string]: string }, name: string): Check => ({
    what: `one of ${Object.keys(values).map(k => `${name}.${k}`).join(', ')}`,
    ok: v => Object.values(values).includes(v as string),
  }),
  array: (items: Check): Check => ({ what: `a list of ${items.what.replace(/^an? /, '')}`, ok: v => Array.isArray(v), items }),
  stringMap: (example: string): Check => ({
    what: `an object of string values (e.g. ${example})`,
    ok: v => isObject(v) && Object.values(v).every(x => typeof x === 'string'),
  }),
  struct: (name: string, fields: Schema): Check => ({ what: `an object (${name})`, ok: isObject, fields }),
};

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  switch (typeof value) {
    case 'string':
      return `the string '${value.length > 40 ? value.slice(0, 40) + '...' : value}'`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object': {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : 'a plain object';
    }
    default:
      return typeof value;
  }
}

/**
 * The prop path of `key` under `path` ('' for a construct's own props): the
 * one way the library names a prop in its messages.
 * @internal
 */
export function propPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Per scope: the prop path of the props of a construct the library makes in it. */
const propBases = new WeakMap<IConstruct, string>();

/**
 * Makes a construct of the library inside another one (the approver inside
 * SecureMetricsServer) so that its refusals name its props by their path in
 * the outer props (`kubeletServingCertApprover.providerRegex`) at the source,
 * not by rewriting its messages.
 * @internal
 */
export function withPropBase<R>(scope: IConstruct, base: string, make: () => R): R {
  propBases.set(scope, base);
  try {
    return make();
  } finally {
    propBases.delete(scope);
  }
}

/** The prop path of the props of a construct made in `scope` ('' unless made by withPropBase). @internal */
export function propBase(scope: IConstruct): string {
  return propBases.get(scope) ?? '';
}

function checkValue(path: string, value: unknown, check: Check): void {
  if (!check.ok(value)) {
    throw new Error(`${path}: got ${describe(value)}; pass ${check.what}`);
  }
  if (check.items) {
    (value as unknown[]).forEach((item, i) => checkValue(`${path}[${i}]`, item, check.items!));
  }
  if (check.fields) {
    checkFields(path, value as { [key: string]: unknown }, check.fields);
  }
}

function checkFields(path: string, value: { [key: string]: unknown }, schema: Schema): void {
  for (const [key, check] of Object.entries(schema)) {
    const v = value[key];
    if (v !== undefined) {
      checkValue(propPath(path, key), v, check);
    }
  }
}

/**
 * Throws, naming the prop path, unless `props` is an object (or undefined,
 * when `optional`) whose given fields have the types of `schema`. Fields
 * left undefined are not checked here (required ones are checked where they
 * are used, with a message of their own).
 *
 * @param path the prop path of `props` itself, e.g. `ServingTls.fromCa` or '' for a construct's props
 * @param what the name of the props type, for the message when `props` is not an object
 * @internal
 */
export function checkPropTypes(path: string, props: unknown, schema: Schema, what: string, optional = true): void {
  if (props === undefined && optional) {
    return;
  }
  if (!isObject(props)) {
    throw new Error(`${path === '' ? 'props' : path}: got ${describe(props)}; pass an object (${what})${optional ? ', or nothing for the defaults' : ''}`);
  }
  checkFields(path, props, schema);
}
