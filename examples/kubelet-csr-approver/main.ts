// Kubelet CSR approver: with serverTLSBootstrap: true the kubelets request
// serving certificates signed by the cluster CA (kubernetes.io/kubelet-serving),
// and the bundled postfinance/kubelet-csr-approver approves only the requests
// whose names match your nodes, so the kubelet hop can be verified with the
// cluster CA. metrics-server dials the nodes' InternalIP, the SAN they request.
import { App, Chart, Duration } from 'cdk8s';
import { KubeletTls, NodeAddressType, SecureMetricsServer } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  kubeletTls: KubeletTls.fromKubeRootCa(),
  kubeletPreferredAddressTypes: [NodeAddressType.INTERNAL_IP],
  kubeletServingCertApprover: {
    providerRegex: '^k8s-(control|worker)-[0-9]+$',
    providerIpPrefixes: ['192.168.10.0/24'],
    bypassDnsResolution: true,
    maxExpiration: Duration.days(365),
  },
});
app.synth();
