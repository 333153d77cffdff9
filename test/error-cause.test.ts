// A refusal that wraps a caught error keeps it as `cause` (eslint's
// preserve-caught-error), with its message unchanged.
import { writeFileSync } from 'fs';
import * as path from 'path';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { synth, tmp } from './helpers';

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

test('a PEM file that cannot be read: the message names the prop, the cause is the fs error', () => {
  const dir = tmp();
  const fromDir = ServingTls.fromPem({ certificate: Pem.fromFile(dir), privateKey: Pem.fromFile(dir), caBundle: Pem.fromFile(dir) });
  const e = thrown(() => synth({ servingTls: fromDir }));
  expect(e.message).toMatch(/: cannot read .* \(EISDIR\); it is a directory; pass the PEM file inside it/);
  expect(e.cause?.code).toBe('EISDIR');
});

test('a store directory that cannot be created: the cause is the fs error', () => {
  const file = path.join(tmp(), 'a-file');
  writeFileSync(file, '');
  const store = CertificateStore.fromDirectory(path.join(file, 'pki'));
  const e = thrown(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store }) }));
  expect(e.message).toMatch(/^store: cannot (create|read|write|take the lock in) '.*a-file/);
  expect(['ENOTDIR', 'EEXIST']).toContain(e.cause?.code);
});

test('the approver names its prop path where it refuses (no rewrite by the construct) and keeps the RE2 error as cause', () => {
  const e = thrown(() => synth({ kubeletServingCertApprover: { providerRegex: '^(?=node)x$', providerIpPrefixes: ['10.0.0.0/8'] } }));
  expect(e.message).toMatch(/^kubeletServingCertApprover\.providerRegex: '\^\(\?=node\)x\$' uses lookaround/);
  expect(e.cause).toBeInstanceOf(Error);
  // the cause is re2js' own error, not a copy of the refusal
  expect(e.cause.message).not.toContain('providerRegex');
  expect(e.cause.message).toContain('(?=');
});
