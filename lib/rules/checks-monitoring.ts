import { InstallContext, isObj, meta, selects, str } from './model';
import { Rules } from './registry';

/** Whether a ServiceMonitor's namespaceSelector covers `namespace` (absent: its own namespace). */
function coversNamespace(monitor: { [k: string]: any }, own: string | undefined, namespace: string | undefined): boolean {
  const ns = isObj(monitor.namespaceSelector) ? monitor.namespaceSelector : undefined;
  if (ns?.any === true) {
    return true;
  }
  if (Array.isArray(ns?.matchNames)) {
    return ns!.matchNames.includes(namespace);
  }
  return (own ?? 'default') === (namespace ?? 'default');
}

/**
 * Whether `name` is the in-cluster DNS name of a Service other than `own`
 * (`<service>.<namespace>`): `a.b.svc` or `a.b.svc.<cluster domain>`. Other
 * names (an external one the certificate may well hold) are not judged.
 */
function otherService(name: string, own: string): boolean {
  const m = /^([^.]+)\.([^.]+)\.svc(\..+)?\.?$/.exec(name.toLowerCase());
  return m !== null && `${m[1]}.${m[2]}` !== own.toLowerCase();
}

/**
 * SMS052 on each Prometheus Operator ServiceMonitor that selects the
 * install's Service: an HTTPS endpoint whose tlsConfig skips verification
 * (insecureSkipVerify: true) or names no CA (Prometheus then verifies against
 * its system roots, which never hold the cluster-internal CA, and the usual
 * "fix" is to skip verification); SMS053 on an endpoint that verifies with a
 * CA but against the wrong name: no serverName (Prometheus then checks the
 * target's address, the pod IP, which the serving certificate does not hold)
 * or the in-cluster DNS name of another Service. @internal
 */
export function checkServiceMonitors(ctx: InstallContext): void {
  const service = ctx.service;
  if (!service) {
    return;
  }
  const svc = meta(service.object);
  for (const monitor of ctx.index.ofKind('ServiceMonitor')) {
    const spec = isObj(monitor.object.spec) ? monitor.object.spec : {};
    const m = meta(monitor.object);
    const selector = isObj(spec.selector) ? spec.selector : {};
    if (!coversNamespace(spec, m.namespace, svc.namespace) || !selects(selector.matchLabels, svc.labels)) {
      continue;
    }
    const endpoints: unknown[] = Array.isArray(spec.endpoints) ? spec.endpoints : [];
    endpoints.forEach((ep, i) => {
      if (!isObj(ep)) {
        return;
      }
      const tls = isObj(ep.tlsConfig) ? ep.tlsConfig : undefined;
      if (str(ep.scheme)?.toLowerCase() !== 'https' && !tls) {
        return;
      }
      const where = `spec.endpoints[${i}].tlsConfig`;
      if (tls?.insecureSkipVerify === true) {
        ctx.report(Rules.SERVICE_MONITOR_NOT_VERIFIED, monitor, `ServiceMonitor ${m.namespace ?? ''}/${m.name} endpoint ${i} scrapes metrics-server with insecureSkipVerify: true: Prometheus accepts any certificate on the Service's address`,
          { evidence: `${where}.insecureSkipVerify: true` });
        return;
      }
      const ca = tls && isObj(tls.ca) ? tls.ca : undefined;
      const hasCa = !!(ca && (isObj(ca.configMap) || isObj(ca.secret))) || !!str(tls?.caFile);
      if (!hasCa) {
        ctx.report(Rules.SERVICE_MONITOR_NOT_VERIFIED, monitor, `ServiceMonitor ${m.namespace ?? ''}/${m.name} endpoint ${i} names no CA: Prometheus verifies metrics-server's certificate against its system roots, which do not hold the cluster CA, so every scrape fails`,
          { evidence: `${where}.ca: absent` });
        return;
      }
      const serverName = str(tls?.serverName);
      const own = `${svc.name}.${svc.namespace ?? 'default'}`;
      if (serverName === undefined || serverName === '') {
        ctx.report(Rules.SERVICE_MONITOR_NAME_MISMATCH, monitor, `ServiceMonitor ${m.namespace ?? ''}/${m.name} endpoint ${i} names no serverName: Prometheus checks metrics-server's certificate against the pod's IP address, which the certificate does not hold, so every scrape fails; set it to ${own}.svc`,
          { evidence: `${where}.serverName: absent` });
      } else if (otherService(serverName, own)) {
        ctx.report(Rules.SERVICE_MONITOR_NAME_MISMATCH, monitor, `ServiceMonitor ${m.namespace ?? ''}/${m.name} endpoint ${i} verifies the name '${serverName}', another Service's, not ${own}.svc: metrics-server's certificate does not hold it, so every scrape fails`,
          { evidence: `${where}.serverName: ${serverName}` });
      }
    });
  }
}
