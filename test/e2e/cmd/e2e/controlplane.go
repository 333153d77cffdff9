package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The addresses inside the private network namespace. EndpointSlices refuse
// loopback addresses, so the control plane and the "pod" use 10.244.0.10 on lo.
const (
	hostIP        = "10.244.0.10"
	apiserverPort = 443
	etcdClientURL = "http://127.0.0.1:2379"
	etcdPeerURL   = "http://127.0.0.1:2380"
	serviceCIDR   = "10.96.0.0/12"
	kubernetesSvc = "10.96.0.1"
)

// cluster is one running control plane: embedded etcd, kube-apiserver and
// kube-controller-manager, each its own process.
type cluster struct {
	dir        string
	bin        string
	caAlgo     string
	ca         *keyPair
	frontProxy *keyPair
	admin      string // admin kubeconfig
	adminTLS   *tls.Config
	procs      []*exec.Cmd
	apiLog     string
	kcmLog     string
	gitVersion string
	nodeClient map[string]*keyPair
}

func (c *cluster) path(p ...string) string { return filepath.Join(append([]string{c.dir}, p...)...) }

func startCluster(ctx context.Context, dir, bin, caAlgo string) (*cluster, error) {
	c := &cluster{dir: dir, bin: bin, caAlgo: caAlgo, nodeClient: map[string]*keyPair{}}
	pki := c.path("pki")
	must(os.MkdirAll(pki, 0o700))
	must(os.MkdirAll(c.path("logs"), 0o755))

	// the cluster CA as kubeadm (RSA) or k3s/RKE2 (ECDSA P-256) make it
	c.ca = issue(certSpec{CN: "kubernetes", CA: true, Algo: caAlgo, NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour)}, nil)
	c.ca.write(pki, "ca")
	serving := issue(certSpec{CN: "kube-apiserver", Server: true, Algo: caAlgo,
		DNS: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
		IPs: []net.IP{net.ParseIP(kubernetesSvc), net.ParseIP(hostIP), net.ParseIP("127.0.0.1")}}, c.ca)
	serving.write(pki, "apiserver")
	kubeletClient := issue(certSpec{CN: "kube-apiserver-kubelet-client", Org: []string{"kubeadm:cluster-admins"}, Client: true, Algo: caAlgo}, c.ca)
	kubeletClient.write(pki, "apiserver-kubelet-client")
	c.frontProxy = issue(certSpec{CN: "front-proxy-ca", CA: true, Algo: caAlgo}, nil)
	c.frontProxy.write(pki, "front-proxy-ca")
	fpClient := issue(certSpec{CN: "front-proxy-client", Client: true, Algo: caAlgo}, c.frontProxy)
	fpClient.write(pki, "front-proxy-client")
	sa := newKey("rsa")
	must(os.WriteFile(c.path("pki", "sa.key"), keyPEM(sa), 0o600))
	pubDER, err2 := x509.MarshalPKIXPublicKey(sa.Public())
	must(err2)
	must(os.WriteFile(c.path("pki", "sa.pub"), pemBlock("PUBLIC KEY", pubDER), 0o644))
	admin := issue(certSpec{CN: "e2e-admin", Org: []string{"system:masters"}, Client: true, Algo: caAlgo}, c.ca)
	c.admin = c.writeKubeconfig("admin", admin)
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.Cert)
	adminCert, err := tls.X509KeyPair(admin.CertPEM, admin.KeyPEM)
	must(err)
	c.adminTLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{adminCert}}
	kcm := issue(certSpec{CN: "system:kube-controller-manager", Client: true, Algo: caAlgo}, c.ca)
	kcmKubeconfig := c.writeKubeconfig("kube-controller-manager", kcm)

	// etcd, embedded (go.etcd.io/etcd/server/v3/embed at the version k8s pins)
	if err := c.start("etcd", filepath.Join(bin, "e2e-etcd"), "--data-dir="+c.path("etcd"),
		"--listen-client="+etcdClientURL, "--listen-peer="+etcdPeerURL); err != nil {
		return c, err
	}
	if err := waitFor(ctx, 60*time.Second, func() error { return httpOK(etcdClientURL+"/health", nil) }); err != nil {
		return c, fmt.Errorf("etcd: %w", err)
	}

	c.apiLog = c.path("logs", "kube-apiserver.log")
	if err := c.start("kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdClientURL,
		"--advertise-address="+hostIP,
		fmt.Sprintf("--secure-port=%d", apiserverPort),
		"--tls-cert-file="+c.path("pki", "apiserver.crt"),
		"--tls-private-key-file="+c.path("pki", "apiserver.key"),
		"--client-ca-file="+c.path("pki", "ca.crt"),
		"--kubelet-client-certificate="+c.path("pki", "apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+c.path("pki", "apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority="+c.path("pki", "ca.crt"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.path("pki", "sa.pub"),
		"--service-account-signing-key-file="+c.path("pki", "sa.key"),
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction,PodSecurity",
		"--allow-privileged=false",
		// the aggregation layer, as kubeadm configures it
		"--requestheader-client-ca-file="+c.path("pki", "front-proxy-ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file="+c.path("pki", "front-proxy-client.crt"),
		"--proxy-client-key-file="+c.path("pki", "front-proxy-client.key"),
		"--enable-aggregator-routing=true",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return c, err
	}
	if err := waitFor(ctx, 120*time.Second, func() error { return c.apiOK("/readyz") }); err != nil {
		return c, fmt.Errorf("kube-apiserver not ready: %w (log %s: %s)", err, c.apiLog, tail(c.apiLog, 15))
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	body, err := c.apiGet("/version")
	if err != nil {
		return c, err
	}
	must(json.Unmarshal(body, &v))
	c.gitVersion = v.GitVersion

	c.kcmLog = c.path("logs", "kube-controller-manager.log")
	if err := c.start("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+kcmKubeconfig,
		"--authentication-kubeconfig="+kcmKubeconfig,
		"--authorization-kubeconfig="+kcmKubeconfig,
		"--bind-address=127.0.0.1",
		"--cluster-signing-cert-file="+c.path("pki", "ca.crt"),
		"--cluster-signing-key-file="+c.path("pki", "ca.key"),
		"--root-ca-file="+c.path("pki", "ca.crt"),
		"--service-account-private-key-file="+c.path("pki", "sa.key"),
		"--use-service-account-credentials=true",
		"--service-cluster-ip-range="+serviceCIDR,
		"--controllers=*",
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return c, err
	}
	// the root-ca-cert-publisher has written kube-root-ca.crt
	if err := waitFor(ctx, 120*time.Second, func() error {
		_, err := c.apiGet("/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt")
		return err
	}); err != nil {
		return c, fmt.Errorf("kube-controller-manager did not publish kube-root-ca.crt: %w (log: %s)", err, tail(c.kcmLog, 15))
	}
	return c, nil
}

func pemBlock(t string, der []byte) []byte {
	return []byte(fmt.Sprintf("-----BEGIN %s-----\n%s-----END %s-----\n", t, wrap64(der), t))
}

func wrap64(der []byte) string {
	s := b64(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

func (c *cluster) writeKubeconfig(name string, kp *keyPair) string {
	return writeKubeconfigFile(c.path(name+".kubeconfig"), c.ca.CertPEM, fmt.Sprintf(`client-certificate-data: %s
    client-key-data: %s`, b64(kp.CertPEM), b64(kp.KeyPEM)))
}

func writeKubeconfigFile(file string, caPEM []byte, user string) string {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://%s:%d
    certificate-authority-data: %s
users:
- name: user
  user:
    %s
contexts:
- name: e2e
  context:
    cluster: e2e
    user: user
current-context: e2e
`, hostIP, apiserverPort, b64(caPEM), user)
	must(os.WriteFile(file, []byte(cfg), 0o600))
	return file
}

func (c *cluster) start(name, bin string, args ...string) error {
	logf, err := os.OpenFile(c.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	return nil
}

func (c *cluster) stop() {
	stopProcs(c.procs)
	c.procs = nil
}

// stopProcs stops processes in the reverse order of their start: SIGTERM,
// then SIGKILL after 15 s (every wait bounded).
func stopProcs(procs []*exec.Cmd) {
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
}

func (c *cluster) apiURL(p string) string {
	return fmt.Sprintf("https://%s:%d%s", hostIP, apiserverPort, p)
}

func (c *cluster) apiGet(p string) ([]byte, error) { return httpGet(c.apiURL(p), c.adminTLS) }

func (c *cluster) apiOK(p string) error { return httpOK(c.apiURL(p), c.adminTLS) }

func httpGet(url string, tc *tls.Config) ([]byte, error) {
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, Proxy: nil}}
	resp, err := cl.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != 200 {
		return b, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func httpOK(url string, tc *tls.Config) error { _, err := httpGet(url, tc); return err }

func waitFor(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func mustRead(f string) []byte {
	b, err := os.ReadFile(f)
	if err != nil {
		return nil
	}
	return b
}

// cleanEnv is the environment without proxy variables: nothing may leave the namespace.
func cleanEnv() []string {
	var out []string
	for _, e := range os.Environ() {
		k := strings.ToLower(strings.SplitN(e, "=", 2)[0])
		if k == "http_proxy" || k == "https_proxy" || k == "no_proxy" || k == "all_proxy" {
			continue
		}
		out = append(out, e)
	}
	return out
}
