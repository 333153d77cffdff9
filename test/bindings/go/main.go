// The Go twin of test/bindings/ts/main.ts, laid out as the cdk8s Go template
// lays out an app (main.go, go.mod, cdk8s.yaml). The same charts with the same
// props: given the same certificate store, `cdk8s synth` writes the same dist/
// as the TypeScript app (test/bindings/run.ts compares).
// SMS_CASE=refused adds a chart that must be refused: an insecure flag in
// ExtraArgs, which reaches the user as a Go panic carrying the library's message.
package main

import (
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	sms "github.com/secure-metrics-server/secure-metrics-server-go/securemetricsserver"
)

func main() {
	app := cdk8s.NewApp(nil)

	// the verified defaults: no props; a dedicated CA kept in .secure-metrics-server/pki
	sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("verified-defaults"), nil), jsii.String("MetricsServer"), nil)

	// the serving certificate issued by the cluster's CA (kubeadm's ca.crt and ca.key)
	sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("cluster-ca"), nil), jsii.String("MetricsServer"), &sms.SecureMetricsServerProps{
		ServingTls: sms.ServingTls_FromCa(&sms.CaServingTlsOptions{
			CaCertificate: sms.Pem_FromFile(jsii.String("secrets/ca.crt")),
			CaKey:         sms.Pem_FromFile(jsii.String("secrets/ca.key")),
			Store:         sms.CertificateStore_FromDirectory(jsii.String("secrets/pki"), nil),
		}),
	})

	// your own certificate, key and CA bundle
	sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("bring-your-own-pem"), nil), jsii.String("MetricsServer"), &sms.SecureMetricsServerProps{
		ServingTls: sms.ServingTls_FromPem(&sms.PemServingTlsOptions{
			Certificate: sms.Pem_FromFile(jsii.String("certs/metrics-server.crt")),
			PrivateKey:  sms.Pem_FromFile(jsii.String("certs/metrics-server.key")),
			CaBundle:    sms.Pem_FromFile(jsii.String("certs/ca.crt")),
		}),
	})

	// cert-manager issues and rotates the serving certificate in the cluster
	sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("cert-manager"), nil), jsii.String("MetricsServer"), &sms.SecureMetricsServerProps{
		ServingTls: sms.ServingTls_FromCertManager(&sms.CertManagerServingTlsOptions{
			Issuer:      sms.CertManagerIssuer_ClusterIssuer(jsii.String("cluster-ca")),
			Duration:    cdk8s.Duration_Hours(jsii.Number(720)),
			RenewBefore: cdk8s.Duration_Hours(jsii.Number(240)),
		}),
	})

	// kubelet serving certificates approved by the bundled CSR approver
	sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("kubelet-csr-approver"), nil), jsii.String("MetricsServer"), &sms.SecureMetricsServerProps{
		KubeletTls:                   sms.KubeletTls_FromKubeRootCa(),
		KubeletPreferredAddressTypes: &[]sms.NodeAddressType{sms.NodeAddressType_INTERNAL_IP},
		KubeletServingCertApprover: &sms.KubeletServingCertApproverOptions{
			ProviderRegex:       jsii.String("^k8s-(control|worker)-[0-9]+$"),
			ProviderIpPrefixes:  jsii.Strings("192.168.10.0/24"),
			BypassDnsResolution: jsii.Bool(true),
			MaxExpiration:       cdk8s.Duration_Days(jsii.Number(365)),
		},
	})

	// a fleet: one Chart per cluster, each with its namespace, CA and serving key
	for _, c := range [][2]string{{"cluster-a", "monitoring"}, {"cluster-b", "observability"}} {
		chart := cdk8s.NewChart(app, jsii.String(c[0]), &cdk8s.ChartProps{Namespace: jsii.String(c[1])})
		sms.NewSecureMetricsServer(chart, jsii.String("MetricsServer"), nil)
	}

	// must be refused: the construct manages --kubelet-insecure-tls (KubeletTls)
	if os.Getenv("SMS_CASE") == "refused" {
		sms.NewSecureMetricsServer(cdk8s.NewChart(app, jsii.String("refused"), nil), jsii.String("MetricsServer"), &sms.SecureMetricsServerProps{
			ExtraArgs: jsii.Strings("--kubelet-insecure-tls"),
		})
	}

	app.Synth()
}
