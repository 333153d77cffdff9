// The part of @kubernetes/client-node that doctor uses, and nothing else.
// Loaded through `clientNode()` in ./kubeconfig.ts only: a named re-export
// lets esbuild drop the rest of the library from build/cli/doctor.js
// (test/cli-bundles.proc.test.ts holds it to 2 MB). Add a name here when
// doctor needs one more.
export { KubeConfig } from '@kubernetes/client-node';
export type { Cluster } from '@kubernetes/client-node';
