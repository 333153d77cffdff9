import { spawnSync } from 'child_process';
import * as path from 'path';
import { annotationsSize, isAnnotationKey, isDataKey, isDns1035Label, isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName, TOTAL_ANNOTATION_SIZE_LIMIT } from '../lib/k8s/names';
import { assertAnnotations } from '../lib/metadata';
import { tmp } from './helpers';

// lib/k8s/names.ts against kube-apiserver's own validation code
// (k8s.io/apimachinery v0.34.1, test/k8s-validation/main.go), on the
// boundary inputs of each rule. Needs Go; under CI=true it must be there.
const haveGo = spawnSync('go', ['version']).status === 0 || process.env.CI === 'true';

function cases(): string[] {
  const out = new Set<string>(['', 'a', 'A', '0', '-', '_', '.', '..', 'a-b', 'a_b', 'a.b', '-a', 'a-', '_a', 'a_', '.a', 'a.', 'a..b', 'a/b', '/b', 'a/', 'a/b/c',
    'A/b', 'Example.com/x', 'example.com/X', 'example.com/-x', 'kubernetes.io/hostname', 'k8s.io/x', 'a b', 'a\u00e9', 'é', 'a\n', 'ab:c', '1.2.3.4', 'a.-b', 'a-.b']);
  for (const n of [62, 63, 64, 252, 253, 254]) {
    out.add('a'.repeat(n));
    out.add(`example.com/${'a'.repeat(n)}`);
    out.add(`${'a.'.repeat(Math.floor(n / 2))}b/x`);
    out.add(`${'a'.repeat(n)}/x`);
  }
  out.add(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`); // 253
  out.add(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`); // 254
  out.add(`${'a'.repeat(64)}.b`);
  return [...out];
}

(haveGo ? describe : describe.skip)('k8s-names agrees with k8s.io/apimachinery', () => {
  let bin: string;
  beforeAll(() => {
    bin = path.join(tmp(), 'k8s-validation');
    const build = spawnSync('go', ['build', '-o', bin, '.'], { cwd: path.join(__dirname, 'k8s-validation'), encoding: 'utf8' });
    if (build.status !== 0) {
      throw new Error(`go build failed: ${build.stderr}`);
    }
  }, 300_000);

  function apimachinery(queries: object[]): boolean[] {
    const r = spawnSync(bin, [], { input: JSON.stringify(queries), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      throw new Error(r.stderr);
    }
    return JSON.parse(r.stdout);
  }

  test.each<[string, (v: string) => boolean]>([
    ['qualifiedName', isQualifiedName],
    ['labelValue', isLabelValue],
    ['dnsLabel', isDnsLabel],
    ['dns1035Label', isDns1035Label],
    ['dnsSubdomain', isDnsSubdomain],
    ['dataKey', isDataKey],
    ['annotationKey', isAnnotationKey],
  ])('%s: the same answer on every boundary input', (rule, ours) => {
    const values = cases();
    const theirs = apimachinery(values.map(value => ({ rule, value })));
    const disagree = values.filter((v, i) => ours(v) !== theirs[i]).map(v => JSON.stringify(v));
    expect(disagree).toEqual([]);
    // the boundary inputs exercise both answers
    expect(theirs).toContain(true);
    expect(theirs).toContain(false);
  });

  test('the total annotation size: 262144 bytes pass, 262145 do not, counted in UTF-8 bytes', () => {
    const key = 'example.com/big';
    const maps: { [key: string]: string }[] = [
      { [key]: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT - key.length) },
      { [key]: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT - key.length + 1) },
      { [key]: 'é'.repeat((TOTAL_ANNOTATION_SIZE_LIMIT - key.length - 1) / 2) },
      { [key]: 'é'.repeat((TOTAL_ANNOTATION_SIZE_LIMIT - key.length - 1) / 2 + 1) },
      { a: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT / 2 - 1), b: 'y'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT / 2 - 1) },
      { a: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT / 2), b: 'y'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT / 2 - 1) },
      { 'Example.com/Owner': 'x' },
    ];
    const theirs = apimachinery(maps.map(annotations => ({ rule: 'annotations', annotations })));
    expect(theirs).toEqual([true, false, true, false, true, false, true]);
    const ours = maps.map(m => annotationsSize(m) <= TOTAL_ANNOTATION_SIZE_LIMIT && Object.keys(m).every(isAnnotationKey));
    expect(ours).toEqual(theirs);
    expect(() => assertAnnotations('annotations', maps[6])).not.toThrow();
  });
});
