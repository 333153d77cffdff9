import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { protectManifestFiles } from '../store/manifest-protection';
import { warn } from '../k8s/util';

/**
 * The manifest file that carries a plaintext key is written 0600
 * (store-files.ts, protectManifestFiles): every Secret holding one calls this.
 * @internal
 */
export function protectKeyManifest(scope: Construct, prop: string): void {
  scope.node.addValidation({
    validate: () => {
      const { warning } = protectManifestFiles(App.of(scope), Chart.of(scope).node.id);
      if (warning) {
        warn(scope, `${prop}: ${warning}`);
      }
      return [];
    },
  });
}
