// The Java twin of test/bindings/ts/main.ts, laid out as the cdk8s Java
// template lays out an app (pom.xml, src/main/java/com/mycompany/app/Main.java,
// cdk8s.yaml). The same charts with the same props: given the same certificate
// store, `cdk8s synth` writes the same dist/ as the TypeScript app
// (test/bindings/run.ts compares).
// SMS_CASE=refused adds a chart that must be refused: an insecure flag in
// extraArgs, which reaches the user as a Java exception with the library's message.
package com.mycompany.app;

import java.util.List;
import java.util.Map;

import org.cdk8s.App;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;
import org.cdk8s.Duration;

import io.github.securemetricsserver.CaServingTlsOptions;
import io.github.securemetricsserver.CertManagerIssuer;
import io.github.securemetricsserver.CertManagerServingTlsOptions;
import io.github.securemetricsserver.CertificateStore;
import io.github.securemetricsserver.KubeletServingCertApproverOptions;
import io.github.securemetricsserver.KubeletTls;
import io.github.securemetricsserver.NodeAddressType;
import io.github.securemetricsserver.Pem;
import io.github.securemetricsserver.PemServingTlsOptions;
import io.github.securemetricsserver.SecureMetricsServer;
import io.github.securemetricsserver.ServingTls;

public class Main {
    public static void main(final String[] args) {
        final App app = new App();

        // the verified defaults: no props; a dedicated CA kept in .secure-metrics-server/pki
        new SecureMetricsServer(new Chart(app, "verified-defaults"), "MetricsServer");

        // the serving certificate issued by the cluster's CA (kubeadm's ca.crt and ca.key)
        SecureMetricsServer.Builder.create(new Chart(app, "cluster-ca"), "MetricsServer")
            .servingTls(ServingTls.fromCa(CaServingTlsOptions.builder()
                .caCertificate(Pem.fromFile("secrets/ca.crt"))
                .caKey(Pem.fromFile("secrets/ca.key"))
                .store(CertificateStore.fromDirectory("secrets/pki"))
                .build()))
            .build();

        // your own certificate, key and CA bundle
        SecureMetricsServer.Builder.create(new Chart(app, "bring-your-own-pem"), "MetricsServer")
            .servingTls(ServingTls.fromPem(PemServingTlsOptions.builder()
                .certificate(Pem.fromFile("certs/metrics-server.crt"))
                .privateKey(Pem.fromFile("certs/metrics-server.key"))
                .caBundle(Pem.fromFile("certs/ca.crt"))
                .build()))
            .build();

        // cert-manager issues and rotates the serving certificate in the cluster
        SecureMetricsServer.Builder.create(new Chart(app, "cert-manager"), "MetricsServer")
            .servingTls(ServingTls.fromCertManager(CertManagerServingTlsOptions.builder()
                .issuer(CertManagerIssuer.clusterIssuer("cluster-ca"))
                .duration(Duration.hours(720))
                .renewBefore(Duration.hours(240))
                .build()))
            .build();

        // kubelet serving certificates approved by the bundled CSR approver
        SecureMetricsServer.Builder.create(new Chart(app, "kubelet-csr-approver"), "MetricsServer")
            .kubeletTls(KubeletTls.fromKubeRootCa())
            .kubeletPreferredAddressTypes(List.of(NodeAddressType.INTERNAL_IP))
            .kubeletServingCertApprover(KubeletServingCertApproverOptions.builder()
                .providerRegex("^k8s-(control|worker)-[0-9]+$")
                .providerIpPrefixes(List.of("192.168.10.0/24"))
                .bypassDnsResolution(true)
                .maxExpiration(Duration.days(365))
                .build())
            .build();

        // a fleet: one Chart per cluster, each with its namespace, CA and serving key
        for (final Map.Entry<String, String> c : List.of(Map.entry("cluster-a", "monitoring"), Map.entry("cluster-b", "observability"))) {
            final Chart chart = new Chart(app, c.getKey(), ChartProps.builder().namespace(c.getValue()).build());
            new SecureMetricsServer(chart, "MetricsServer");
        }

        // must be refused: the construct manages --kubelet-insecure-tls (kubeletTls)
        if ("refused".equals(System.getenv("SMS_CASE"))) {
            SecureMetricsServer.Builder.create(new Chart(app, "refused"), "MetricsServer")
                .extraArgs(List.of("--kubelet-insecure-tls"))
                .build();
        }

        app.synth();
    }
}
