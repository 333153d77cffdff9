/**
 * Frozen synth, as `npm ci` is to `npm install`: a synth that never creates
 * or renews anything in a certificate store. It is on when `CI` is set (any
 * value but '', 'false' and '0'), or when `SECURE_METRICS_SERVER_FROZEN` is
 * '1'/'true'; `SECURE_METRICS_SERVER_FROZEN=0` (or 'false') turns it off
 * again, for a CI job that is meant to issue and commit (docs/gitops.md).
 * @internal
 */

/** Environment variable that asks for (1/true) or refuses (0/false) frozen synth; it wins over CI. */
export const FROZEN_ENV = 'SECURE_METRICS_SERVER_FROZEN';

/** Whether this synth is frozen, and why (for messages). */
export function frozenSynth(env: NodeJS.ProcessEnv = process.env): { frozen: boolean; why: string } {
  const asked = env[FROZEN_ENV]?.trim().toLowerCase();
  if (asked === '1' || asked === 'true') {
    return { frozen: true, why: `${FROZEN_ENV}=${env[FROZEN_ENV]}` };
  }
  if (asked === '0' || asked === 'false') {
    return { frozen: false, why: `${FROZEN_ENV}=${env[FROZEN_ENV]}` };
  }
  const ci = env.CI?.trim().toLowerCase();
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    return { frozen: true, why: 'CI is set' };
  }
  // an Argo CD config management plugin: the repo-server sets ARGOCD_APP_NAME for every render
  if (env.ARGOCD_APP_NAME !== undefined && env.ARGOCD_APP_NAME !== '') {
    return { frozen: true, why: 'ARGOCD_APP_NAME is set (an Argo CD render)' };
  }
  return { frozen: false, why: '' };
}

/**
 * Throws when a synth that must write the local certificate store runs
 * frozen: in CI, an empty or expiring local store would otherwise get a new
 * CA on every run (a new caBundle, the outage of docs/rotation.md).
 * Called by issueFromStore right before it takes the store's lock.
 */
export function assertLocalStoreMayWrite(prop: string, storeDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const f = frozenSynth(env);
  if (!f.frozen) {
    return;
  }
  const err: any = new Error(`${prop}.store: this synth would write the certificate store '${storeDir}' (its CA or serving certificate is missing, expiring, changed or half-written), and synth is frozen (${f.why}), so nothing is created or renewed: a CI machine would make a new CA on every run. Synthesize where the store is and commit the output, or use a shared store committed to git (SharedCertificateStore, docs/gitops.md); to issue here on purpose, set ${FROZEN_ENV}=0`);
  err.code = 'SMS_FROZEN';
  throw err;
}
