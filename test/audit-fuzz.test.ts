import { readFileSync } from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parseManifests } from '../lib/manifests/load';
import { auditObjects, Rules } from '../lib/rules';
import { FIXTURE_NOW, RULES, testWithUpstream, upstreamText } from './audit-helpers';

// Property tests: whatever shape the objects have, the rules never throw, and
// whatever the text is, the loader never throws. A check that throws would be
// swallowed by auditObjects; SMS_AUDIT_DEBUG makes it rethrow, so a bug fails here.
process.env.SMS_AUDIT_DEBUG = '1';

const BASE = parseManifests(readFileSync(path.join(RULES, 'sms001-clean.yaml'), 'utf8'), 'base.yaml').objects.map(o => o.object);
const UP = upstreamText();

/** Every path to a value in an object tree. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (typeof v === 'object' && v !== null) {
    for (const [k, child] of Object.entries(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([...prefix, key]);
      paths(child, [...prefix, key], out);
    }
  }
  return out;
}

const ALL_PATHS = BASE.map(o => paths(o));
const odd = fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.string(), fc.boolean(), fc.constant([]), fc.constant({}),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));

test('replacing any fields of a verified install with odd values never throws', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(BASE.length - 1), fc.nat(), odd), { minLength: 1, maxLength: 6 }),
    edits => {
      const objects = structuredClone(BASE);
      for (const [i, p, value] of edits) {
        const at = ALL_PATHS[i][p % ALL_PATHS[i].length];
        let parent: any = objects[i];
        for (const k of at.slice(0, -1)) {
          parent = parent?.[k];
        }
        if (typeof parent === 'object' && parent !== null) {
          parent[at[at.length - 1]] = value;
        }
      }
      const r = auditObjects(objects.map(object => ({ object })), { now: FIXTURE_NOW });
      for (const f of r.findings) {
        expect(Rules.byId(f.ruleId)).toBeDefined();
        expect(typeof f.message).toBe('string');
      }
    }), { numRuns: 500 });
});

testWithUpstream('any text, and upstream\'s manifest cut or spliced anywhere, loads without throwing', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.nat(UP.length), fc.nat(UP.length), (junk, a, b) => {
    for (const text of [junk, UP.slice(0, a) + junk + UP.slice(b)]) {
      const r = parseManifests(text, 'x.yaml');
      expect(() => auditObjects(r.objects)).not.toThrow();
      for (const e of r.errors) {
        expect(e.line === undefined || e.line >= 1).toBe(true);
      }
    }
  }), { numRuns: 500 });
});
