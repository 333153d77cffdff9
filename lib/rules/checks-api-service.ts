import { decodeCaBundle } from './ca-bundle';
import { servingFiles } from './serving-files';
import { InstallContext, isObj, meta, show, str } from './model';
import { Rules } from './registry';

const INJECT_ANNOTATIONS = ['cert-manager.io/inject-ca-from', 'cert-manager.io/inject-ca-from-secret', 'cert-manager.io/inject-apiserver-ca'];

/** Whether cert-manager's cainjector is asked to write the caBundle. @internal */
export function caInjectedBy(annotations: { [k: string]: unknown }): string | undefined {
  const key = INJECT_ANNOTATIONS.find(k => typeof annotations[k] === 'string' || (k === 'cert-manager.io/inject-apiserver-ca' && annotations[k] !== undefined));
  return key && `${key}: ${show(annotations[key])}`;
}

/** SMS002, SMS004-SMS009 on the APIService; SMS090 for the Service it names. @internal */
export function checkApiService(ctx: InstallContext): void {
  const api = ctx.apiService;
  if (!api) {
    return;
  }
  const spec = isObj(api.object.spec) ? api.object.spec : {};
  const m = meta(api.object);
  const skip = spec.insecureSkipTLSVerify;
  const hasBundle = typeof spec.caBundle === 'string' && spec.caBundle !== '';
  const injected = caInjectedBy(m.annotations);
  const servesOwnCert = !!servingFiles(ctx)?.cert;

  const group = str(spec.group);
  const version = str(spec.version);
  if (group && version && m.name !== `${version}.${group}`) {
    ctx.report(Rules.APISERVICE_NAME, api, `APIService name '${m.name}' is not '${version}.${group}'`, { evidence: `metadata.name: ${m.name}` });
  }
  if (skip === true) {
    const why = ctx.container && !servesOwnCert
      ? 'kube-apiserver accepts the self-signed \'localhost\' certificate metrics-server generates at start-up'
      : 'kube-apiserver accepts any certificate the Service presents';
    ctx.report(Rules.APISERVICE_INSECURE, api, `insecureSkipTLSVerify: true: ${why}`, { evidence: 'spec.insecureSkipTLSVerify: true' });
    if (hasBundle) {
      ctx.report(Rules.SKIP_WITH_CA_BUNDLE, api, 'insecureSkipTLSVerify: true together with a caBundle: kube-apiserver rejects the APIService', { evidence: 'spec.insecureSkipTLSVerify: true, spec.caBundle' });
    }
  } else if (skip === false) {
    ctx.report(Rules.SKIP_FALSE_WRITTEN, api, 'insecureSkipTLSVerify: false is written out; kube-apiserver drops it, so it shows as drift', { evidence: 'spec.insecureSkipTLSVerify: false' });
  } else if (skip !== undefined && skip !== null) {
    ctx.report(Rules.SKIP_FALSE_WRITTEN, api, `insecureSkipTLSVerify is ${JSON.stringify(skip)}, not a boolean; kube-apiserver refuses it`, { evidence: `spec.insecureSkipTLSVerify: ${JSON.stringify(skip)}` });
  }
  if (hasBundle) {
    const decoded = ctx.memo(`caBundle\u0000${spec.caBundle}`, () => decodeCaBundle(spec.caBundle));
    if (decoded.problem) {
      ctx.report(Rules.CA_BUNDLE_INVALID, api, `caBundle is not base64 of a PEM certificate (${decoded.problem})`, { evidence: `spec.caBundle: ${String(spec.caBundle).slice(0, 24)}...` });
    }
  } else if (injected && skip !== true) {
    if (ctx.inputIsComplete) {
      ctx.report(Rules.REFERENCED_MISSING, api, `spec.caBundle is empty although cert-manager is asked to inject it (${injected}); is cainjector running?`, { evidence: injected });
    } else {
      ctx.report(Rules.REFERENCED_ABSENT, api, `spec.caBundle is left to cert-manager (${injected}); the checks of the serving certificate against it were skipped`,
        { evidence: injected, fix: 'nothing to do where cert-manager\'s cainjector runs; secure-metrics-server doctor checks the injected caBundle in the cluster' });
    }
  }
  if (!hasBundle && !injected && skip !== true) {
    ctx.report(Rules.NO_CA_BUNDLE, api, `no caBundle and no insecureSkipTLSVerify: kube-apiserver verifies the serving certificate against its system roots and fails`,
      { evidence: `spec.caBundle: absent${skip === false ? ', spec.insecureSkipTLSVerify: false' : ''}` });
  }
  if ((hasBundle || injected) && skip !== true && ctx.container && !servesOwnCert) {
    ctx.report(Rules.CA_BUNDLE_WITHOUT_CERT, ctx.deployment!, 'the APIService has a caBundle but metrics-server has no --tls-cert-file: it serves a self-signed \'localhost\' certificate that the caBundle does not verify',
      { evidence: ctx.flags.has('cert-dir') ? ctx.flags.evidence('cert-dir') : 'no --tls-cert-file' });
  }
  const svc = isObj(spec.service) ? spec.service : undefined;
  if (svc && str(svc.name) && !ctx.service) {
    ctx.absent('Service', str(svc.namespace), str(svc.name)!, api, 'spec.service');
  }
}
