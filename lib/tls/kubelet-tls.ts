import { k8s } from 'cdk8s-plus-28';
import { assertDataKey, assertDnsSubdomain } from '../k8s/util';
import { isKubeRootCaNameMistake, isMissingKubeRootCaKey, KUBE_ROOT_CA_CONFIGMAP, KUBE_ROOT_CA_KEY } from '../k8s/kube-root-ca';

/** Where the kubelet CA file is mounted in the container. */
const MOUNT_PATH = '/etc/kubelet-ca';
const FILE_NAME = 'ca.crt';
const VOLUME_NAME = 'kubelet-ca';

/**
 * What the Deployment needs for the kubelet hop.
 * @internal
 */
export interface KubeletTlsConfig {
  readonly insecure: boolean;
  readonly volume?: k8s.Volume;
  readonly volumeMount?: k8s.VolumeMount;
  /** the file passed to --kubelet-certificate-authority */
  readonly caFile?: string;
  /** each `prop: what looks wrong; how to fix`, for the construct to record and print */
  readonly warnings: string[];
}

/**
 * How metrics-server verifies the kubelets' serving certificates (the kubelet hop).
 *
 * Verification works once every kubelet serves a certificate signed by the
 * CA chosen here: `serverTLSBootstrap: true` plus approved
 * `kubernetes.io/kubelet-serving` CSRs (see docs/kubelet-certificates.md).
 */
export abstract class KubeletTls {
  /**
   * Test clusters only: `--kubelet-insecure-tls`, the kubelets' certificates
   * are not verified. Synth prints a warning and the objects carry an
   * annotation saying so.
   */
  public static insecure(): KubeletTls {
    return new InsecureKubeletTls();
  }

  /**
   * The cluster root CA from the `kube-root-ca.crt` ConfigMap (key `ca.crt`)
   * that kube-controller-manager publishes in every namespace. Right where
   * the kubelet-serving signer is the cluster CA (kubeadm, k3s).
   */
  public static fromKubeRootCa(): KubeletTls {
    return new VolumeKubeletTls('configMap', KUBE_ROOT_CA_CONFIGMAP, KUBE_ROOT_CA_KEY);
  }

  /**
   * A CA bundle in a ConfigMap of the metrics-server namespace, for
   * distributions whose kubelet-serving signer is not the root CA.
   *
   * @param name the ConfigMap's name
   * @param key the key that holds the PEM bundle
   */
  public static fromConfigMap(name: string, key: string = 'ca.crt'): KubeletTls {
    return new VolumeKubeletTls('configMap', name, key);
  }

  /**
   * A CA bundle in a Secret of the metrics-server namespace.
   *
   * @param name the Secret's name
   * @param key the key that holds the PEM bundle
   */
  public static fromSecret(name: string, key: string = 'ca.crt'): KubeletTls {
    return new VolumeKubeletTls('secret', name, key);
  }

  /**
   * Whether this choice leaves the kubelet hop unverified.
   */
  public abstract readonly isInsecure: boolean;

  /**
   * Validates the choice and returns what the Deployment needs.
   * @internal
   */
  public abstract _bind(prop: string): KubeletTlsConfig;
}

class InsecureKubeletTls extends KubeletTls {
  public readonly isInsecure = true;

  public _bind(): KubeletTlsConfig {
    return { insecure: true, warnings: [] };
  }
}

class VolumeKubeletTls extends KubeletTls {
  public readonly isInsecure = false;

  constructor(private readonly kind: 'configMap' | 'secret', private readonly name: string, private readonly key: string) {
    super();
  }

  public _bind(prop: string): KubeletTlsConfig {
    assertDnsSubdomain(`${prop} (${this.kind} name)`, this.name);
    assertDataKey(`${prop} (${this.kind} key)`, this.key);
    const kind = this.kind === 'configMap' ? 'ConfigMap' : 'Secret';
    const call = `KubeletTls.from${kind}('${this.name}', '${this.key}')`;
    if (isMissingKubeRootCaKey(kind, this.name, this.key)) {
      throw new Error(`${prop}: ${call} reads key '${this.key}', but kube-controller-manager keeps only the key '${KUBE_ROOT_CA_KEY}' in ConfigMap ${KUBE_ROOT_CA_CONFIGMAP}, so the pod would never start; use KubeletTls.fromKubeRootCa()`);
    }
    const warnings: string[] = [];
    if (isKubeRootCaNameMistake(kind, this.name)) {
      const what = kind === 'Secret'
        ? `a Secret named '${this.name}', but '${KUBE_ROOT_CA_CONFIGMAP}' is the ConfigMap Kubernetes publishes`
        : `ConfigMap '${this.name}', which Kubernetes does not create (the cluster CA ConfigMap is '${KUBE_ROOT_CA_CONFIGMAP}', key '${KUBE_ROOT_CA_KEY}')`;
      warnings.push(`${prop}: ${call} mounts ${what}, so the pod will not start unless you create it; use KubeletTls.fromKubeRootCa() for the cluster CA`);
    }
    const items = [{ key: this.key, path: FILE_NAME }];
    const volume: k8s.Volume = this.kind === 'configMap'
      ? { name: VOLUME_NAME, configMap: { name: this.name, items } }
      : { name: VOLUME_NAME, secret: { secretName: this.name, items } };
    return {
      insecure: false,
      volume,
      volumeMount: { name: VOLUME_NAME, mountPath: MOUNT_PATH, readOnly: true },
      caFile: `${MOUNT_PATH}/${FILE_NAME}`,
      warnings,
    };
  }
}
