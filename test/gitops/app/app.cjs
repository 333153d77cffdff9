// The team's cdk8s app in the gitops scenario (test/gitops/real-tools.gitops.ts): one chart
// per cluster of CLUSTERS, each from the shared store committed beside it, cluster-a's
// Secret sealed for sealed-secrets, the others SOPS-encrypted for Flux (FLUX_AGE_RECIPIENT).
// SMS_LIB is the library's checkout (it is required from there, as TypeScript through tsx).
const path = require('path');
const lib = require(path.join(process.env.SMS_LIB, 'lib'));
const { App, Chart } = require(path.join(process.env.SMS_LIB, 'node_modules', 'cdk8s'));

const app = new App({ outdir: process.env.CDK8S_OUTDIR || 'dist' });
app.node.setContext(lib.SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
for (const cluster of (process.env.CLUSTERS || 'cluster-a').split(',')) {
  const output = cluster === 'cluster-a'
    ? lib.SecretOutput.sealedSecret({ controllerCertificate: lib.Pem.fromFile('sealed-secrets.pem') })
    : lib.SecretOutput.sopsSecret({ ageRecipients: [process.env.FLUX_AGE_RECIPIENT] });
  new lib.SecureMetricsServer(new Chart(app, cluster), 'MetricsServer', {
    servingTls: lib.ServingTls.fromDedicatedCa({
      sharedStore: lib.SharedCertificateStore.fromDirectory('.secure-metrics-server/shared'),
      secretOutput: output,
    }),
  });
}
app.synth();
