import { goDurationNs } from '../lib/k8s/metrics-server-flags';

// Go's time.ParseDuration overflows exactly past int64 nanoseconds; a float
// bound (2^63 as a number) accepted 9223372036854775808ns, which Go refuses
// ("time: invalid duration"), and so would metrics-server.
test.each([
  ['9223372036854775807ns', true],
  ['9223372036854775808ns', false],
  ['-9223372036854775808ns', true],
  ['-9223372036854775809ns', false],
  ['2562047h47m16.854775807s', true],
  ['2562047h47m16.854775808s', false],
])('%s is a Go duration: %s', (value, ok) => {
  expect(goDurationNs(value) !== undefined).toBe(ok);
});

test('fractions and units as Go reads them', () => {
  expect(goDurationNs('1.5h')).toBe(5400e9);
  expect(goDurationNs('.5s')).toBe(5e8);
  expect(goDurationNs('1m5s')).toBe(65e9);
  expect(goDurationNs('1ms')).toBe(1e6);
  expect(goDurationNs('0')).toBe(0);
});
