// The synthesized ServiceMonitor's tlsConfig, scraped the way Prometheus
// scrapes: an HTTPS server on loopback with the synthesized serving
// certificate and key, and a client made by Prometheus' own config code
// (github.com/prometheus/common/config: NewClientFromConfig) from only the
// CA and serverName the ServiceMonitor names. Driven by
// test/servicemonitor.proc.test.ts, which passes the synthesized files in
// SM_CA_FILE, SM_SERVER_NAME, SM_CERT_FILE and SM_KEY_FILE.
package servicemonitor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/prometheus/common/config"
)

func inputs(t *testing.T) (ca, serverName, certFile, keyFile string) {
	ca, serverName, certFile, keyFile = os.Getenv("SM_CA_FILE"), os.Getenv("SM_SERVER_NAME"), os.Getenv("SM_CERT_FILE"), os.Getenv("SM_KEY_FILE")
	if ca == "" || serverName == "" || certFile == "" || keyFile == "" {
		t.Fatal("SM_CA_FILE, SM_SERVER_NAME, SM_CERT_FILE and SM_KEY_FILE must name the synthesized files (run test/servicemonitor.proc.test.ts)")
	}
	return
}

// serve starts an HTTPS server on loopback with the serving certificate,
// answering /metrics as metrics-server does (text exposition).
func serve(t *testing.T, certFile, keyFile string) string {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("tls.LoadX509KeyPair: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "# TYPE metrics_server_build_info gauge\nmetrics_server_build_info 1\n")
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String() + "/metrics"
}

// scrape GETs url with a client made by Prometheus' config code from a CA file and a server name only.
func scrape(t *testing.T, url string, tlsConfig config.TLSConfig) error {
	cfg := config.HTTPClientConfig{TLSConfig: tlsConfig}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("HTTPClientConfig.Validate: %v", err)
	}
	client, err := config.NewClientFromConfig(cfg, "metrics-server", config.WithDialContextFunc((&net.Dialer{Timeout: 5 * time.Second}).DialContext))
	if err != nil {
		t.Fatalf("NewClientFromConfig: %v", err)
	}
	client.Timeout = 10 * time.Second
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("scrape: status %d, body %q", resp.StatusCode, body)
	}
	return nil
}

func TestScrapeVerifiesWithTheServiceMonitorsCaAndServerName(t *testing.T) {
	ca, serverName, certFile, keyFile := inputs(t)
	url := serve(t, certFile, keyFile)
	if err := scrape(t, url, config.TLSConfig{CAFile: ca, ServerName: serverName}); err != nil {
		t.Fatalf("scrape with the ServiceMonitor's CA and serverName %q failed: %v", serverName, err)
	}
}

func TestScrapeFailsWithAnotherCa(t *testing.T) {
	_, serverName, certFile, keyFile := inputs(t)
	url := serve(t, certFile, keyFile)
	other := writeOtherCa(t)
	err := scrape(t, url, config.TLSConfig{CAFile: other, ServerName: serverName})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("scrape with another CA: want x509.UnknownAuthorityError, got %v", err)
	}
}

func TestScrapeFailsWithAnotherServerName(t *testing.T) {
	ca, _, certFile, keyFile := inputs(t)
	url := serve(t, certFile, keyFile)
	err := scrape(t, url, config.TLSConfig{CAFile: ca, ServerName: "other.kube-system.svc"})
	var hostname x509.HostnameError
	if !errors.As(err, &hostname) {
		t.Fatalf("scrape with another serverName: want x509.HostnameError, got %v", err)
	}
}

// writeOtherCa writes a fresh self-signed CA certificate (P-256) to a temporary file.
func writeOtherCa(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f := t.TempDir() + "/other-ca.crt"
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
