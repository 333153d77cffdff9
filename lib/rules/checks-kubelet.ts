import { parseCertificates, X509Refusal } from '../x509/x509';
import { assertIsCa } from '../x509/serving-checks';
import { InstallContext, arr, isObj, meta, str } from './model';
import { dataValue, resolveFile } from './mounts';
import { isDnsLabel } from '../k8s/names';
import { isKubeRootCaNameMistake, isMissingKubeRootCaKey, KUBE_ROOT_CA_CONFIGMAP as KUBE_ROOT_CA } from '../k8s/kube-root-ca';
import { kubeletCaConflicts } from '../k8s/metrics-server-flags';
import { Rules } from './registry';
import { commandLineKnown } from './checks-command-line';


/** SMS001, SMS003, SMS020-SMS026, SMS041: the kubelet hop and its CA wiring. @internal */
export function checkKubeletTls(ctx: InstallContext): void {
  const d = ctx.deployment;
  if (!d || !ctx.container || !ctx.podSpec) {
    return;
  }
  const insecure = ctx.flags.isTrue('kubelet-insecure-tls');
  const caPath = ctx.flags.get('kubelet-certificate-authority');
  if (ctx.flags.isTrue('deprecated-kubelet-completely-insecure')) {
    ctx.report(Rules.KUBELET_COMPLETELY_INSECURE, d, '--deprecated-kubelet-completely-insecure: metrics-server talks to kubelets over plain HTTP', { evidence: ctx.flags.evidence('deprecated-kubelet-completely-insecure') });
  }
  if (insecure) {
    ctx.report(Rules.KUBELET_INSECURE_TLS, d, '--kubelet-insecure-tls: metrics-server does not verify kubelet certificates', { evidence: ctx.flags.evidence('kubelet-insecure-tls') });
  }
  if (kubeletCaConflicts(caPath !== undefined, insecure)) {
    ctx.report(Rules.KUBELET_CA_CONFLICT, d, '--kubelet-certificate-authority together with --kubelet-insecure-tls: metrics-server refuses to start', { evidence: `${ctx.flags.evidence('kubelet-certificate-authority')} ${ctx.flags.evidence('kubelet-insecure-tls')}` });
  }
  for (const v of arr(ctx.podSpec.volumes).filter(isObj)) {
    const name = str(v.name);
    if (name !== undefined && !isDnsLabel(name)) {
      ctx.report(Rules.VOLUME_NAME_INVALID, d, `volume name '${name}' is not a DNS label${name.includes('.') ? ' (no dots allowed)' : ''}`, { evidence: `volumes[].name: ${name}` });
    }
  }
  if (ctx.podSpec.automountServiceAccountToken === false && !hasProjectedToken(ctx.podSpec)) {
    ctx.report(Rules.SERVICE_ACCOUNT_TOKEN, d, 'automountServiceAccountToken: false: metrics-server has no token and no service-account CA', { evidence: 'spec.template.spec.automountServiceAccountToken: false' });
  }
  if (caPath === undefined) {
    // never 'verified against the service-account CA' when the flags cannot be known (SMS092 says why)
    if (!insecure && !ctx.flags.isTrue('deprecated-kubelet-completely-insecure') && commandLineKnown(ctx)) {
      ctx.report(Rules.KUBELET_DEFAULT_CA, d, 'no --kubelet-certificate-authority: kubelets are verified against the service-account CA (works where kubelet serving certificates are signed by the cluster CA)');
    }
    return;
  }
  const src = resolveFile(ctx.podSpec, ctx.container, caPath);
  if (!src) {
    ctx.report(Rules.KUBELET_CA_NOT_MOUNTED, d, `--kubelet-certificate-authority=${caPath} is not under any volumeMount of the metrics-server container`, { evidence: ctx.flags.evidence('kubelet-certificate-authority') });
    return;
  }
  if (!src.volume) {
    if (!src.serviceAccount) {
      ctx.report(Rules.KUBELET_CA_NOT_MOUNTED, d, `--kubelet-certificate-authority=${caPath} is mounted from volume '${src.volumeName}', which the pod does not define`, { evidence: `volumeMounts[].name: ${src.volumeName}` });
    }
    return;
  }
  if (!src.kind || !src.objectName) {
    return;
  }
  const ns = meta(d.object).namespace;
  if (src.key === undefined) {
    ctx.report(Rules.KUBELET_CA_KEY_MISSING, d, `--kubelet-certificate-authority=${caPath}: volume '${src.volumeName}' (${src.kind} ${src.objectName}) projects no file with that name (check items)`, { evidence: ctx.flags.evidence('kubelet-certificate-authority') });
    return;
  }
  const object = ctx.index.get(src.kind, ns, src.objectName);
  if (src.kind === 'ConfigMap' && src.objectName === KUBE_ROOT_CA && !object) {
    // kube-controller-manager creates it in every namespace, with the one key ca.crt
    if (isMissingKubeRootCaKey(src.kind, src.objectName, src.key)) {
      ctx.report(Rules.KUBELET_CA_KEY_MISSING, d, `ConfigMap ${KUBE_ROOT_CA} has only the key ca.crt, not '${src.key}'`, { evidence: ctx.flags.evidence('kubelet-certificate-authority') });
    }
    return;
  }
  if (!object) {
    if (src.kind === 'Secret' && isKubeRootCaNameMistake(src.kind, src.objectName)) {
      ctx.report(Rules.KUBELET_CA_WRONG_NAME, d, `volume '${src.volumeName}' mounts a Secret named '${KUBE_ROOT_CA}'; '${KUBE_ROOT_CA}' is a ConfigMap`,
        { evidence: `secret.secretName: ${src.objectName}` });
    } else if (src.kind === 'ConfigMap' && isKubeRootCaNameMistake(src.kind, src.objectName)) {
      ctx.report(Rules.KUBELET_CA_WRONG_NAME, d, `volume '${src.volumeName}' mounts ConfigMap '${src.objectName}', which Kubernetes does not create; the cluster CA ConfigMap is '${KUBE_ROOT_CA}'`,
        { evidence: `configMap.name: ${src.objectName}` });
    } else {
      ctx.absent(src.kind, ns, src.objectName, d, `the kubelet CA volume '${src.volumeName}'`);
    }
    return;
  }
  const pem = dataValue(object.object, src.key);
  if (pem === undefined) {
    ctx.report(Rules.KUBELET_CA_KEY_MISSING, object, `${src.kind} ${src.objectName} has no key '${src.key}' that --kubelet-certificate-authority=${caPath} reads`, { evidence: `key ${src.key}` });
    return;
  }
  try {
    for (const cert of parseCertificates(`${src.kind} ${src.objectName} key ${src.key}`, pem, 'the kubelet CA')) {
      assertIsCa(`${src.kind} ${src.objectName} key ${src.key}`, cert, 'the cluster CA /etc/kubernetes/pki/ca.crt');
    }
  } catch (e) {
    // the x509 layer's structured reason: the prop is worded here, the fix is the rule's
    const reason = e instanceof X509Refusal ? e.reason : e instanceof Error ? e.message : String(e);
    ctx.report(Rules.KUBELET_CA_INVALID, object, `${src.kind} ${src.objectName} key '${src.key}': ${reason}`, { evidence: `key ${src.key}` });
  }
}

function hasProjectedToken(spec: { [k: string]: any }): boolean {
  return arr(spec.volumes).filter(isObj).some(v => isObj(v.projected) && arr(v.projected.sources).some(s => isObj(s) && isObj(s.serviceAccountToken)));
}
