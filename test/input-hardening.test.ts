import { Chart } from 'cdk8s';
import { INSECURE_ANNOTATION, KubeletServingCertApprover, KubeletTls } from '../lib';
import { checkExtraArgs } from '../lib/extra-args';
import { auditObjects } from '../lib/rules';
import { find, quietApp, synth } from './helpers';

const SERVICE_NAMES = ['metrics-server', 'metrics-server.kube-system', 'metrics-server.kube-system.svc', 'metrics-server.kube-system.svc.cluster.local'];
const check = (args: unknown[], kubeletInsecure = false) => checkExtraArgs(args, { prop: 'extraArgs', serviceNames: SERVICE_NAMES, kubeletInsecure, refuseManaged: true });

describe('checkExtraArgs (pure)', () => {
  test('harmless flags pass without findings', () => {
    expect(check(['--v=2', '--requestheader-allowed-names=front-proxy-client', '--tls-min-version=VersionTLS13', '--deprecated-kubelet-completely-insecure=false']))
      .toEqual({ errors: [], warnings: [], insecure: [] });
  });

  test.each([
    ['--deprecated-kubelet-completely-insecure'],
    ['--deprecated-kubelet-completely-insecure=true'],
    ['--deprecated-kubelet-completely-insecure=1'],
    ['--deprecated-kubelet-completely-insecure=T'],
  ])('%s is refused', arg => {
    expect(check([arg]).errors).toEqual([`extraArgs: '${arg}' turns off TLS to the kubelets altogether, and metrics-server refuses it next to --kubelet-certificate-authority; remove it (for a test cluster, use kubeletTls: KubeletTls.insecure())`]);
  });

  test.each([
    ['/c.crt,/c.key:metrics-server.kube-system.svc', "'metrics-server.kube-system.svc'"],
    ['/c.crt,/c.key:*.kube-system.svc', "'metrics-server.kube-system.svc'"],
    ['/c.crt,/c.key:other.example.com,METRICS-SERVER', "'metrics-server'"],
  ])('--tls-sni-cert-key=%s covering a Service name is refused', (value, names) => {
    expect(check([`--tls-sni-cert-key=${value}`]).errors).toEqual([
      `extraArgs: '--tls-sni-cert-key=${value}' serves another certificate for ${names}, the name kube-apiserver dials, instead of the verified serving certificate; remove those names from it (the construct's servingTls provides that certificate)`]);
  });

  test('a false value, as pflag reads booleans, passes; a value pflag cannot read is refused', () => {
    expect(check(['--deprecated-kubelet-completely-insecure=0', '--deprecated-kubelet-completely-insecure=F', '--profiling=False']))
      .toEqual({ errors: [], warnings: [], insecure: [] });
    expect(check(['--deprecated-kubelet-completely-insecure=no']).errors).toEqual([
      "extraArgs: '--deprecated-kubelet-completely-insecure=no' gives the boolean flag --deprecated-kubelet-completely-insecure a value metrics-server cannot read, so it would not start; write --deprecated-kubelet-completely-insecure=true or --deprecated-kubelet-completely-insecure=false"]);
  });

  test('the construct and the audit rules read these flags alike', () => {
    // one definition (lib/k8s/metrics-server-flags.ts): what the construct refuses or warns about, the rules report
    const auditOf = (arg: string) => {
      const container = { name: 'metrics-server', args: ['--kubelet-preferred-address-types=InternalIP', arg] };
      const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'metrics-server', namespace: 'kube-system' }, spec: { template: { metadata: { labels: { 'k8s-app': 'metrics-server' } }, spec: { containers: [container] } } } };
      const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'metrics-server', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'metrics-server' }, ports: [{ port: 443 }] } };
      const apiService = { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { name: 'metrics-server', namespace: 'kube-system' } } };
      return auditObjects([{ object: deployment }, { object: service }, { object: apiService }]).findings.map(f => f.ruleId).filter(id => ['SMS003', 'SMS034', 'SMS035'].includes(id));
    };
    for (const [arg, rule] of [
      ['--deprecated-kubelet-completely-insecure', 'SMS003'], ['--deprecated-kubelet-completely-insecure=t', 'SMS003'],
      ['--deprecated-kubelet-completely-insecure=False', undefined],
      ['--tls-min-version=VersionTLS10', 'SMS034'], ['--tls-min-version=VersionTLS11', 'SMS034'], ['--tls-min-version=VersionSSL30', 'SMS034'],
      ['--tls-min-version=VersionTLS12', undefined], ['--tls-min-version=VersionTLS13', undefined],
      ['--tls-sni-cert-key=/c.crt,/c.key:metrics-server.kube-system.svc', 'SMS035'], ['--tls-sni-cert-key=/c.crt,/c.key:*.KUBE-SYSTEM.svc', 'SMS035'],
      ['--tls-sni-cert-key=/c.crt,/c.key:metrics.example.com', undefined],
    ] as const) {
      const construct = check([arg]);
      const flagged = construct.errors.length + construct.warnings.length > 0;
      expect({ arg, audit: auditOf(arg), construct: flagged }).toEqual({ arg, audit: rule ? [rule] : [], construct: rule !== undefined });
    }
  });

  test('--tls-sni-cert-key for other names passes; without names it is warned about', () => {
    expect(check(['--tls-sni-cert-key=/c.crt,/c.key:other.example.com'])).toEqual({ errors: [], warnings: [], insecure: [] });
    const r = check(['--tls-sni-cert-key=/c.crt,/c.key']);
    expect(r.errors).toEqual([]);
    expect(r.warnings[0]).toMatch(/^extraArgs: '--tls-sni-cert-key=\/c.crt,\/c.key' gives no names/);
  });

  test.each([['VersionTLS10'], ['VersionTLS11']])('--tls-min-version=%s is warned about and marked insecure', v => {
    expect(check([`--tls-min-version=${v}`])).toEqual({
      errors: [],
      warnings: [`extraArgs: '--tls-min-version=${v}' lets clients use TLS older than 1.2, which is deprecated and weak; remove it or use --tls-min-version=VersionTLS12`],
      insecure: ['tls-min-version'],
    });
  });

  test('managed flags are refused only when asked (an audit of a whole container passes refuseManaged: false)', () => {
    expect(check(['--secure-port=4443']).errors).toHaveLength(1);
    expect(checkExtraArgs(['--secure-port=4443'], { prop: 'args', serviceNames: SERVICE_NAMES, kubeletInsecure: false, refuseManaged: false }).errors).toEqual([]);
  });

  test('a value that is not a string is named, not a TypeError', () => {
    expect(check([42]).errors).toEqual(["extraArgs: '42' is not a flag; write each as '--flag' or '--flag=value' (e.g. '--v=2')"]);
  });
});

describe('the construct applies the extraArgs checks', () => {
  test('--deprecated-kubelet-completely-insecure next to the verified kubelet hop is refused', () => {
    expect(() => synth({ extraArgs: ['--deprecated-kubelet-completely-insecure'] })).toThrow(/^extraArgs: '--deprecated-kubelet-completely-insecure' turns off TLS/);
    expect(() => synth({ kubeletTls: KubeletTls.insecure(), extraArgs: ['--deprecated-kubelet-completely-insecure=true'] })).toThrow(/^extraArgs: /);
  });

  test('--tls-sni-cert-key for the Service name of another namespace is refused there', () => {
    expect(() => synth({ namespace: 'monitoring', extraArgs: ['--tls-sni-cert-key=/a,/b:metrics-server.monitoring.svc'] }))
      .toThrow(/^extraArgs: '--tls-sni-cert-key=\/a,\/b:metrics-server.monitoring.svc' serves another certificate/);
  });

  test('--tls-min-version=VersionTLS10: a warning and the insecure annotation', () => {
    const { construct, objects } = synth({ extraArgs: ['--tls-min-version=VersionTLS10'] });
    expect(construct.warnings.some(w => w.includes("'--tls-min-version=VersionTLS10' lets clients use TLS older than 1.2"))).toBe(true);
    expect(find(objects, 'Deployment').metadata.annotations[INSECURE_ANNOTATION]).toBe('tls-min-version');
    expect(find(objects, 'APIService').metadata.annotations[INSECURE_ANNOTATION]).toBe('tls-min-version');
  });
});

describe('the Service name is a DNS-1035 label', () => {
  test.each([['0metrics'], ['1'], ['-ms'], ['ms-'], ['Metrics']])('%s is refused', name => {
    expect(() => synth({ name })).toThrow(`name: '${name}' is not a valid DNS label for a Service name (DNS-1035); use at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. 'metrics-server')`);
  });

  test('a name starting with a letter passes', () => {
    expect(synth({ name: 'm0' }).construct.name).toBe('m0');
  });
});

describe('the approver\'s providerRegex is checked by an RE2 engine', () => {
  const approver = (providerRegex: string) => new KubeletServingCertApprover(new Chart(quietApp(), 'c'), 'A', { providerRegex, providerIpPrefixes: ['10.0.0.0/8'] });

  test.each([['^(?i:node)-\\d+$'], ['^(?i)node-\\d+$'], ['^(?P<n>node)-\\d{1,1000}$']])('%s (valid RE2) is accepted', regex => {
    expect(() => approver(regex)).not.toThrow();
  });

  test.each([
    ['^a{1001}$', 'invalid repeat count'],
    ['^(a|b$', 'missing closing )'],
    ['^[z-a]$', 'invalid character class range'],
  ])('%s (RE2 refuses: %s) is refused', (regex, reason) => {
    expect(() => approver(regex)).toThrow(`providerRegex: '${regex}' is not a valid regular expression (error parsing regexp: ${reason}`);
  });
});

describe('a PEM file that cannot be read says why', () => {
  const { Pem, ServingTls } = require('../lib');
  const read = (file: string) => () => synth({ servingTls: ServingTls.fromExistingSecret({ secretName: 'tls', caBundle: Pem.fromFile(file) }) });
  test('a directory', () => {
    expect(read(__dirname)).toThrow(`servingTls.caBundle: cannot read file '${__dirname}' (EISDIR); it is a directory; pass the PEM file inside it, e.g. /etc/kubernetes/pki/ca.crt`);
  });
  test('a missing file', () => {
    expect(read('/nonexistent/ca.crt')).toThrow("servingTls.caBundle: cannot read file '/nonexistent/ca.crt' (ENOENT); it does not exist; check the path");
  });
});
