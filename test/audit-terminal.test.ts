import { runCli } from './audit-helpers';

// Issue 18 item 9: strings from manifests reach a terminal only through terminalText.
const HOSTILE = `apiVersion: apps/v1
kind: Deployment
metadata: { name: "ms\\e]0;pwned\\a", namespace: "kube-system\\e[2J" }
spec:
  selector: { matchLabels: { app: ms } }
  template:
    metadata: { labels: { app: ms } }
    spec:
      containers:
        - name: metrics-server
          image: registry.k8s.io/metrics-server/metrics-server:v0.8.1
          args: ["--kubelet-certificate-authority=/etc/ca\\r\\u202e/ca.crt"]
`;

test('text output escapes control and reordering characters from names, flag values and file names', async () => {
  const run = await runCli(['audit', '--no-color', '-'], { stdin: HOSTILE });
  expect(run.stdout).toMatch(/Deployment kube-system\\x1b\[2J\/ms\\x1b\]0;pwned\\x07/);
  expect(run.stdout).toMatch(/\/etc\/ca\\r\\u202e\/ca\.crt/);
  // eslint-disable-next-line no-control-regex
  expect(run.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
});

test('input errors on stderr (a file name) are escaped too', async () => {
  const run = await runCli(['audit', '--format', 'json', 'missing\x1b[31m.yaml']);
  expect(run.code).toBe(2);
  // eslint-disable-next-line no-control-regex
  expect(run.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
});
