/** The kubelet hop (metrics-server -> every kubelet): addresses, CSRs, the kubelet CA, probes. */
import { isIP } from 'net';
import { DoctorRules } from '../rules/doctor-rules';
import { metricsServerContainer, podTemplate } from '../rules/model';
import { dataValue, resolveFile } from '../rules/mounts';
import { Rule } from '../rules/types';
import { ClusterClient } from './client';
import { Findings, ref } from './findings';
import { InstallState } from './install';
import { mapBounded, probeKubelet } from './kubelet-probe';
import { knownError } from './known-errors';
import { CsrState, KubeletFlags, kubeletFlags, kubeletServingCsrs, kubeletTarget, NodeCsr } from './nodes';
import { DoctorOptions, HopStatus, HopSummary, NodeReport, Section } from './report';
import { KUBE_ROOT_CA_CONFIGMAP, KUBE_ROOT_CA_KEY } from '../k8s/kube-root-ca';
import { goErrorText, ServerVerdict, verifyServer } from '../x509/go-text';
import { parseCertificates } from '../x509/x509';
import { CertInfo } from '../x509/cert-info';

/** The kubelet hop: node addresses, kubelet-serving CSRs, the kubelet CA, optionally a handshake with every kubelet. */
export async function checkKubeletHop(client: ClusterClient, state: InstallState, findings: Findings,
  options: DoctorOptions): Promise<{ summary: HopSummary; nodes: NodeReport[] }> {
  const S = Section.KUBELET;
  const now = options.now ?? new Date();
  const podSpec = podTemplate(state.deployment ?? {})?.spec;
  const container = podSpec ? metricsServerContainer(podSpec) : undefined;
  const flags = kubeletFlags([...(container?.command ?? []), ...(container?.args ?? [])]);
  const depRef = ref('Deployment', state.deployment?.metadata?.name ?? 'metrics-server', state.namespace);
  if (!state.deployment) {
    return { summary: { section: S, status: HopStatus.UNKNOWN, summary: 'no metrics-server Deployment found, so its kubelet flags are unknown' }, nodes: [] };
  }

  // the CA metrics-server verifies kubelets with
  const ca = kubeletCa(state, podSpec, container, flags);
  let roots: CertInfo[] = [];
  if (ca.pem) {
    try {
      roots = parseCertificates(ca.where, ca.pem, ca.where);
    } catch (e: any) {
      findings.add(S, DoctorRules.KUBELET_CA_UNREADABLE, depRef, `the kubelet CA (${ca.where}) holds no usable certificate`, { evidence: e.message });
    }
  } else if (ca.hidden) {
    // reported under "could not see"
  } else {
    findings.add(S, DoctorRules.KUBELET_CA_UNREADABLE, depRef, `the kubelet CA (${ca.where}) does not exist`, { evidence: ca.where });
  }

  // the one verifier (lib/x509/x509), worded as metrics-server's Go client logs it; the known error of each
  // text comes from the structured verdict, never from parsing the text
  const knownByKey = new Map<string, string>();
  const judge = (chain: CertInfo[], address: string): { text?: string } => {
    if (!roots.length) return {};
    const verdict = verifyServer(chain, roots, address, now);
    const text = goErrorText(verdict, { tls: true }) ?? 'ok';
    const known = knownErrorOf(verdict);
    // keyed as the findings group them (the address replaced)
    if (known) knownByKey.set(text.split(address).join('<address>'), known);
    return { text };
  };
  const nodesRead = await client.list('/api/v1/nodes', 'nodes');
  if (!nodesRead.value) {
    return { summary: { section: S, status: HopStatus.UNKNOWN, summary: nodesRead.forbidden ? 'could not list nodes' : 'no nodes' }, nodes: [] };
  }
  const csrRead = await client.list('/apis/certificates.k8s.io/v1/certificatesigningrequests', 'certificatesigningrequests');
  const csrs = csrRead.value ? kubeletServingCsrs(csrRead.value) : undefined;
  const targets = nodesRead.value.map(n => kubeletTarget(n, flags));

  let probes: (string | undefined)[] = [];
  let selfSigned: boolean[] = [];
  if (options.probeKubelets) {
    const concurrency = options.probeConcurrency ?? 64;
    // where doctor runs outside the node network (a laptop, private nodes), every dial times out: once the
    // first dials all failed to connect and none connected, the rest are not dialled
    const giveUpAfter = Math.max(16, concurrency);
    let connected = 0;
    let refused = 0;
    const results = await mapBounded(targets, concurrency, async t => {
      if (!t.address) return { text: undefined, self: false };
      if (connected === 0 && refused >= giveUpAfter) {
        return { text: `unreachable from here: not dialled (the first ${refused} kubelets dialled did not connect)`, self: false };
      }
      const r = await probeKubelet({ host: t.address, port: t.port }, options.probeTimeoutMs ?? 3000);
      if (r.unreachable) {
        refused++;
      } else {
        connected++;
      }
      if (r.unreachable) return { text: `unreachable from here: ${r.unreachable}`, self: false };
      if (r.handshakeError) return { text: `handshake failed: ${r.handshakeError}`, self: false };
      let chain: CertInfo[];
      try {
        const what = `the certificate of kubelet ${t.node}`;
        chain = parseCertificates(what, r.chain!.join(''), what);
      } catch (e: any) {
        return { text: `x509: ${e.message}`, self: false };
      }
      const self = chain.length > 0 && (chain[0].selfSigned || (chain.length > 1 && chain[1].selfSigned && /(?:^|\n)CN=[^\n]*-ca@\d+(?:\n|$)/.test(chain[1].x509.subject)));
      return { text: judge(chain, t.address).text, self };
    });
    probes = results.map(r => r.text);
    selfSigned = results.map(r => r.self);
  }

  const reports: NodeReport[] = targets.map((t, i) => {
    const list = csrs?.get(t.node) ?? [];
    const newest: NodeCsr | undefined = list[0];
    const issued = list.find(c => c.state === CsrState.ISSUED);
    let issuedText: string | undefined;
    if (issued?.certificate && t.address && roots.length) {
      try {
        issuedText = judge(parseCertificates(`CSR ${issued.name}`, issued.certificate, `CSR ${issued.name}`), t.address).text;
      } catch (e: any) {
        issuedText = e.message;
      }
    }
    return {
      node: t.node, address: t.address, addressType: t.addressType, port: t.port,
      csr: csrs ? (newest ? newest.state : 'none') : 'unknown',
      issuedCertificate: issuedText,
      probe: probes[i],
      selfSigned: options.probeKubelets ? selfSigned[i] : undefined,
    };
  });

  const nodeRef = (r: NodeReport) => ref('Node', r.node);
  const group = (rule: Rule, pick: (r: NodeReport) => string | undefined, message: (n: number, key: string) => string,
    fix?: (key: string) => string | undefined) => {
    const groups = new Map<string, NodeReport[]>();
    for (const r of reports) {
      const v = pick(r);
      if (v === undefined) continue;
      const key = r.address ? v.split(r.address).join('<address>') : v;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, rs] of groups) {
      const evidence = rs.slice(0, 5).map(r => `${r.node} (${r.addressType ?? 'no address'} ${r.address ?? ''}:${r.port})${pick(r) !== key ? `: ${pick(r)}` : ''}`).join('; ') + (rs.length > 5 ? `; and ${rs.length - 5} more` : '');
      findings.add(S, rule, nodeRef(rs[0]), message(rs.length, key), { evidence, fix: fix?.(key) });
    }
  };
  const total = reports.length;
  const of = (n: number) => `${n} of ${total} node(s)`;
  group(DoctorRules.NO_PREFERRED_ADDRESS, r => r.address ? undefined : `addresses: ${targets.find(t => t.node === r.node)!.addresses.join(', ') || 'none'}`,
    n => `${of(n)} have no address of --kubelet-preferred-address-types=${flags.preferredAddressTypes.join(',')}`);
  if (csrs) {
    group(DoctorRules.NO_SERVING_CSRS, r => r.csr === 'none' && r.probe !== 'ok' ? 'none' : undefined,
      n => `${of(n)} never requested a kubernetes.io/kubelet-serving certificate: serverTLSBootstrap is off, so the kubelets serve self-signed certificates`);
    group(DoctorRules.CSR_PENDING, r => r.csr === CsrState.PENDING && r.issuedCertificate === undefined ? 'pending' : undefined,
      n => `${of(n)} have a kubelet-serving CSR waiting for approval: serverTLSBootstrap is on, nobody approves`);
    group(DoctorRules.CSR_NOT_ISSUED, r => r.csr === CsrState.APPROVED ? 'approved' : undefined, n => `${of(n)} have approved kubelet-serving CSRs without a certificate`);
    group(DoctorRules.CSR_DENIED, r => r.csr === CsrState.DENIED || r.csr === CsrState.FAILED ? r.csr : undefined, (n, k) => `${of(n)}: the newest kubelet-serving CSR was ${k}`);
  }
  // what the kubelet serves when doctor saw it, else what its newest issued certificate says
  const probed = (r: NodeReport) => r.probe !== undefined && !r.probe.startsWith('unreachable from here') && !r.probe.startsWith('handshake failed');
  const verdict = (r: NodeReport) => (probed(r) ? r.probe : r.issuedCertificate);
  group(DoctorRules.KUBELET_CERT_REJECTED, r => {
    const v = verdict(r);
    return v && v !== 'ok' ? v : undefined;
  }, (n, key) => `${of(n)}: ${reports.some(r => r.probe) ? 'the kubelet certificate' : 'the issued kubelet certificate'} does not verify for the address metrics-server dials: ${key}`,
  key => knownError(knownByKey.get(key))?.fix);
  group(DoctorRules.KUBELET_UNREACHABLE, r => r.probe?.startsWith('unreachable from here') ? 'unreachable' : undefined,
    n => `${of(n)}: kubelet unreachable from here, certificate not checked`);
  group(DoctorRules.KUBELET_HANDSHAKE_FAILED, r => r.probe?.startsWith('handshake failed') ? r.probe : undefined, (n, k) => `${of(n)}: ${k}`);

  const ok = reports.filter(r => verdict(r) === 'ok').length;
  const failing = reports.filter(r => { const v = verdict(r); return v !== undefined && v !== 'ok'; }).length;
  // without a certificate to check, a node whose kubelet never got a kubelet-serving certificate still serves its self-signed one
  const noCertificate = reports.filter(r => verdict(r) === undefined && r.csr !== 'unknown' && r.csr !== CsrState.ISSUED).length;
  const unknown = total - ok - failing - noCertificate;
  const unreachable = reports.filter(r => r.probe?.startsWith('unreachable from here')).length;
  const insecure = flags.insecure ? ' (metrics-server runs with --kubelet-insecure-tls: this is what verification would give)' : '';
  const parts = [`${ok} verify`, `${failing + noCertificate} fail${noCertificate ? ` (${noCertificate} without an issued kubelet-serving certificate)` : ''}`];
  if (unknown) parts.push(`${unknown} not checked`);
  const probeNote = options.probeKubelets ? `; probe: ${reports.filter(probed).length} answered${unreachable ? `, ${unreachable} unreachable from here` : ''}` : '';
  const problems = findings.problems(S);
  return {
    summary: {
      section: S,
      status: problems.length ? HopStatus.PROBLEMS : (unknown === total ? HopStatus.UNKNOWN : HopStatus.OK),
      summary: `${total} node(s): ${parts.join(', ')}${probeNote}; CA: ${ca.where}${insecure}`,
    },
    nodes: reports,
  };
}

function kubeletCa(state: InstallState, podSpec: any, container: any, flags: KubeletFlags): { pem?: string; where: string; hidden?: boolean } {
  let kind: 'ConfigMap' | 'Secret' = 'ConfigMap';
  let name = KUBE_ROOT_CA_CONFIGMAP;
  let key = KUBE_ROOT_CA_KEY;
  if (flags.caFile && !flags.insecure) {
    const src = resolveFile(podSpec, container, flags.caFile);
    if (src?.kind && src.objectName && src.key) {
      kind = src.kind;
      name = src.objectName;
      key = src.key;
    }
  }
  const where = `${kind} ${state.namespace}/${name} key ${key}`;
  const list = kind === 'Secret' ? state.secrets : state.configMaps;
  const obj = list.find(o => o.metadata?.name === name);
  if (!obj) {
    return { where, hidden: state.hidden.has(`${kind} ${state.namespace}/${name}`) };
  }
  return { pem: dataValue(obj, key), where };
}

/** The known error (lib/cluster/known-errors) of a kubelet certificate verdict, by its code. */
function knownErrorOf(v: ServerVerdict): string | undefined {
  if (v.ok) return undefined;
  switch (v.code) {
    case 'expired':
    case 'not-yet-valid':
      return 'kubelet-expired';
    case 'hostname':
      return v.cert.ipAddresses.length === 0 && isIP(v.host) !== 0 ? 'kubelet-no-ip-sans' : 'kubelet-name-mismatch';
    case 'chain':
      if (v.problem.code === 'name-constraints') return 'kubelet-name-constraints';
      if (v.problem.code === 'expired' || v.problem.code === 'not-yet-valid') return 'kubelet-expired';
      return ['no-issuer', 'bad-signature', 'weak-signature', 'not-ca', 'no-cert-sign'].includes(v.problem.code) ? 'kubelet-unknown-authority' : undefined;
  }
}
