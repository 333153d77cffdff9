/**
 * The app of the real-cluster GitOps scenarios (test/e2e/cmd/e2e/sealed.go):
 * one chart whose serving Secret is a SealedSecret (SECRET_OUTPUT=sealed,
 * sealed to CONTROLLER_CERT, the certificate the running sealed-secrets
 * controller serves at /v1/cert.pem) or a SOPS-encrypted Secret
 * (SECRET_OUTPUT=sops, to AGE_RECIPIENT), issued by the cluster CA into PKI_DIR, or
 * from the user's PEM files (TLS_CERT, TLS_KEY, TLS_CA) with the ciphertext cached in PKI_DIR.
 * It imports only the public API.
 */
import { App, Chart } from 'cdk8s';
import { CertificateStore, Pem, SealedSecretScope, SecretOutput, SecureMetricsServer, ServingTls } from '../../../lib';

function need(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`${name} is not set`);
  }
  return v;
}

const kind = need('SECRET_OUTPUT');
let secretOutput: SecretOutput;
if (kind === 'sealed') {
  const scopes: { [name: string]: SealedSecretScope } = {
    'strict': SealedSecretScope.STRICT, 'namespace-wide': SealedSecretScope.NAMESPACE_WIDE, 'cluster-wide': SealedSecretScope.CLUSTER_WIDE,
  };
  secretOutput = SecretOutput.sealedSecret({ controllerCertificate: Pem.fromFile(need('CONTROLLER_CERT')), scope: scopes[process.env.SEALED_SCOPE ?? 'strict'] });
} else if (kind === 'sops') {
  secretOutput = SecretOutput.sopsSecret({ ageRecipients: [need('AGE_RECIPIENT')] });
} else {
  throw new Error(`SECRET_OUTPUT: '${kind}' is not sealed or sops`);
}
const app = new App({ outdir: need('CDK8S_OUTDIR') });
const chart = new Chart(app, 'metrics-server');
// TLS_CERT/TLS_KEY/TLS_CA: the user's own PEM files (fromPem); else the cluster CA issues (fromCa)
const store = CertificateStore.fromDirectory(need('PKI_DIR'));
const servingTls = process.env.TLS_CERT
  ? ServingTls.fromPem({
    certificate: Pem.fromFile(need('TLS_CERT')), privateKey: Pem.fromFile(need('TLS_KEY')), caBundle: Pem.fromFile(need('TLS_CA')), secretOutput, store,
  })
  : ServingTls.fromCa({ caCertificate: Pem.fromFile(need('CLUSTER_CA_CERT')), caKey: Pem.fromFile(need('CLUSTER_CA_KEY')), store, secretOutput });
new SecureMetricsServer(chart, 'MetricsServer', { servingTls });
app.synth();
