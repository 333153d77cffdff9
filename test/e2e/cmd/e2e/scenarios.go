package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// result is one scenario's line in results.json.
type result struct {
	Name       string          `json:"name"`
	Cluster    string          `json:"cluster"`
	Expect     string          `json:"expect"`
	Outcome    string          `json:"outcome"` // pass, fail, skipped
	Reason     string          `json:"reason,omitempty"`
	GitVersion string          `json:"kubeApiserverGitVersion"`
	TopNodes   string          `json:"kubectlTopNodes,omitempty"`
	TopPods    string          `json:"kubectlTopPods,omitempty"`
	Errors     []string        `json:"errors,omitempty"`
	APIService apiServiceState `json:"apiService"`
	Args       []string        `json:"metricsServerArgs,omitempty"`
	Insecure   []string        `json:"insecure,omitempty"`
	Doctor     *doctorResult   `json:"doctor,omitempty"`
	Polls      *pollResult     `json:"polls,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	Scrape     *scrapeResult   `json:"scrape,omitempty"` // example-monitoring (monitoring.go)
	Steps      []step          `json:"steps,omitempty"`
	Seconds    float64         `json:"seconds"`
}

// step is one timed part of a scenario: where its seconds went.
type step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// begin starts the step name of r; the function it returns ends it.
func (r *result) begin(name string) func() {
	t := time.Now()
	return func() { r.Steps = append(r.Steps, step{name, float64(time.Since(t).Milliseconds()) / 1000}) }
}

type doctorResult struct {
	Exit     int      `json:"exit"`
	Codes    []string `json:"codes"`
	Summary  []string `json:"summary"`
	Findings []string `json:"findings,omitempty"`
	Verdict  string   `json:"verdict"`
	Expected string   `json:"expected"`
}

type pollResult struct {
	Total  int      `json:"total"`
	Failed int      `json:"failed"`
	Errors []string `json:"errors,omitempty"`
}

// scenario is one deployment judged by the real control plane.
type scenario struct {
	Name    string
	Cluster string // rsa | ecdsa
	Expect  string // healthy | failure | insecure
	// synth writes the manifests and returns their directory and namespace
	Synth func(e *env, s *scenario, dir string) (string, error)
	// Want: for failures, the texts that must appear (kube-apiserver log,
	// APIService condition, kubectl, metrics-server log, kubelet events)
	Want []string
	// DoctorWant: finding codes the doctor must report (failures)
	DoctorWant []string
	Kubelets   string // "" or "self-signed"
	Skip       string
	Custom     func(e *env, s *scenario, r *result, dir string)
	NS         string
	Pre        func(e *env, dir string) error
	Post       func(e *env)
	// Verify: more checks once a healthy scenario passed, before doctor (manifests: the applied directory)
	Verify func(e *env, s *scenario, r *result, manifests string)
	// Cost: the seconds it takes (results.json), for shards; 0 means defaultCost
	Cost float64
}

// defaultCost is what a scenario that waits for two metrics-server scrapes
// takes (results.json: 26-31 s each).
const defaultCost = 28

func (s *scenario) cost() float64 {
	switch {
	case s.Skip != "":
		return 0
	case s.Cost > 0:
		return s.Cost
	}
	return defaultCost
}

// deploy server-side applies dir and records what the pod will run (its
// args, insecure settings, key-id findings) in r; on a refusal it fails r
// with kube-apiserver's answer and returns false. It returns kubectl's
// output too. The caller removes dir.
func deploy(e *env, r *result, dir string, objs []obj, what string) (string, bool) {
	done := r.begin("apply")
	out, err := e.apply(dir)
	done()
	if err != nil {
		r.Outcome, r.Reason = "fail", "the real kube-apiserver refused "+what+": "+err.Error()
		r.Errors = append(r.Errors, out)
		return out, false
	}
	if d := metricsServerDeployment(objs); d != nil {
		r.Args = containerArgs(d)
	}
	r.Insecure = insecureSettings(objs)
	r.Notes = append(r.Notes, keyIDFindings(objs)...)
	return out, true
}

// synthEnv is the environment of a scenario's synth. The harness is the
// machine that holds each scenario's certificate store (a fresh one per
// scenario), so it issues on purpose: frozen synth, which CI=true turns on
// (lib/store/frozen.ts), is turned off for these synths only. Later entries
// win in os/exec, so this overrides a SECURE_METRICS_SERVER_FROZEN from outside.
func synthEnv() []string {
	return append(cleanEnv(), "SECURE_METRICS_SERVER_FROZEN=0")
}

// synthMain runs the repository's main.ts (cdk8s app driven by env vars).
func synthMain(e *env, vars map[string]string, out string) error {
	envv := append(synthEnv(), "CDK8S_OUTDIR="+out)
	for k, v := range vars {
		envv = append(envv, k+"="+v)
	}
	stdout, stderr, code := run(e.ctx, 3*time.Minute, e.repo, envv, "node", "-r", "tsx/cjs", "main.ts")
	if code != 0 {
		return fmt.Errorf("synth main.ts: exit %d: %s%s", code, stdout, stderr)
	}
	return nil
}

// synthExample runs examples/NAME/main.ts in its own working directory, with
// 'secure-metrics-server' resolved to this repository's lib/ (tsx, tsconfig paths).
func synthExample(e *env, name string, vars map[string]string, cwd string) (string, error) {
	must(os.MkdirAll(cwd, 0o755))
	envv := append(synthEnv(), "TSX_TSCONFIG_PATH="+filepath.Join(e.repo, "test", "e2e", "tsconfig.examples.json"))
	for k, v := range vars {
		envv = append(envv, k+"="+v)
	}
	stdout, stderr, code := run(e.ctx, 3*time.Minute, cwd, envv, "node", "--require", filepath.Join(e.repo, "node_modules", "tsx", "dist", "cjs", "index.cjs"), filepath.Join(e.repo, "examples", name, "main.ts"))
	if code != 0 {
		return "", fmt.Errorf("synth examples/%s: exit %d: %s%s", name, code, stdout, stderr)
	}
	return filepath.Join(cwd, "dist"), nil
}

// opensslServingCert makes the serving certificate with the seed's openssl
// recipe (genrsa 2048; req with CN and SAN metrics-server.<ns>.svc,
// extendedKeyUsage serverAuth; x509 -req -CA the cluster CA -days 365 -sha256).
func opensslServingCert(e *env, dir, ns string) (crt, key string, err error) {
	must(os.MkdirAll(dir, 0o700))
	conf := fmt.Sprintf(`[req]
distinguished_name = dn
req_extensions = v3_ext
prompt = no
[dn]
C = CN
CN = metrics-server.%[1]s.svc
[v3_ext]
subjectAltName = @alt_names
extendedKeyUsage = serverAuth
[alt_names]
DNS.1 = metrics-server.%[1]s.svc
`, ns)
	must(os.WriteFile(filepath.Join(dir, "metrics-server-csr.conf"), []byte(conf), 0o644))
	steps := [][]string{
		{"genrsa", "-out", "metrics-server.key", "2048"},
		{"req", "-new", "-key", "metrics-server.key", "-out", "metrics-server.csr", "-config", "metrics-server-csr.conf"},
		{"x509", "-req", "-in", "metrics-server.csr", "-CA", e.c.path("pki", "ca.crt"), "-CAkey", e.c.path("pki", "ca.key"), "-CAcreateserial",
			"-out", "metrics-server.crt", "-days", "365", "-sha256", "-extfile", "metrics-server-csr.conf", "-extensions", "v3_ext"},
	}
	for _, st := range steps {
		if o, er, code := run(e.ctx, time.Minute, dir, cleanEnv(), "openssl", st...); code != 0 {
			return "", "", fmt.Errorf("openssl %s: %s%s", st[0], o, er)
		}
	}
	return filepath.Join(dir, "metrics-server.crt"), filepath.Join(dir, "metrics-server.key"), nil
}

func caVars(e *env) map[string]string {
	return map[string]string{"CLUSTER_CA_CERT": e.c.path("pki", "ca.crt"), "CLUSTER_CA_KEY": e.c.path("pki", "ca.key")}
}

// mutate rewrites synthesized manifests (the seed's manual edits).
func mutate(src, dst string, f func([]obj) error) (string, error) {
	objs, err := readManifests(src)
	if err != nil {
		return "", err
	}
	if err := f(objs); err != nil {
		return "", err
	}
	return dst, writeManifests(dst, objs)
}

func parseKey(p []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(p)
	if b == nil {
		return nil, fmt.Errorf("no PEM key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		return k.(crypto.Signer), nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(b.Bytes)
}

func scenarios() []*scenario {
	healthyMain := func(name, cluster string, vars func(e *env, dir string) (map[string]string, error)) *scenario {
		return &scenario{Name: name, Cluster: cluster, Expect: "healthy", NS: "kube-system",
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				v, err := vars(e, dir)
				if err != nil {
					return "", err
				}
				out := filepath.Join(dir, "dist")
				return out, synthMain(e, v, out)
			}}
	}
	example := func(name, cluster, expect, ns, file string, vars func(e *env, dir string) (map[string]string, error)) *scenario {
		return &scenario{Name: "example-" + name, Cluster: cluster, Expect: expect, NS: ns,
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				v := map[string]string{}
				if vars != nil {
					var err error
					if v, err = vars(e, dir); err != nil {
						return "", err
					}
				}
				out, err := synthExample(e, name, v, filepath.Join(dir, "app"))
				if err != nil || file == "" {
					return out, err
				}
				// one cluster's manifest of a fleet
				sel := filepath.Join(dir, "selected")
				must(os.MkdirAll(sel, 0o755))
				b, err := os.ReadFile(filepath.Join(out, file))
				if err != nil {
					return "", err
				}
				return sel, os.WriteFile(filepath.Join(sel, file), b, 0o600)
			}}
	}
	pemVars := func(e *env, dir string) (map[string]string, error) {
		crt, key, err := opensslServingCert(e, filepath.Join(dir, "openssl"), "kube-system")
		return map[string]string{"TLS_CERT": crt, "TLS_KEY": key, "TLS_CA": e.c.path("pki", "ca.crt")}, err
	}
	existingSecret := func(secret string) func(e *env, dir string) (map[string]string, error) {
		return func(e *env, dir string) (map[string]string, error) {
			crt, key, err := opensslServingCert(e, filepath.Join(dir, "openssl"), "kube-system")
			if err != nil {
				return nil, err
			}
			if err := e.ensureNamespace("kube-system"); err != nil {
				return nil, err
			}
			// as the seed creates it
			if o, er, code := e.kubectl(time.Minute, "create", "secret", "tls", secret, "--cert="+crt, "--key="+key, "--namespace=kube-system"); code != 0 && !strings.Contains(er, "AlreadyExists") {
				return nil, fmt.Errorf("kubectl create secret tls: %s%s", o, er)
			}
			return map[string]string{"EXISTING_TLS_SECRET": secret, "TLS_CA": e.c.path("pki", "ca.crt")}, nil
		}
	}
	delSecret := func(name string) func(e *env) {
		return func(e *env) { _ = e.admin.CoreV1().Secrets("kube-system").Delete(e.ctx, name, metav1.DeleteOptions{}) }
	}
	pki := func(e *env, dir string) (map[string]string, error) {
		return map[string]string{"PKI_DIR": filepath.Join(dir, "pki")}, nil
	}
	fromCa := func(e *env, dir string) (map[string]string, error) {
		v := caVars(e)
		v["PKI_DIR"] = filepath.Join(dir, "pki")
		return v, nil
	}

	list := []*scenario{
		healthyMain("dedicated-ca", "rsa", pki),
		healthyMain("fromCa-cluster-ca-rsa", "rsa", fromCa),
		healthyMain("fromCa-cluster-ca-ecdsa", "ecdsa", fromCa),
		healthyMain("fromPem-seed-openssl", "rsa", pemVars),
		func() *scenario {
			s := healthyMain("fromExistingSecret", "rsa", existingSecret("metrics-server-tls"))
			s.Post = delSecret("metrics-server-tls")
			return s
		}(),
		example("fleet", "rsa", "healthy", "observability", "cluster-b.k8s.yaml", nil),
		example("verified-defaults", "rsa", "healthy", "kube-system", "", nil),
		example("insecure-test-cluster", "rsa", "insecure", "kube-system", "", nil),
		example("cluster-ca", "rsa", "healthy", "kube-system", "", func(e *env, dir string) (map[string]string, error) { return caVars(e), nil }),
		example("bring-your-own-pem", "rsa", "healthy", "kube-system", "", pemVars),
		func() *scenario {
			s := example("existing-secret", "rsa", "healthy", "kube-system", "", func(e *env, dir string) (map[string]string, error) {
				v, err := existingSecret("metrics-server-tls")(e, dir)
				delete(v, "EXISTING_TLS_SECRET")
				return v, err
			})
			s.Post = delSecret("metrics-server-tls")
			return s
		}(),
		example("production-ha", "rsa", "healthy", "kube-system", "", nil),
		example("ecdsa-cluster-ca", "ecdsa", "healthy", "kube-system", "", func(e *env, dir string) (map[string]string, error) {
			return map[string]string{"SERVER_CA_CERT": e.c.path("pki", "ca.crt"), "SERVER_CA_KEY": e.c.path("pki", "ca.key")}, nil
		}),
		example("kubelet-csr-approver", "rsa", "healthy", "kube-system", "", nil),
		// the chart-values groups (docs/helm-values.md): identity and RBAC, probes and rollout, extra volumes
		example("identity-rbac", "rsa", "healthy", "kube-system", "", nil),
		example("probes-rollout", "rsa", "healthy", "kube-system", "", nil),
		func() *scenario {
			// the example mounts a ConfigMap it does not write, front-proxy-ca (the aggregator's
			// client CA, for --requestheader-client-ca-file): made here from this control plane's
			// front-proxy CA, as a cluster admin would
			s := example("extra-volumes", "rsa", "healthy", "kube-system", "", func(e *env, dir string) (map[string]string, error) {
				if err := e.ensureNamespace("kube-system"); err != nil {
					return nil, err
				}
				if o, er, code := e.kubectl(time.Minute, "create", "configmap", "front-proxy-ca", "--from-file=ca.crt="+e.c.path("pki", "front-proxy-ca.crt"), "--namespace=kube-system"); code != 0 && !strings.Contains(er, "AlreadyExists") {
					return nil, fmt.Errorf("kubectl create configmap front-proxy-ca: %s%s", o, er)
				}
				return map[string]string{}, nil
			})
			s.Post = func(e *env) {
				_ = e.admin.CoreV1().ConfigMaps("kube-system").Delete(e.ctx, "front-proxy-ca", metav1.DeleteOptions{})
			}
			return s
		}(),
		// the Prometheus Operator's ServiceMonitor CRD applied, /metrics scraped as Prometheus does (monitoring.go)
		withServiceMonitor(example("monitoring", "rsa", "healthy", "kube-system", "", nil)),
		certManagerScenario(example("cert-manager", "rsa", "healthy", "kube-system", "", nil)),
		{Name: "kubelet-csr-approver-real", Cluster: "rsa", Expect: "healthy", Skip: "github.com/postfinance/kubelet-csr-approver cannot be had here (tried 2026-12-07 with GOPROXY=https://proxy.golang.org,direct): go list -m -versions gives `reading https://proxy.golang.org/github.com/postfinance/kubelet-csr-approver/@v/list: 403 Forbidden; server response: This module version is not available.`, and go mod download of @latest and of @v1.2.15 (the construct's default) the same 403 (for @v1.2.15: `reading https://proxy.golang.org/github.com/postfinance/kubelet-csr-approver/@v/v1.2.15.info: 403 Forbidden`)"},

		// the seed's failures, with the real error texts
		{Name: "seed-self-signed-serving-cert", Cluster: "rsa", Expect: "failure", NS: "kube-system",
			Want:       []string{"x509: certificate is valid for localhost, localhost, not metrics-server.kube-system.svc", "error: Metrics API not available"},
			DoctorWant: []string{"SMD002"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				// upstream's components.yaml as the seed edits it in 4.0: --kubelet-insecure-tls
				// (the kubelet hop is not what this step tests), insecureSkipTLSVerify false
				src := filepath.Join(dir, "upstream")
				must(os.MkdirAll(src, 0o755))
				b, err := os.ReadFile(filepath.Join(e.repo, "..", "..", "shared", "reference", "metrics-server-v0.8.1-components.yaml"))
				if err != nil {
					b, err = os.ReadFile("/work/shared/reference/metrics-server-v0.8.1-components.yaml")
				}
				if err != nil {
					return "", err
				}
				must(os.WriteFile(filepath.Join(src, "components.yaml"), b, 0o644))
				return mutate(src, filepath.Join(dir, "dist"), func(objs []obj) error {
					d := metricsServerDeployment(objs)
					c := path(d, "spec", "template", "spec", "containers", 0).(obj)
					c["args"] = append(c["args"].([]any), "--kubelet-insecure-tls")
					for _, a := range find(objs, "APIService") {
						a["spec"].(obj)["insecureSkipTLSVerify"] = false
					}
					return nil
				})
			}},
		{Name: "seed-self-signed-kubelets", Cost: 8, Cluster: "rsa", Expect: "failure", NS: "kube-system", Kubelets: "self-signed",
			Want:       []string{"x509: certificate signed by unknown authority", "error: Metrics API not available"},
			DoctorWant: []string{"SMD015"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				out := filepath.Join(dir, "dist")
				v, _ := fromCa(e, dir)
				return out, synthMain(e, v, out)
			}},
		{Name: "caBundle-of-another-ca", Cluster: "rsa", Expect: "failure", NS: "kube-system",
			Want:       []string{"x509: certificate signed by unknown authority", "error: Metrics API not available"},
			DoctorWant: []string{"SMD002"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				src := filepath.Join(dir, "synth")
				v, _ := fromCa(e, dir)
				if err := synthMain(e, v, src); err != nil {
					return "", err
				}
				other := issue(certSpec{CN: "another-ca", CA: true}, nil)
				return mutate(src, filepath.Join(dir, "dist"), func(objs []obj) error {
					for _, a := range find(objs, "APIService") {
						a["spec"].(obj)["caBundle"] = base64.StdEncoding.EncodeToString(other.CertPEM)
					}
					return nil
				})
			}},
		{Name: "expired-serving-cert", Cluster: "rsa", Expect: "failure", NS: "kube-system",
			Want:       []string{"x509: certificate has expired or is not yet valid", "error: Metrics API not available"},
			DoctorWant: []string{"SMD002"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				src := filepath.Join(dir, "synth")
				v, _ := fromCa(e, dir)
				if err := synthMain(e, v, src); err != nil {
					return "", err
				}
				return mutate(src, filepath.Join(dir, "dist"), func(objs []obj) error {
					for _, sec := range find(objs, "Secret") {
						data := sec["data"].(obj)
						crtPEM, _ := base64.StdEncoding.DecodeString(data["tls.crt"].(string))
						keyPEM, _ := base64.StdEncoding.DecodeString(data["tls.key"].(string))
						b, _ := pem.Decode(crtPEM)
						cert, err := x509.ParseCertificate(b.Bytes)
						if err != nil {
							return err
						}
						key, err := parseKey(keyPEM)
						if err != nil {
							return err
						}
						// the same certificate, ended yesterday
						cert.NotBefore, cert.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
						cert.SerialNumber = new(big.Int).Add(cert.SerialNumber, big.NewInt(1))
						der, err := x509.CreateCertificate(rand.Reader, cert, e.c.ca.Cert, key.Public(), e.c.ca.Key)
						if err != nil {
							return err
						}
						data["tls.crt"] = base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
					}
					return nil
				})
			}},
		// what the kubelet refuses to mount, with the kubelet's reason
		{Name: "seed-configmap-cluster-root-ca-missing", Cost: 7, Cluster: "ecdsa", Expect: "failure", NS: "kube-system",
			Want:       []string{`MountVolume.SetUp failed for volume "kubelet-ca" : configmap "cluster-root-ca" not found`, "error: Metrics API not available"},
			DoctorWant: []string{"SMD017"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				out := filepath.Join(dir, "dist")
				v, _ := fromCa(e, dir)
				v["KUBELET_CA"] = "configmap:cluster-root-ca/ca.crt"
				return out, synthMain(e, v, out)
			}},
		{Name: "kubelet-ca-secret-key-missing", Cost: 5, Cluster: "ecdsa", Expect: "failure", NS: "kube-system",
			Want:       []string{`MountVolume.SetUp failed for volume "kubelet-ca" : references non-existent secret key: ca.crt`},
			DoctorWant: []string{"SMD004"},
			Pre: func(e *env, dir string) error {
				_ = e.ensureNamespace("kube-system")
				_, er, code := e.kubectl(time.Minute, "-n", "kube-system", "create", "secret", "generic", "kubelet-ca", "--from-literal=other.crt=x")
				if code != 0 && !strings.Contains(er, "AlreadyExists") {
					return fmt.Errorf("%s", er)
				}
				return nil
			},
			Post: func(e *env) {
				_ = e.admin.CoreV1().Secrets("kube-system").Delete(e.ctx, "kubelet-ca", metav1.DeleteOptions{})
			},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				out := filepath.Join(dir, "dist")
				v, _ := fromCa(e, dir)
				v["KUBELET_CA"] = "secret:kubelet-ca/ca.crt"
				return out, synthMain(e, v, out)
			}},
		{Name: "serving-key-unreadable-by-runAsUser", Cost: 6, Cluster: "ecdsa", Expect: "failure", NS: "kube-system",
			Want: []string{"permission denied", "error: Metrics API not available"},
			Synth: func(e *env, s *scenario, dir string) (string, error) {
				src := filepath.Join(dir, "synth")
				v, _ := fromCa(e, dir)
				if err := synthMain(e, v, src); err != nil {
					return "", err
				}
				// a negative control of the runner: defaultMode 0400 (root-owned) and runAsUser 1000
				return mutate(src, filepath.Join(dir, "dist"), func(objs []obj) error {
					vols, _ := path(metricsServerDeployment(objs), "spec", "template", "spec", "volumes").([]any)
					for _, vv := range vols {
						if sec, ok := vv.(obj)["secret"].(obj); ok {
							sec["defaultMode"] = 0o400
						}
					}
					return nil
				})
			}},
		{Name: "ca-rotation-bundle-first", Cost: 73, Cluster: "ecdsa", Expect: "healthy", NS: "kube-system", Custom: rotation("bundle-first")},
		{Name: "ca-rotation-secret-first", Cost: 61, Cluster: "ecdsa", Expect: "healthy", NS: "kube-system", Custom: rotation("secret-first")},
	}
	// the SealedSecret and SOPS outputs (sealed.go)
	list = append(list, gitopsScenarios()...)
	return list
}

// runScenario deploys one scenario into e's cluster and judges it.
func runScenario(e *env, s *scenario) (r result) {
	start := time.Now()
	r = result{Name: s.Name, Cluster: s.Cluster, Expect: s.Expect, GitVersion: e.c.gitVersion}
	defer func() {
		if p := recover(); p != nil {
			r.Outcome, r.Reason = "fail", fmt.Sprintf("harness panic: %v", p)
		}
		r.Seconds = time.Since(start).Seconds()
	}()
	if s.Skip != "" {
		r.Outcome, r.Reason = "skipped", s.Skip
		return r
	}
	dir := filepath.Join(e.work, "scenarios", s.Name)
	must(os.MkdirAll(dir, 0o755))
	if s.Pre != nil {
		if err := s.Pre(e, dir); err != nil {
			r.Outcome, r.Reason = "fail", "setup: "+err.Error()
			return r
		}
	}
	if s.Post != nil {
		defer s.Post(e)
	}
	if s.Custom != nil {
		s.Custom(e, s, &r, dir)
		return r
	}
	if s.Kubelets == "self-signed" {
		saved := make([]any, len(e.kubelets))
		for i, k := range e.kubelets {
			saved[i] = k.cert.Load()
			k.useSelfSigned()
		}
		defer func() {
			for i, k := range e.kubelets {
				k.cert.Store(saved[i].(*tlsCert))
			}
		}()
	}
	done := r.begin("synth")
	manifests, err := s.Synth(e, s, dir)
	done()
	if err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return r
	}
	logOff := fileSize(e.c.apiLog)
	defer e.remove(&r, manifests)
	objs, _ := readManifests(manifests)
	if _, ok := deploy(e, &r, manifests, objs, "the manifests"); !ok {
		return r
	}
	switch s.Expect {
	case "healthy", "insecure":
		judgeHealthy(e, s, &r)
		if s.Verify != nil && r.Outcome == "pass" {
			s.Verify(e, s, &r, manifests)
		}
		if s.Expect == "healthy" && len(r.Insecure) > 0 {
			r.Outcome, r.Reason = "fail", "insecure settings on the command line: "+strings.Join(r.Insecure, ", ")
		}
		if s.Expect == "insecure" && len(r.Insecure) == 0 && r.Outcome == "pass" {
			r.Outcome, r.Reason = "fail", "the insecure test mode has no insecure setting"
		}
	case "failure":
		judgeFailure(e, s, &r, logOff)
	}
	for _, ev := range e.sim.events() {
		if strings.Contains(ev, "ErrImagePull") && !contains(r.Notes, ev) {
			r.Notes = append(r.Notes, "not run (no binary built for its image): "+ev)
		}
	}
	r.Doctor = runDoctor(e, s, &r, r.Outcome == "pass" && s.Expect == "healthy")
	if r.Outcome == "pass" && r.Doctor.Verdict != "ok" {
		r.Outcome, r.Reason = "fail", "doctor: "+r.Doctor.Verdict
	}
	return r
}

func insecureSettings(objs []obj) []string {
	var out []string
	for _, d := range find(objs, "Deployment") {
		for _, a := range containerArgs(d) {
			if strings.HasPrefix(a, "--kubelet-insecure-tls") {
				out = append(out, nameOf(d)+": "+a)
			}
		}
	}
	for _, a := range find(objs, "APIService") {
		if v, _ := path(a, "spec", "insecureSkipTLSVerify").(bool); v {
			out = append(out, "APIService "+nameOf(a)+": insecureSkipTLSVerify: true")
		}
	}
	return out
}

func judgeHealthy(e *env, s *scenario, r *result) {
	done := r.begin("APIService Available")
	err := waitFor(e.ctx, 3*time.Minute, func() error {
		if st := e.apiService(); !st.Available {
			return fmt.Errorf("APIService v1beta1.metrics.k8s.io Available=False (%s): %s", st.Reason, st.Message)
		}
		return nil
	})
	r.APIService = e.apiService()
	done()
	if err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		r.Errors = append(r.Errors, e.sim.events()...)
		r.Errors = append(r.Errors, lastLines(e.containerLogs(s.NS), 5)...)
		return
	}
	done = r.begin("kubectl top nodes")
	out, errOut, code := e.waitTop(2*time.Minute, "nodes")
	done()
	r.TopNodes = strings.TrimSpace(out)
	if code != 0 || !strings.Contains(out, "node-1") {
		r.Outcome, r.Reason = "fail", "kubectl top nodes: "+strings.TrimSpace(errOut)
		r.Errors = append(r.Errors, strings.TrimSpace(errOut))
		r.Errors = append(r.Errors, lastLines(e.containerLogs(s.NS), 5)...)
		return
	}
	done = r.begin("kubectl top pods")
	out, errOut, code = e.waitTop(90*time.Second, "pods", "-n", s.NS)
	done()
	r.TopPods = strings.TrimSpace(out)
	if code != 0 || !strings.Contains(out, "metrics-server") {
		r.Outcome, r.Reason = "fail", "kubectl top pods: "+strings.TrimSpace(errOut)
		r.Errors = append(r.Errors, strings.TrimSpace(errOut))
		return
	}
	r.Outcome = "pass"
}

func lastLines(text string, n int) []string {
	l := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	if len(l) == 1 && l[0] == "" {
		return nil
	}
	return l
}

// judgeFailure waits for every wanted error text to appear where the real
// components write it, and records the lines that hold them.
func judgeFailure(e *env, s *scenario, r *result, logOff int64) {
	defer r.begin("failure texts")()
	found := map[string]string{}
	_ = waitFor(e.ctx, 2*time.Minute, func() error {
		_, topErr, _ := e.top("nodes")
		st := e.apiService()
		r.APIService = st
		sources := map[string]string{
			"kube-apiserver log":   readFrom(e.c.apiLog, logOff),
			"APIService condition": st.Message,
			"kubectl top nodes":    topErr,
			"metrics-server log":   e.containerLogs(s.NS),
			"kubelet events":       strings.Join(e.sim.events(), "\n"),
		}
		missing := 0
		for _, w := range s.Want {
			if _, ok := found[w]; ok {
				continue
			}
			hit := ""
			for src, text := range sources {
				if l := linesWith(text, w, 1); len(l) > 0 {
					hit = src + ": " + truncate(l[0], 600)
					break
				}
			}
			if hit == "" {
				missing++
			} else {
				found[w] = hit
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d wanted text(s) not seen", missing)
		}
		return nil
	})
	for _, w := range s.Want {
		if h, ok := found[w]; ok {
			r.Errors = append(r.Errors, h)
		}
	}
	if len(found) == len(s.Want) && !r.APIService.Available {
		r.Outcome = "pass"
		return
	}
	var miss []string
	for _, w := range s.Want {
		if _, ok := found[w]; !ok {
			miss = append(miss, w)
		}
	}
	r.Outcome = "fail"
	r.Reason = fmt.Sprintf("expected failure texts not seen: %q (APIService Available=%v %s: %s)", miss, r.APIService.Available, r.APIService.Reason, r.APIService.Message)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// runDoctor runs `secure-metrics-server doctor` against the real cluster.
func runDoctor(e *env, s *scenario, r *result, healthy bool) *doctorResult {
	done := r.begin("doctor")
	stdout, stderr, code := run(e.ctx, 2*time.Minute, e.repo, cleanEnv(), "node", "-r", "tsx/cjs", "lib/cli/main.ts", "doctor",
		"--kubeconfig", e.c.admin, "--probe-kubelets", "--namespace", s.NS, "--format", "json")
	done()
	d := &doctorResult{Exit: code}
	var rep struct {
		Hops []struct {
			Section, Status, Summary string
		}
		Findings []struct {
			RuleID   string `json:"ruleId"`
			Severity string
			Message  string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		d.Verdict = fmt.Sprintf("could not read its JSON (exit %d): %s", code, truncate(strings.TrimSpace(stderr+stdout), 400))
		return d
	}
	for _, h := range rep.Hops {
		d.Summary = append(d.Summary, h.Status+" "+h.Section+": "+h.Summary)
	}
	for _, f := range rep.Findings {
		d.Codes = append(d.Codes, f.RuleID)
		d.Findings = append(d.Findings, f.Severity+" "+f.RuleID+": "+truncate(f.Message, 400))
	}
	if healthy {
		d.Expected = "exit 0"
		if code == 0 {
			d.Verdict = "ok"
		} else {
			d.Verdict = fmt.Sprintf("exit %d on a healthy cluster: %v", code, d.Summary)
			for _, f := range rep.Findings {
				if f.Severity != "info" {
					d.Verdict += "; " + f.RuleID + " " + truncate(f.Message, 300)
				}
			}
		}
		return d
	}
	if s.Expect == "insecure" {
		// the insecure test mode works, and doctor says that neither hop is verified
		d.Expected = "exit 1, both hops reported unverified"
		all := strings.Join(d.Summary, "\n")
		if code == 1 && strings.Contains(all, "not verified (insecureSkipTLSVerify)") && strings.Contains(all, "--kubelet-insecure-tls") {
			d.Verdict = "ok"
		} else {
			d.Verdict = fmt.Sprintf("exit %d: %v", code, d.Summary)
		}
		return d
	}
	d.Expected = fmt.Sprintf("exit 1 with %v", s.DoctorWant)
	if s.Expect != "failure" {
		d.Verdict = "not judged (the scenario did not reach a healthy state)"
		return d
	}
	var miss []string
	for _, w := range s.DoctorWant {
		ok := false
		for _, c := range d.Codes {
			if c == w {
				ok = true
			}
		}
		if !ok {
			miss = append(miss, w)
		}
	}
	switch {
	case code != 1:
		d.Verdict = fmt.Sprintf("exit %d, want 1", code)
	case len(miss) > 0:
		d.Verdict = fmt.Sprintf("missing %v (got %v)", miss, d.Codes)
	default:
		d.Verdict = "ok"
	}
	return d
}

var _ = errors.IsNotFound
var _ sync.Mutex

func contains(l []string, s string) bool {
	for _, x := range l {
		if strings.HasSuffix(x, s) {
			return true
		}
	}
	return false
}

// keyIDFindings notes certificates of the manifests whose subjectKeyIdentifier
// is SHA-1 of the empty string, not of the public key (RFC 5280 4.2.1.2).
func keyIDFindings(objs []obj) []string {
	empty := sha1.Sum(nil)
	var out []string
	check := func(where string, p []byte) {
		for {
			var blk *pem.Block
			blk, p = pem.Decode(p)
			if blk == nil {
				return
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err == nil && bytes.Equal(c.SubjectKeyId, empty[:]) {
				out = append(out, fmt.Sprintf("finding: %s: certificate %q has subjectKeyIdentifier %X, SHA-1 of the empty string, not of its public key", where, c.Subject.CommonName, c.SubjectKeyId))
			}
		}
	}
	for _, sec := range find(objs, "Secret") {
		if d, ok := sec["data"].(obj); ok {
			if v, ok := d["tls.crt"].(string); ok {
				b, _ := base64.StdEncoding.DecodeString(v)
				check("Secret "+nameOf(sec)+" tls.crt", b)
			}
		}
	}
	for _, a := range find(objs, "APIService") {
		b, _ := base64.StdEncoding.DecodeString(fmt.Sprint(path(a, "spec", "caBundle")))
		check("APIService caBundle", b)
	}
	return out
}
