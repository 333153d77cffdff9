import { Size, SizeRoundingBehavior } from 'cdk8s';
import { EmptyDirMedium, k8s, MountPropagation, Volume, VolumeMount } from 'cdk8s-plus-28';
import { isDnsLabel } from './k8s/names';
import { isMountPath, isSubPath } from './k8s/pod-spec';
import { Schema, T } from './k8s/prop-types';

/**
 * More volumes for the metrics-server pods, and the `/tmp` volume: the
 * chart's `extraVolumes`, `extraVolumeMounts` and `tmpVolume`.
 */
export interface ExtraVolumesOptions {
  /**
   * Volumes mounted into the metrics-server container (e.g. a CA bundle for
   * `--requestheader-client-ca-file` or a `--tls-sni-cert-key` pair). Their
   * volumes are added to the pod; names must not be the construct's own
   * (`tmp-dir`, `serving-cert`, the kubelet CA's), nor paths its mounts.
   * @default - none
   */
  readonly extraVolumeMounts?: VolumeMount[];

  /**
   * Volumes added to the pod without a mount in the metrics-server container
   * (e.g. for a container added through the `deployment` handle). Volumes of
   * `extraVolumeMounts` need not be listed.
   * @default - none
   */
  readonly extraVolumes?: Volume[];

  /**
   * The medium of the `/tmp` emptyDir (`EmptyDirMedium.MEMORY`: a tmpfs,
   * counted against the container's memory limit).
   * @default EmptyDirMedium.DEFAULT
   */
  readonly tmpVolumeMedium?: EmptyDirMedium;

  /**
   * The size limit of the `/tmp` emptyDir (positive).
   * @default - none
   */
  readonly tmpVolumeSizeLimit?: Size;
}

/** The runtime type checks of `ExtraVolumesOptions` (lib/k8s/prop-types.ts). @internal */
export const EXTRA_VOLUMES_OPTIONS_SCHEMA: Schema = {
  extraVolumeMounts: T.array(T.struct('VolumeMount', {
    volume: T.instance(Volume, "Volume.fromConfigMap(this, 'Ca', configMap)"),
    path: T.string("'/etc/extra-ca'"),
    readOnly: T.boolean(),
    subPath: T.string("'ca.crt'"),
    subPathExpr: T.string("'$(POD_NAME)'"),
  })),
  extraVolumes: T.array(T.instance(Volume, "Volume.fromConfigMap(this, 'Ca', configMap)")),
  tmpVolumeMedium: T.enumOf(EmptyDirMedium as any, 'EmptyDirMedium'),
  tmpVolumeSizeLimit: T.size('Size.mebibytes(64)'),
};

/**
 * The pod's volumes and the container's mounts with the extra ones, validated.
 * @internal
 */
export interface ResolvedVolumes {
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
}

/**
 * The `/tmp` emptyDir with the chart's `tmpVolume` settings.
 * @internal
 */
export function tmpVolume(props: ExtraVolumesOptions): k8s.Volume {
  const medium = props.tmpVolumeMedium;
  if (medium !== undefined && !(Object.values(EmptyDirMedium) as string[]).includes(medium)) {
    throw new Error(`tmpVolumeMedium: '${medium}' is not an emptyDir medium; use EmptyDirMedium.DEFAULT or EmptyDirMedium.MEMORY`);
  }
  const limit = props.tmpVolumeSizeLimit;
  let sizeLimit: k8s.Quantity | undefined;
  if (limit !== undefined) {
    const mib = limit.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!(mib > 0)) {
      throw new Error(`tmpVolumeSizeLimit: ${limit.asString()} must be positive; use e.g. Size.mebibytes(64)`);
    }
    sizeLimit = k8s.Quantity.fromString(Number.isInteger(mib) ? `${mib}Mi` : limit.asString());
  }
  return { name: 'tmp-dir', emptyDir: { medium: medium || undefined, sizeLimit } };
}

/**
 * Adds the extra volumes and mounts to the construct's, refusing what
 * kube-apiserver (or the container runtime) would: names that are not DNS
 * labels or collide, a mount path that is relative, has `..`, or is taken.
 * @internal
 */
export function withExtraVolumes(props: ExtraVolumesOptions, volumes: k8s.Volume[], mounts: k8s.VolumeMount[]): ResolvedVolumes {
  const outVolumes = [...volumes];
  const outMounts = [...mounts];
  const own = new Set(volumes.map(v => v.name));
  const byName = new Map<string, Volume>();
  const add = (prop: string, volume: Volume) => {
    if (!(volume instanceof Volume)) {
      throw new Error(`${prop}: got ${typeof volume}; pass a cdk8s-plus Volume (e.g. Volume.fromConfigMap(this, 'Ca', ConfigMap.fromConfigMapName(this, 'CaMap', 'my-ca')))`);
    }
    const kube = volume._toKube();
    if (!isDnsLabel(kube.name)) {
      throw new Error(`${prop}: volume name '${kube.name}' is not a DNS label (kube-apiserver refuses it); use lower-case letters, digits and '-', e.g. 'extra-ca'`);
    }
    if (own.has(kube.name)) {
      throw new Error(`${prop}: volume name '${kube.name}' is the construct's own; use another name`);
    }
    const seen = byName.get(kube.name);
    if (seen !== undefined && seen !== volume) {
      throw new Error(`${prop}: two different volumes are named '${kube.name}'; give each its own name`);
    }
    if (seen === undefined) {
      byName.set(kube.name, volume);
      outVolumes.push(kube);
    }
    return kube.name;
  };
  (props.extraVolumeMounts ?? []).forEach((m, i) => {
    const prop = `extraVolumeMounts[${i}]`;
    const name = add(`${prop}.volume`, m?.volume);
    if (!isMountPath(m.path)) {
      throw new Error(`${prop}.path: '${m.path}' must be an absolute path without '..' or ':'; use e.g. '/etc/extra-ca'`);
    }
    if (m.subPath !== undefined && !isSubPath(m.subPath)) {
      throw new Error(`${prop}.subPath: '${m.subPath}' must be a relative path without '..'; use e.g. 'ca.crt'`);
    }
    if (m.propagation === MountPropagation.BIDIRECTIONAL) {
      throw new Error(`${prop}.propagation: Bidirectional needs a privileged container, which kube-apiserver requires and the construct never makes; use MountPropagation.HOST_TO_CONTAINER or NONE`);
    }
    const clash = outMounts.find(o => o.mountPath.replace(/\/+$/, '') === m.path.replace(/\/+$/, ''));
    if (clash) {
      throw new Error(`${prop}.path: '${m.path}' is already the mount of volume '${clash.name}'; kube-apiserver refuses two mounts at one path`);
    }
    outMounts.push({
      name,
      mountPath: m.path,
      readOnly: m.readOnly,
      subPath: m.subPath,
      subPathExpr: m.subPathExpr,
      mountPropagation: m.propagation,
    });
  });
  (props.extraVolumes ?? []).forEach((v, i) => add(`extraVolumes[${i}]`, v));
  return { volumes: outVolumes, volumeMounts: outMounts };
}
