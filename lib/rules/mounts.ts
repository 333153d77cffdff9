import { arr, isObj, str } from './model';

/** Where a file path inside the container comes from. @internal */
export interface FileSource {
  readonly volumeName: string;
  readonly mountPath: string;
  /** `configMap` or `secret` (from a plain or a projected volume); undefined for other volume types */
  readonly kind?: 'ConfigMap' | 'Secret';
  readonly objectName?: string;
  /** the key of the ConfigMap or Secret the file is, when the path names one */
  readonly key?: string;
  /** the volume itself, when the pod spec defines it */
  readonly volume?: { [k: string]: any };
  /** `serviceAccountToken` projection or the automatic token mount */
  readonly serviceAccount?: boolean;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function keyFor(source: { [k: string]: any }, relative: string): string | undefined {
  const items = arr(source.items).filter(isObj);
  if (items.length) {
    const item = items.find(i => i.path === relative);
    return item ? str(item.key) : undefined;
  }
  return relative.includes('/') ? undefined : relative;
}

/**
 * Resolves a file path the container reads (`--tls-cert-file`, `--kubelet-certificate-authority`)
 * to the volume and the ConfigMap/Secret key behind it. Undefined when no mount covers the path.
 * @internal
 */
export function resolveFile(podSpec: { [k: string]: any } | undefined, container: { [k: string]: any } | undefined, path: string): FileSource | undefined {
  if (!podSpec || !container) {
    return undefined;
  }
  const mounts = arr(container.volumeMounts).filter(isObj)
    .filter(m => typeof m.mountPath === 'string' && typeof m.name === 'string')
    .map(m => ({ name: m.name as string, mountPath: (m.mountPath as string).replace(/\/+$/, '') || '/', subPath: str(m.subPath) }))
    .filter(m => path === m.mountPath || path.startsWith(m.mountPath === '/' ? '/' : m.mountPath + '/'))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mount = mounts[0];
  if (!mount) {
    if ((path.startsWith(SA_DIR + '/')) && podSpec.automountServiceAccountToken !== false) {
      return { volumeName: '(service account token)', mountPath: SA_DIR, serviceAccount: true };
    }
    return undefined;
  }
  let relative = path === mount.mountPath ? '' : path.slice(mount.mountPath === '/' ? 1 : mount.mountPath.length + 1);
  if (mount.subPath) {
    relative = relative ? `${mount.subPath}/${relative}` : mount.subPath;
  }
  const volume = arr(podSpec.volumes).filter(isObj).find(v => v.name === mount.name);
  const base = { volumeName: mount.name, mountPath: mount.mountPath, volume };
  if (!volume) {
    return base;
  }
  if (isObj(volume.configMap)) {
    return { ...base, kind: 'ConfigMap', objectName: str(volume.configMap.name), key: keyFor(volume.configMap, relative) };
  }
  if (isObj(volume.secret)) {
    return { ...base, kind: 'Secret', objectName: str(volume.secret.secretName), key: keyFor(volume.secret, relative) };
  }
  if (isObj(volume.projected)) {
    for (const s of arr(volume.projected.sources).filter(isObj)) {
      const src = isObj(s.configMap) ? { kind: 'ConfigMap' as const, v: s.configMap } : isObj(s.secret) ? { kind: 'Secret' as const, v: s.secret } : undefined;
      if (src) {
        const key = keyFor(src.v, relative);
        if (key !== undefined) {
          return { ...base, kind: src.kind, objectName: str(src.v.name), key };
        }
      }
      if (isObj(s.serviceAccountToken) && s.serviceAccountToken.path === relative) {
        return { ...base, serviceAccount: true };
      }
    }
    return base;
  }
  return base;
}

/** The value of a ConfigMap or Secret key as text, or undefined when the key is absent. @internal */
export function dataValue(object: { [k: string]: any }, key: string): string | undefined {
  if (object.kind === 'Secret') {
    if (isObj(object.stringData) && typeof object.stringData[key] === 'string') {
      return object.stringData[key];
    }
    if (isObj(object.data) && typeof object.data[key] === 'string') {
      return Buffer.from(object.data[key], 'base64').toString('utf8');
    }
    return undefined;
  }
  if (isObj(object.data) && typeof object.data[key] === 'string') {
    return object.data[key];
  }
  if (isObj(object.binaryData) && typeof object.binaryData[key] === 'string') {
    return Buffer.from(object.binaryData[key], 'base64').toString('utf8');
  }
  return undefined;
}
