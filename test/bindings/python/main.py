#!/usr/bin/env python
# The Python twin of test/bindings/ts/main.ts, laid out as the cdk8s Python
# template lays out an app (main.py, its dependencies, cdk8s.yaml). The same
# charts with the same props: given the same certificate store, `cdk8s synth`
# writes the same dist/ as the TypeScript app (test/bindings/run.ts compares).
# SMS_CASE=refused adds a chart that must be refused: an insecure flag in
# extra_args, which reaches the user as a Python exception.
import os

from cdk8s import App, Chart, Duration

from secure_metrics_server import (
    CertificateStore,
    CertManagerIssuer,
    KubeletServingCertApproverOptions,
    KubeletTls,
    NodeAddressType,
    Pem,
    SecureMetricsServer,
    ServingTls,
)

app = App()

# the verified defaults: no props; a dedicated CA kept in .secure-metrics-server/pki
SecureMetricsServer(Chart(app, "verified-defaults"), "MetricsServer")

# the serving certificate issued by the cluster's CA (kubeadm's ca.crt and ca.key)
SecureMetricsServer(
    Chart(app, "cluster-ca"),
    "MetricsServer",
    serving_tls=ServingTls.from_ca(
        ca_certificate=Pem.from_file("secrets/ca.crt"),
        ca_key=Pem.from_file("secrets/ca.key"),
        store=CertificateStore.from_directory("secrets/pki"),
    ),
)

# your own certificate, key and CA bundle
SecureMetricsServer(
    Chart(app, "bring-your-own-pem"),
    "MetricsServer",
    serving_tls=ServingTls.from_pem(
        certificate=Pem.from_file("certs/metrics-server.crt"),
        private_key=Pem.from_file("certs/metrics-server.key"),
        ca_bundle=Pem.from_file("certs/ca.crt"),
    ),
)

# cert-manager issues and rotates the serving certificate in the cluster
SecureMetricsServer(
    Chart(app, "cert-manager"),
    "MetricsServer",
    serving_tls=ServingTls.from_cert_manager(
        issuer=CertManagerIssuer.cluster_issuer("cluster-ca"),
        duration=Duration.hours(720),
        renew_before=Duration.hours(240),
    ),
)

# kubelet serving certificates approved by the bundled CSR approver
SecureMetricsServer(
    Chart(app, "kubelet-csr-approver"),
    "MetricsServer",
    kubelet_tls=KubeletTls.from_kube_root_ca(),
    kubelet_preferred_address_types=[NodeAddressType.INTERNAL_IP],
    kubelet_serving_cert_approver=KubeletServingCertApproverOptions(
        provider_regex="^k8s-(control|worker)-[0-9]+$",
        provider_ip_prefixes=["192.168.10.0/24"],
        bypass_dns_resolution=True,
        max_expiration=Duration.days(365),
    ),
)

# a fleet: one Chart per cluster, each with its namespace, CA and serving key
for cluster, namespace in [("cluster-a", "monitoring"), ("cluster-b", "observability")]:
    SecureMetricsServer(Chart(app, cluster, namespace=namespace), "MetricsServer")

# must be refused: the construct manages --kubelet-insecure-tls (kubelet_tls)
if os.environ.get("SMS_CASE") == "refused":
    SecureMetricsServer(
        Chart(app, "refused"),
        "MetricsServer",
        extra_args=["--kubelet-insecure-tls"],
    )

app.synth()
