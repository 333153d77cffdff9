/**
 * Loads a kubeconfig as doctor does, in a process of its own (client-node is
 * ESM-only, which jest cannot load). Prints the error message, or the
 * current cluster's caFile.
 *
 * argv: KUBECONFIG-FILE... (one line printed for each)
 */
import { loadKubeconfig } from '../../lib/cluster/kubeconfig';

for (const file of process.argv.slice(2)) {
  try {
    const r = loadKubeconfig({ kubeconfig: file, env: {} });
    process.stdout.write(`caFile ${r.kc.getCurrentCluster()?.caFile}\n`);
  } catch (e: any) {
    process.stdout.write(`${e.message}\n`);
  }
}
