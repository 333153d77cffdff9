import * as path from 'path';
import { warn } from '../k8s/util';
import { CA_CERT, exists, listDirectories } from './store-files';
import { Paths, StoreIssueRequest } from './issuance-types';


/** Per app (its root construct): the derived cluster names that got a new CA in this synth. */
const newClusters = new WeakMap<object, Set<string>>();

/**
 * A chart that got a new cluster directory may be a renamed chart when a
 * rename is likely: this app made exactly one new cluster directory, and the
 * store holds exactly one cluster directory with a CA that no chart of the
 * app uses (the old name). Once the whole app is built, that is a warning
 * naming both directories and how to keep the old CA. A new chart in a
 * store that several apps share (several unclaimed directories), or several
 * new charts at once, is no sign of a rename: no warning.
 */
export function checkRenameLater(r: StoreIssueRequest, p: Paths): void {
  if (!r.cluster.derived) {
    return;
  }
  const root = r.cluster.scope.node.root;
  const made = newClusters.get(root) ?? new Set<string>();
  newClusters.set(root, made);
  made.add(r.cluster.name);
  const unclaimed = () => {
    const app = r.cluster.appClusters();
    return listDirectories(r.store._path('clusters'))
      .filter(n => n !== r.cluster.name && !app.has(n) && exists(path.join(r.store._clusterDirectory(n), 'ca', CA_CERT)));
  };
  let warned = false;
  r.cluster.addValidation(() => {
    if (warned) {
      return [];
    }
    warned = true;
    const found = unclaimed();
    if (found.length !== 1 || made.size !== 1) {
      return [];
    }
    const old = r.store._clusterDirectory(found[0]);
    warn(r.cluster.scope, `${r.prop}.store: chart '${r.cluster.chartPath}' got a new CA in '${p.clusterDir}', while the store holds '${old}', which no chart of this app uses. If chart '${found[0]}' was renamed to '${r.cluster.chartPath}', its cluster now has a new caBundle: to keep the old CA, run rm -r '${p.clusterDir}' && mv '${old}' '${p.clusterDir}' and synthesize again. If '${r.cluster.chartPath}' is a new cluster, or another app shares this store, nothing is wrong: name the cluster with CertificateStore.fromDirectory(dir, { cluster: '${r.cluster.name}' }) to silence this`);
    return [];
  });
}
