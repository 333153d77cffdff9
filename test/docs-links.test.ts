// Every relative link in README.md and docs/*.md points at a file of the
// repository, and every #anchor at a heading (or an explicit <a name>/id) of
// the file it names, with GitHub's rules for heading anchors: lower case,
// punctuation other than '-' and '_' dropped, spaces to '-', and '-1', '-2'...
// appended to repeated headings. Links inside fenced blocks and code spans are
// not links, and absolute URLs (https:, mailto:) are not checked (no network).
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The anchor GitHub gives a heading's text. */
export function slug(heading: string): string {
  return heading
    .replace(/<[^>]*>/g, '') // inline HTML
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links keep their text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** Lines outside fenced blocks, with their 1-based numbers. */
function prose(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let fence: string | undefined;
  text.split('\n').forEach((l, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (m) {
      if (fence === undefined) {
        fence = m[1];
      } else if (l.trim().startsWith(fence)) {
        fence = undefined;
      }
      return;
    }
    if (fence === undefined) {
      out.push({ line: i + 1, text: l });
    }
  });
  return out;
}

/** The anchors a Markdown file defines. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: l } of prose(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of l.matchAll(/<a\s[^>]*\b(?:name|id)="([^"]+)"/g)) {
      anchors.add(a[1]);
    }
  }
  return anchors;
}

/** The links of a Markdown file that do not resolve, as 'file:line: target (why)'. */
export function brokenLinks(file: string, text: string, root: string = ROOT): string[] {
  const broken: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (f: string) => {
    if (!anchorCache.has(f)) {
      anchorCache.set(f, anchorsOf(f === file ? text : readFileSync(path.join(root, f), 'utf8')));
    }
    return anchorCache.get(f)!;
  };
  for (const { line, text: l } of prose(text)) {
    const withoutCode = l.replace(/(`+)[^`]*?\1/g, '');
    for (const m of withoutCode.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const url = m[1];
      if (url === '' || url === '#') {
        broken.push(`${file}:${line}: an empty link target`);
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
        continue;
      }
      const hash = url.indexOf('#');
      const target = hash === -1 ? url : url.slice(0, hash);
      const anchor = hash === -1 ? undefined : decodeURIComponent(url.slice(hash + 1));
      const resolved = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
      if (resolved !== file && (resolved.startsWith('..') || !existsSync(path.join(root, resolved)))) {
        broken.push(`${file}:${line}: ${url} (no file ${resolved})`);
        continue;
      }
      if (anchor !== undefined) {
        if (!resolved.endsWith('.md') || (resolved !== file && statSync(path.join(root, resolved)).isDirectory())) {
          broken.push(`${file}:${line}: ${url} (an anchor into a file that is not Markdown)`);
        } else if (!anchorsIn(resolved).has(anchor)) {
          broken.push(`${file}:${line}: ${url} (no heading '#${anchor}' in ${resolved})`);
        }
      }
    }
  }
  return broken;
}

const MARKDOWN = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter(f => f.endsWith('.md')).sort().map(f => `docs/${f}`)];

test('GitHub heading anchors: lower case, punctuation dropped except - and _, spaces to -', () => {
  expect(slug('The kubelet hop: `kubeletTls`')).toBe('the-kubelet-hop-kubelettls');
  expect(slug('cert-manager: issuance, rotation and CA injection in the cluster')).toBe('cert-manager-issuance-rotation-and-ca-injection-in-the-cluster');
  expect(slug('Fleets: one App, one Chart per cluster')).toBe('fleets-one-app-one-chart-per-cluster');
  expect(slug('The example app: main.ts')).toBe('the-example-app-maints');
  expect(slug('snake_case and  two spaces')).toBe('snake_case-and--two-spaces');
  expect([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n<a name="x"></a>\n### A')]).toEqual(['a', 'a-1', 'x', 'a-2']);
});

test('a broken file, a broken anchor, an empty target are reported, a heading in a code block is no anchor; code spans and URLs are not links', () => {
  const md = [
    '# Top', '[ok](#top) [ok](README.md) [ok](docs/#) [url](https://example.com/#x)',
    '[no file](nowhere.md) [no anchor](#bottom) [README anchor](README.md#no-such-heading)',
    '`[in code](gone.md)`', '[empty]() [hash only](#)', '```', '# bottom', '[in fence](gone.md)', '```',
  ].join('\n');
  const broken = brokenLinks('x.md', md);
  expect(broken).toEqual([
    'x.md:2: docs/# (an anchor into a file that is not Markdown)',
    'x.md:3: nowhere.md (no file nowhere.md)',
    'x.md:3: #bottom (no heading \'#bottom\' in x.md)',
    'x.md:3: README.md#no-such-heading (no heading \'#no-such-heading\' in README.md)',
    'x.md:5: an empty link target',
    'x.md:5: an empty link target',
  ]);
});

test('README.md and docs/*.md: every relative link and #anchor resolves', () => {
  expect(MARKDOWN.length).toBeGreaterThanOrEqual(12);
  const links = MARKDOWN.flatMap(f => prose(readFileSync(path.join(ROOT, f), 'utf8')).map(l => l.text)).join('\n').match(/\]\((?!https?:)[^)]+\)/g) ?? [];
  expect(links.length).toBeGreaterThan(50);
  expect(MARKDOWN.flatMap(f => brokenLinks(f, readFileSync(path.join(ROOT, f), 'utf8')))).toEqual([]);
});

test('the README links to every guide in docs/ and to API.md', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const f of [...MARKDOWN.filter(m => m.startsWith('docs/')), 'API.md']) {
    expect({ f, linked: readme.includes(`](${f}`) }).toEqual({ f, linked: true });
  }
});
