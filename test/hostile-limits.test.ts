import { Duration } from 'cdk8s';
import { ServingTls } from '../lib';
import { valueProblem } from '../lib/k8s/metrics-server-flags';
import { synth } from './helpers';

// Go's time.Duration is an int64 of nanoseconds: time.ParseDuration refuses
// anything past 2562047h47m16.854775807s ("time: invalid duration"), so
// metrics-server (pflag) and cert-manager (its webhook) refuse such a value.
// The construct wrote '--metric-resolution=31536000000s' for 1000 years, and
// `audit` and extraArgs took '--kubelet-request-timeout=2562048h' as a duration.

test('metricResolution longer than a Go duration is refused', () => {
  expect(() => synth({ metricResolution: Duration.days(365000) }))
    .toThrow("metricResolution: 365000 days is longer than a Go duration can be (about 292 years), so metrics-server would not start; use e.g. Duration.seconds(15)");
  // the longest Go duration in whole seconds is accepted
  expect(() => synth({ metricResolution: Duration.seconds(9223372036) })).not.toThrow();
  expect(() => synth({ metricResolution: Duration.seconds(9223372037) })).toThrow(/longer than a Go duration can be/);
});

test.each([
  ['2562048h', false],
  ['9223372037s', false],
  ['2562047h', true],
  ['9223372036s', true],
])('--kubelet-request-timeout=%s parses as Go parses it: %s', (value, ok) => {
  expect(valueProblem('kubelet-request-timeout', value) === undefined).toBe(ok);
});

test('extraArgs with a duration past Go\'s range is refused', () => {
  expect(() => synth({ extraArgs: ['--kubelet-request-timeout=2562048h'] })).toThrow(/--kubelet-request-timeout=2562048h is not a duration/);
});

test('cert-manager: a duration past Go\'s range is refused', () => {
  expect(() => synth({ servingTls: ServingTls.fromCertManager({ duration: Duration.hours(2562048), caDuration: Duration.hours(2562049) }) }))
    .toThrow(/^servingTls.duration: [0-9]+ days is longer than a Go duration can be \(about 292 years\), so cert-manager refuses the Certificate; use e\.g\. Duration\.hours\(2160\)$/);
});

