import { Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu, k8s } from 'cdk8s-plus-28';

/** Upstream's requests, kept for every request the user does not give. */
const DEFAULT_CPU_REQUEST = Cpu.millis(100);
const DEFAULT_MEMORY_REQUEST = Size.mebibytes(200);

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const MULTIPLIERS: { [suffix: string]: number } = {
  '': 1, 'n': 1e-9, 'u': 1e-6, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

const EXAMPLES: { [resource: string]: string } = {
  'cpu': 'Cpu.millis(100)',
  'memory': 'Size.mebibytes(200)',
  'ephemeral-storage': 'Size.mebibytes(100)',
};

/**
 * Parses a Kubernetes quantity (`100m`, `200Mi`, `1.5`, `1e3`) to a number;
 * throws, naming the resource under the prop path `path`, if it is malformed or negative.
 * @internal
 */
export function parseQuantity(resource: string, kind: 'request' | 'limit', quantity: string, path = 'resources'): number {
  const m = typeof quantity === 'string' ? QUANTITY.exec(quantity) : null;
  const prop = `${resource} ${kind}`;
  const example = EXAMPLES[resource];
  if (!m) {
    throw new Error(`${path}: ${prop} '${quantity}' is not a Kubernetes quantity; use e.g. ${example}`);
  }
  const suffix = m[3] ?? '';
  const multiplier = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : MULTIPLIERS[suffix];
  const value = Number(m[2]) * multiplier;
  if (m[1] === '-' && value !== 0) {
    throw new Error(`${path}: ${prop} '${quantity}' is negative; use a positive amount, e.g. ${example}`);
  }
  if (!Number.isFinite(value)) {
    throw new Error(`${path}: ${prop} '${quantity}' is too large; use e.g. ${example}`);
  }
  return value;
}

/**
 * Renders and validates the container's resources. Requests not given stay
 * at upstream's (cpu 100m, memory 200Mi); limits are optional and may not be
 * below their request.
 * @internal
 */
export function renderResources(resources: ContainerResources | undefined): k8s.ResourceRequirements {
  const r = resources ?? {};
  return render({
    cpu: { request: r.cpu?.request ?? DEFAULT_CPU_REQUEST, limit: r.cpu?.limit },
    memory: { request: r.memory?.request ?? DEFAULT_MEMORY_REQUEST, limit: r.memory?.limit },
    ephemeralStorage: r.ephemeralStorage,
  }, resource => isDefaultRequest(resource, r));
}

/**
 * Renders and validates container resources exactly as given, with no
 * defaults: every quantity well formed and not negative, every limit at
 * least its request.
 * @internal
 */
export function renderGivenResources(resources: ContainerResources, path = 'resources'): k8s.ResourceRequirements {
  return render(resources, () => false, path);
}

function render(r: ContainerResources, defaulted: (resource: string) => boolean, path = 'resources'): k8s.ResourceRequirements {
  const entries: Array<[string, string | undefined, string | undefined]> = [
    ['cpu', cpuAmount(r.cpu?.request), cpuAmount(r.cpu?.limit)],
    ['memory', sizeAmount(r.memory?.request), sizeAmount(r.memory?.limit)],
    ['ephemeral-storage', sizeAmount(r.ephemeralStorage?.request), sizeAmount(r.ephemeralStorage?.limit)],
  ];
  const requests: { [key: string]: k8s.Quantity } = {};
  const limits: { [key: string]: k8s.Quantity } = {};
  for (const [resource, request, limit] of entries) {
    const req = request === undefined ? undefined : parseQuantity(resource, 'request', request, path);
    const lim = limit === undefined ? undefined : parseQuantity(resource, 'limit', limit, path);
    if (req !== undefined && lim !== undefined && lim < req) {
      throw new Error(`${path}: ${resource} limit ${limit} is below the ${resource} request ${request}${defaulted(resource) ? " (upstream's default)" : ''}; raise the limit or lower the request`);
    }
    if (request !== undefined) {
      requests[resource] = k8s.Quantity.fromString(request);
    }
    if (limit !== undefined) {
      limits[resource] = k8s.Quantity.fromString(limit);
    }
  }
  return {
    requests: Object.keys(requests).length ? requests : undefined,
    limits: Object.keys(limits).length ? limits : undefined,
  };
}

function isDefaultRequest(resource: string, r: ContainerResources): boolean {
  return (resource === 'cpu' && r.cpu?.request === undefined) || (resource === 'memory' && r.memory?.request === undefined);
}

function cpuAmount(cpu: Cpu | undefined): string | undefined {
  return cpu === undefined ? undefined : String(cpu.amount);
}

/** In mebibytes, as upstream writes memory, when that is a whole number. */
function sizeAmount(size: Size | undefined): string | undefined {
  if (size === undefined) {
    return undefined;
  }
  const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  return Number.isInteger(mebibytes) ? `${mebibytes}Mi` : size.asString();
}
