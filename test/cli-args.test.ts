import { CommandSpec, isoDate, oneOf, parseCommandArgs, wholeNumber } from '../lib/cli/args';
import { parseAuditArgs } from '../lib/cli/audit';
import { parseCaArgs } from '../lib/cli/ca';
import { parseDoctorArgs } from '../lib/cli/doctor';

const SPEC: CommandSpec = {
  command: 'demo',
  positionals: true,
  options: {
    format: { type: 'string', short: 'f' },
    ignore: { type: 'string', multiple: true, allowEmpty: true },
    color: { type: 'boolean', aliases: ['colour'], negatable: true },
    store: { type: 'string' },
  },
};
const NO_POSITIONALS: CommandSpec = { ...SPEC, positionals: false };

const parse = (argv: string[], spec = SPEC) => parseCommandArgs(spec, argv);
const refusal = (argv: string[], spec = SPEC): string => {
  try {
    parse(argv, spec);
  } catch (e: unknown) {
    return (e as Error).message;
  }
  throw new Error(`${JSON.stringify(argv)} was accepted`);
};

describe('parseCommandArgs (util.parseArgs behind the commands\' words)', () => {
  test('value forms: --x v, --x=v, -f v, -fv; short groups; the last of a repeated option wins', () => {
    for (const argv of [['--format', 'json'], ['--format=json'], ['-f', 'json'], ['-fjson'], ['--format', 'text', '-f', 'json']]) {
      expect(parse(argv).string('format')).toBe('json');
    }
    const grouped = parse(['-hf', 'json']);
    expect([grouped.help, grouped.string('format')]).toEqual([true, 'json']);
    expect(parse([]).string('format')).toBeUndefined();
  });

  test('repeated multiple option keeps every value in order, --x= included where allowed', () => {
    expect(parse(['--ignore', 'a', 'in', '--ignore=b,c', '--ignore=']).strings('ignore')).toEqual(['a', 'b,c', '']);
    expect(parse(['in']).strings('ignore')).toEqual([]);
  });

  test('unknown options, short or long, name the option and the help', () => {
    expect(refusal(['x', '--bogus'])).toBe("unknown option '--bogus'; see 'secure-metrics-server demo --help'");
    expect(refusal(['--bogus=1'])).toBe("unknown option '--bogus'; see 'secure-metrics-server demo --help'");
    expect(refusal(['-x'])).toBe("unknown option '-x'; see 'secure-metrics-server demo --help'");
  });

  test('a missing value, as the user wrote the flag', () => {
    expect(refusal(['--format'])).toBe('--format needs a value');
    expect(refusal(['in', '-f'])).toBe('-f needs a value');
    // a separate value that looks like an option is a forgotten value, as in parseArgs strict mode
    expect(refusal(['--store', '--format', 'json'])).toBe("--store needs a value, not the option-like '--format'; write --store=--format if that is the value");
    expect(parse(['--store=-odd']).string('store')).toBe('-odd');
    expect(parse(['--store', '-']).string('store')).toBe('-');
  });

  test('--x= is an empty value: refused unless the option allows it', () => {
    expect(refusal(['--store='])).toBe('--store: the value is empty; give one, or leave --store out for the default');
    expect(parse(['--ignore=']).strings('ignore')).toEqual(['']);
  });

  test('a boolean with a value is refused', () => {
    expect(refusal(['--help=yes'])).toBe('--help takes no value; write --help alone');
    expect(refusal(['--color=no'])).toBe('--color takes no value; write --color alone');
  });

  test('aliases and negation: the last one given wins; absent is undefined', () => {
    expect(parse(['--colour']).flag('color')).toBe(true);
    expect(parse(['--color', '--no-colour']).flag('color')).toBe(false);
    expect(parse(['--no-color', '--colour']).flag('color')).toBe(true);
    expect(parse([]).flag('color')).toBeUndefined();
  });

  test('positionals: a lone - is stdin, -- ends the options', () => {
    const a = parse(['-', 'a.yaml', '--format', 'json', '--', '--format', '-x', '-']);
    expect(a.positionals).toEqual(['-', 'a.yaml', '--format', '-x', '-']);
    expect(a.string('format')).toBe('json');
    expect(refusal(['stray'], NO_POSITIONALS)).toBe("unexpected argument 'stray'; 'secure-metrics-server demo' takes options only, see 'secure-metrics-server demo --help'");
    expect(refusal(['--', '-'], NO_POSITIONALS)).toMatch(/^unexpected argument '-'/);
  });

  test('shared value checks', () => {
    expect(oneOf('--format', 'json', ['text', 'json'] as const, 'format')).toBe('json');
    expect(() => oneOf('--format', 'xml', ['text', 'json', 'sarif'] as const, 'format')).toThrow("--format: 'xml' is not a format; use text, json or sarif");
    expect(wholeNumber('--n', '12', 1)).toBe(12);
    for (const bad of ['0x10', '1e3', ' 5', '-1', '1.5', '99999999999999999999']) {
      expect(() => wholeNumber('--n', bad, 0, 'days')).toThrow(`--n: '${bad}' is not a whole number of days`);
    }
    expect(() => wholeNumber('--n', '0', 1)).toThrow("--n: '0' is not a whole number of at least 1");
    expect(isoDate('--now', '2026-01-31T00:00:00Z').toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(() => isoDate('--now', 'soon')).toThrow("--now: 'soon' is not a date; use ISO 8601, e.g. 2026-01-31T00:00:00Z");
  });
});

describe('the three commands on the shared parser', () => {
  test('audit', () => {
    const a = parseAuditArgs(['-', '--ignore', 'SMS001, SMS002', '--ignore=SMS003', '-f', 'sarif', '--fail-on', 'none', '--expiry-days=7', '--no-colour', 'dir']);
    expect(a).toMatchObject({ inputs: ['-', 'dir'], ignore: ['SMS001', 'SMS002', 'SMS003'], format: 'sarif', failOn: undefined, expiryDays: 7, colour: false });
    expect(() => parseAuditArgs(['--fail-on', 'severe'])).toThrow("--fail-on: 'severe' is not a severity; use info, low, medium, high, critical or none");
    expect(() => parseAuditArgs(['x', '--expiry-days'])).toThrow('--expiry-days needs a value');
    // --help wins over a bad value
    expect(parseAuditArgs(['--format', 'xml', '--help']).help).toBe(true);
  });

  test('doctor', () => {
    const d = parseDoctorArgs(['-n', 'metrics', '--probe-kubelets', '--probe-timeout', '0.5', '--log-lines=0', '-f', 'json']);
    expect(d).toMatchObject({ namespace: 'metrics', probeKubelets: true, probeTimeoutMs: 500, logLines: 0, format: 'json' });
    expect(() => parseDoctorArgs(['--probe-concurrency', '0'])).toThrow("--probe-concurrency: '0' is not a whole number of at least 1");
    expect(() => parseDoctorArgs(['--probe-timeout', '601'])).toThrow("--probe-timeout: '601' is not a number of seconds between 0 and 600");
    expect(() => parseDoctorArgs(['--kubeconfig='])).toThrow('--kubeconfig: the value is empty');
    expect(() => parseDoctorArgs(['cluster'])).toThrow(/^unexpected argument 'cluster'/);
  });

  test('ca', () => {
    expect(parseCaArgs(['rotate', '--min-wait', '30m', '--force'])).toMatchObject({ action: 'rotate', minWaitMs: 1800000, force: true });
    expect(() => parseCaArgs(['status', '--fail-within', 'soon'])).toThrow("--fail-within: 'soon' is not a duration; use a number and a unit, e.g. 30d, 12h, 10m");
    expect(() => parseCaArgs(['status', 'rotate'])).toThrow("unexpected argument 'rotate'; one action: status, rotate or prune");
    expect(() => parseCaArgs(['renew'])).toThrow("unknown action 'renew'; use status, rotate or prune");
    expect(() => parseCaArgs([])).toThrow('an action is needed: status, rotate or prune');
    expect(() => parseCaArgs(['status', '--force'])).toThrow("--force is an option of 'ca rotate', not of 'ca status'");
    expect(() => parseCaArgs(['rotate', '--store'])).toThrow('--store needs a value');
    expect(parseCaArgs(['--help']).help).toBe(true);
  });
});

describe('the package and the command agree on the version and the Node versions', () => {
  const pkg = require('../package.json');
  const text = (f: string) => require('fs').readFileSync(require('path').join(__dirname, '..', f), 'utf8') as string;

  test('--version prints the package version', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: '.', readStdin: async () => Buffer.alloc(0) };
    const { main } = await import('../lib/cli/main');
    expect(await main(['--version'], io)).toBe(0);
    expect(out.join('')).toBe(`secure-metrics-server ${pkg.version}\n`);
  });

  test('one source: the bundles take SMS_VERSION from package.json, and CHANGELOG names that version', () => {
    const build: string = pkg.scripts['build:cli'];
    const defines = build.match(/--define:SMS_VERSION=\S+/g) ?? [];
    expect(defines.length).toBe(2);
    for (const d of defines) expect(d).toBe('--define:SMS_VERSION=\\"$npm_package_version\\"');
    // the Unreleased section holds breaking changes since 0.1.0: under 0.x semver that is 0.2.0
    const unreleased = text('CHANGELOG.md').split(/^## /m).find(s => s.startsWith('Unreleased'))!;
    expect(unreleased).toMatch(/breaking/i);
    expect(pkg.version).toBe('0.2.0');
    expect(unreleased).toContain(`The next version is **${pkg.version}**`);
  });

  test('engines states the Node versions the code is built for, and README says the same', () => {
    expect(pkg.engines.node).toBe('>=20');
    // every bundle targets the lowest supported Node
    const targets = [...new Set((pkg.scripts['build:cli'] as string).match(/--target=\S+/g))];
    expect(targets).toEqual(['--target=node20']);
    expect(text('README.md')).toContain('Node.js 20 or later: `engines.node` is `>=20`');
  });
});

describe('stdin is read up to the limit, not to its end', () => {
  test('readLimited stops an endless stream after limit + 1 bytes', async () => {
    const { Readable } = await import('stream');
    const { readLimited } = await import('../lib/cli/io');
    let produced = 0;
    const endless = new Readable({ read() { produced += 1024; this.push(Buffer.alloc(1024, 0x61)); } });
    const buf = await readLimited(endless, 10_000);
    expect(buf.length).toBe(10_001);
    expect(produced).toBeLessThan(200_000);
    expect(endless.destroyed).toBe(true);
  });

  test('audit - passes its size limit to the stdin reader and reports the input as too large', async () => {
    const { loadManifests } = await import('../lib/manifests/load');
    const asked: (number | undefined)[] = [];
    const r = await loadManifests(['-'], async (limit?: number) => { asked.push(limit); return Buffer.alloc((limit ?? 100) + 1, 0x61); }, { maxFileBytes: 100 });
    expect(asked).toEqual([100]);
    expect(r.errors.map(e => e.message)).toEqual(['cannot read stdin: it is more than the limit of 100 bytes (reading stopped there)']);
  });
});

describe('doctor building blocks', () => {
  test('a Deployment selector with matchExpressions becomes the whole labelSelector', async () => {
    const { labelSelector } = await import('../lib/cluster/install');
    expect(labelSelector({ matchLabels: { app: 'ms' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'x', operator: 'Exists' }, { key: 'y', operator: 'DoesNotExist' }, { key: 'z', operator: 'NotIn', values: ['q'] }] }))
      .toBe('app=ms,tier in (a,b),x,!y,z notin (q)');
  });

  test('doctor --timeout and --request-timeout take seconds within bounds', () => {
    expect([parseDoctorArgs([]).timeoutMs, parseDoctorArgs([]).requestTimeoutMs]).toEqual([300_000, 30_000]);
    expect(parseDoctorArgs(['--timeout', '1.5', '--request-timeout=0.2'])).toMatchObject({ timeoutMs: 1500, requestTimeoutMs: 200 });
    expect(() => parseDoctorArgs(['--timeout', '0'])).toThrow(/--timeout: '0' is not a number of seconds between 0 and 3600/);
    expect(() => parseDoctorArgs(['--request-timeout', '1e3'])).toThrow(/--request-timeout: '1e3'/);
  });
});
