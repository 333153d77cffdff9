/**
 * The per-namespace cluster CA ConfigMap and the names people mistake it
 * for, defined once: the audit rules (SMS021, SMS022) and the construct's
 * `KubeletTls` (which warns or refuses at synth) ask these functions.
 * @internal
 */

/**
 * The ConfigMap kube-controller-manager publishes in every namespace, with
 * the cluster CA under its one key.
 * @internal
 */
export const KUBE_ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/**
 * The one key of `kube-root-ca.crt` (the controller rewrites the data to
 * exactly this key).
 * @internal
 */
export const KUBE_ROOT_CA_KEY = 'ca.crt';

/** ConfigMap names people write for the per-namespace root CA ConfigMap. */
const MISTAKEN_CONFIGMAP_NAMES = /^(kube-root-ca|cluster-root-ca|root-ca|kube-root-ca[-.]crt|kube-root-ca\.cert|kube-root-ca\.pem|kube-ca|cluster-ca)$/i;

/**
 * Whether a ConfigMap or Secret name looks like a mistake for the
 * `kube-root-ca.crt` ConfigMap (SMS022): a ConfigMap named `cluster-root-ca`,
 * `kube-root-ca` and the like, which Kubernetes does not create, or a Secret
 * named `kube-root-ca.crt`, which is a ConfigMap.
 * @internal
 */
export function isKubeRootCaNameMistake(kind: 'ConfigMap' | 'Secret', name: string): boolean {
  if (kind === 'Secret') {
    return name === KUBE_ROOT_CA_CONFIGMAP;
  }
  return name !== KUBE_ROOT_CA_CONFIGMAP && MISTAKEN_CONFIGMAP_NAMES.test(name);
}

/**
 * Whether `key` of ConfigMap `name` can never exist because the ConfigMap is
 * `kube-root-ca.crt`, which holds only `ca.crt` (SMS021).
 * @internal
 */
export function isMissingKubeRootCaKey(kind: 'ConfigMap' | 'Secret', name: string, key: string): boolean {
  return kind === 'ConfigMap' && name === KUBE_ROOT_CA_CONFIGMAP && key !== KUBE_ROOT_CA_KEY;
}
