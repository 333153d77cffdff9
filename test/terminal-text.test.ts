import { terminalText } from '../lib/cli/terminal-text';

test('ESC sequences, CR, DEL and C1 controls are shown as escapes', () => {
  expect(terminalText('a\x1b[2Jb\rc\x7fd\x9be')).toBe('a\\x1b[2Jb\\rc\\x7fd\\x9be');
});

test('bidi overrides and zero-width characters are shown as escapes', () => {
  expect(terminalText('ok\u202eevil\u200b\u2066x\ufeff')).toBe('ok\\u202eevil\\u200b\\u2066x\\ufeff');
});

test('newlines and tabs are escaped unless kept', () => {
  expect(terminalText('a\nb\tc')).toBe('a\\nb\\tc');
  expect(terminalText('a\nb\tc\x1b', { keepNewlines: true })).toBe('a\nb\tc\\x1b');
});

test('ordinary text, including non-ASCII letters, is unchanged', () => {
  const s = 'metrics-server.kube-system.svc: 证书 ok — ü';
  expect(terminalText(s)).toBe(s);
});
