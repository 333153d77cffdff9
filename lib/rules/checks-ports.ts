import { InstallContext, arr, isObj, meta, show, str } from './model';
import { isPort } from '../k8s/names';
import { allowsTlsBelow12 } from '../k8s/metrics-server-flags';
import { Rules } from './registry';

interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
}

function toPort(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return isPort(n) ? n : undefined;
}

/** SMS030-SMS034: one port written in several places, and the TLS floor. @internal */
export function checkPorts(ctx: InstallContext): void {
  const d = ctx.deployment;
  const c = ctx.container;
  const ports: ContainerPort[] = c ? arr(c.ports).filter(isObj).filter(p => toPort(p.containerPort) !== undefined)
    .map(p => ({ name: str(p.name), containerPort: toPort(p.containerPort)! })) : [];
  const securePortRaw = ctx.flags.get('secure-port');
  const securePort = securePortRaw !== undefined ? toPort(securePortRaw) : undefined;

  if (d && c && securePort !== undefined) {
    const wrong: string[] = [];
    if (ports.length > 0 && !ports.some(p => p.containerPort === securePort)) {
      wrong.push(`containerPort ${ports.map(p => p.containerPort).join(', ')}`);
    }
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const get = isObj(c[probe]) && isObj(c[probe].httpGet) ? c[probe].httpGet : undefined;
      if (!get || get.port === undefined) {
        continue;
      }
      const target = typeof get.port === 'string' && !/^\d+$/.test(get.port) ? ports.find(p => p.name === get.port)?.containerPort : toPort(get.port);
      if (target !== undefined && target !== securePort) {
        wrong.push(`${probe} port ${show(get.port)}${show(get.port) !== String(target) ? ` (${target})` : ''}`);
      }
    }
    if (wrong.length) {
      ctx.report(Rules.SECURE_PORT_MISMATCH, d, `metrics-server listens on --secure-port=${securePort}, but ${wrong.join(', ')}`,
        { evidence: `${ctx.flags.evidence('secure-port')}; ${wrong.join('; ')}` });
    }
  }
  if (c && ctx.flags.has('tls-min-version') && allowsTlsBelow12(ctx.flags.get('tls-min-version')!)) {
    ctx.report(Rules.TLS_MIN_VERSION, d!, `--tls-min-version=${ctx.flags.get('tls-min-version')} allows TLS below 1.2`, { evidence: ctx.flags.evidence('tls-min-version') });
  }

  const svc = ctx.service;
  if (!svc) {
    return;
  }
  const svcPorts = arr(isObj(svc.object.spec) ? svc.object.spec.ports : undefined).filter(isObj);
  let checked = svcPorts;
  const api = ctx.apiService;
  if (api) {
    const spec = isObj(api.object.spec) ? api.object.spec : {};
    const want = isObj(spec.service) && spec.service.port !== undefined ? spec.service.port : 443;
    const match = svcPorts.filter(p => toPort(p.port) === toPort(want));
    if (match.length === 0) {
      ctx.report(Rules.APISERVICE_PORT_MISMATCH, api, `spec.service.port ${show(want)} is not a port of Service ${meta(svc.object).name} (ports: ${svcPorts.map(p => show(p.port)).join(', ') || 'none'})`,
        { evidence: `spec.service.port: ${show(want)}` });
    }
    checked = match;
  }
  if (!d) {
    const ns = meta(svc.object).namespace;
    const sel = isObj(svc.object.spec) ? svc.object.spec.selector : undefined;
    ctx.report(Rules.SERVICE_SELECTS_NOTHING, svc, `Service ${meta(svc.object).name} selects no metrics-server workload in the input (selector ${show(sel ?? {})}${ns ? ` in ${ns}` : ''})`,
      { evidence: `spec.selector: ${show(sel ?? {})}` });
    return;
  }
  if (!c) {
    return;
  }
  for (const p of checked) {
    const tp = p.targetPort ?? p.port;
    if (typeof tp === 'string' && !/^\d+$/.test(tp)) {
      if (!ports.some(cp => cp.name === tp)) {
        ctx.report(Rules.TARGET_PORT_MISMATCH, svc, `targetPort '${tp}' names no port of the metrics-server container (${ports.map(cp => cp.name ?? cp.containerPort).join(', ') || 'it declares none'})`,
          { evidence: `spec.ports[].targetPort: ${tp}` });
      }
    } else {
      const n = toPort(tp);
      const listens = ports.length ? ports.map(cp => cp.containerPort) : securePort !== undefined ? [securePort] : [];
      if (n !== undefined && listens.length && !listens.includes(n)) {
        ctx.report(Rules.TARGET_PORT_MISMATCH, svc, `targetPort ${n} is not a port metrics-server listens on (${listens.join(', ')})`,
          { evidence: `spec.ports[].targetPort: ${n}` });
      }
    }
  }
}
