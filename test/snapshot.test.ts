import { KubeletTls, ServingTls } from '../lib';
import { synth } from './helpers';

// Whole-manifest snapshots, as an extra to the object-by-object assertions in
// the other tests. Key material and the generated CA are redacted, so the
// snapshots do not change from run to run and hold no secret.
function redacted(objects: any[]): any[] {
  return JSON.parse(JSON.stringify(objects), (key, value) => {
    if ((key === 'tls.crt' || key === 'tls.key' || key === 'caBundle') && typeof value === 'string') {
      return `<${key}: redacted>`;
    }
    // the expiry annotations: dates of the fixture's material, made anew on every run
    if (/^secure-metrics-server\.io\/(ca|serving)-not-after$/.test(key) && typeof value === 'string') {
      return '<date: redacted>';
    }
    return value;
  });
}


test('verified defaults', () => {
  const objects = redacted(synth().objects);
  expect(JSON.stringify(objects)).not.toMatch(/BEGIN|MII/);
  expect(objects).toMatchSnapshot();
});

test('insecure test mode', () => {
  expect(synth({ kubeletTls: KubeletTls.insecure(), servingTls: ServingTls.insecure() }).objects).toMatchSnapshot();
});
