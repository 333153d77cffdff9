package main

// example-monitoring: the Prometheus Operator's real ServiceMonitor CRD in the
// real kube-apiserver, and metrics-server's own /metrics scraped the way a
// Prometheus run by the operator scrapes it. The harness reads the applied
// ServiceMonitor back, resolves it as the operator does (the CA from the
// ConfigMap or Secret key it names, serverName, the bearer token file, the
// endpoint's port, scheme and path on the Service's EndpointSlices), writes
// the HTTP client part of the scrape config as the operator writes it
// (pkg/prometheus/promcfg.go: tls_config.ca_file, tls_config.server_name,
// bearer_token_file), loads it with Prometheus' config code
// (github.com/prometheus/common/config, strict YAML as Prometheus loads its
// configuration) and GETs /metrics from the running metrics-server with
// NewClientFromConfig, parsing the answer with Prometheus' text parser
// (github.com/prometheus/common/expfmt).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	yamlv2 "go.yaml.in/yaml/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Set by run.sh: the CRD file of the downloaded prometheus-operator module,
// or the exact error of the download.
const (
	serviceMonitorCRDEnv      = "E2E_SERVICEMONITOR_CRD"
	serviceMonitorCRDErrorEnv = "E2E_SERVICEMONITOR_CRD_ERROR"
	serviceMonitorCRDName     = "servicemonitors.monitoring.coreos.com"
)

// The Prometheus that scrapes: kube-prometheus' ServiceAccount, which the
// example's MetricsAuthorization.forServiceAccount names. Its pod's token
// is where the kubelet projects every pod's ServiceAccount token.
const (
	prometheusNamespace      = "monitoring"
	prometheusServiceAccount = "prometheus-k8s"
	podTokenPath             = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// scrapeResult is what the scrape found, in results.json.
type scrapeResult struct {
	CRD                    string         `json:"crd"`
	CRDEstablishedSeconds  float64        `json:"crdEstablishedSeconds"`
	ServiceMonitor         string         `json:"serviceMonitor"`
	ScrapeConfig           string         `json:"scrapeConfig,omitempty"`
	Targets                []scrapeTarget `json:"targets,omitempty"`
	Checks                 []scrapeCheck  `json:"checks,omitempty"`
	UnknownFieldRefusal    string         `json:"unknownFieldRefusal,omitempty"`
	ScrapeSecondsPerTarget []float64      `json:"scrapeSecondsPerTarget,omitempty"`
}

type scrapeTarget struct {
	URL            string   `json:"url"`
	Status         int      `json:"status"`
	Families       int      `json:"families"`
	MetricsServer  int      `json:"metricsServerFamilies"`
	SomeFamilies   []string `json:"someFamilies"`
	ContentType    string   `json:"contentType"`
	ScrapeDuration string   `json:"scrapeDuration"`
}

// scrapeCheck is one negative check: what was changed, what must happen, what did.
type scrapeCheck struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
}

// withServiceMonitor makes s the monitoring scenario: the CRD and
// Prometheus' ServiceAccount before, the scrape once healthy, the clean-up after.
func withServiceMonitor(s *scenario) *scenario {
	crd := os.Getenv(serviceMonitorCRDEnv)
	if crd == "" {
		why := os.Getenv(serviceMonitorCRDErrorEnv)
		if why == "" {
			why = serviceMonitorCRDEnv + " is not set (run.sh sets it from `go mod download` of github.com/prometheus-operator/prometheus-operator)"
		}
		s.Skip = "the Prometheus Operator's ServiceMonitor CRD could not be had: " + why
		return s
	}
	var established float64
	s.Pre = func(e *env, dir string) error {
		var err error
		established, err = applyServiceMonitorCRD(e, crd)
		if err != nil {
			return err
		}
		return ensurePrometheusServiceAccount(e)
	}
	s.Verify = func(e *env, s *scenario, r *result, manifests string) {
		sr := &scrapeResult{CRD: crdLabel(crd), CRDEstablishedSeconds: established}
		r.Scrape = sr
		if err := scrapeAsPrometheus(e, manifests, filepath.Join(e.work, "scenarios", s.Name, "prometheus"), sr); err != nil {
			r.Outcome, r.Reason = "fail", "scrape as Prometheus: "+err.Error()
		}
	}
	s.Post = func(e *env) {
		_ = e.admin.CoreV1().ServiceAccounts(prometheusNamespace).Delete(e.ctx, prometheusServiceAccount, metav1.DeleteOptions{})
		_, _, _ = e.kubectl(90*time.Second, "delete", "crd", serviceMonitorCRDName, "--ignore-not-found", "--wait=true", "--timeout=60s")
	}
	return s
}

// crdLabel names the CRD file by its module version: .../prometheus-operator@v0.85.0/example/... -> prometheus-operator@v0.85.0/example/...
func crdLabel(file string) string {
	if i := strings.Index(file, "prometheus-operator@"); i >= 0 {
		return "github.com/prometheus-operator/" + file[i:]
	}
	return file
}

// applyServiceMonitorCRD server-side applies the CRD and waits (bounded) until it is Established.
func applyServiceMonitorCRD(e *env, file string) (float64, error) {
	start := time.Now()
	if o, er, code := e.kubectl(2*time.Minute, "apply", "--server-side", "--validate=strict", "--field-manager=secure-metrics-server-e2e", "--force-conflicts", "-f", file); code != 0 {
		return 0, fmt.Errorf("kubectl apply --server-side of the ServiceMonitor CRD %s: exit %d: %s%s", file, code, o, er)
	}
	if o, er, code := e.kubectl(90*time.Second, "wait", "--for=condition=Established", "--timeout=60s", "crd/"+serviceMonitorCRDName); code != 0 {
		return 0, fmt.Errorf("the ServiceMonitor CRD is not Established: kubectl wait: exit %d: %s%s", code, o, er)
	}
	return time.Since(start).Seconds(), nil
}

func ensurePrometheusServiceAccount(e *env) error {
	if err := e.ensureNamespace(prometheusNamespace); err != nil {
		return err
	}
	_, err := e.admin.CoreV1().ServiceAccounts(prometheusNamespace).Create(e.ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: prometheusServiceAccount}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("ServiceAccount %s/%s: %w", prometheusNamespace, prometheusServiceAccount, err)
	}
	return nil
}

// The fields of monitoring.coreos.com/v1 ServiceMonitor the scrape uses (the
// operator's pkg/apis/monitoring/v1 names).
type serviceMonitor struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			Any        bool     `json:"any"`
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []smEndpoint `json:"endpoints"`
	} `json:"spec"`
}

type smEndpoint struct {
	Port            string       `json:"port"`
	TargetPort      any          `json:"targetPort"`
	Scheme          string       `json:"scheme"`
	Path            string       `json:"path"`
	ScrapeTimeout   string       `json:"scrapeTimeout"`
	BearerTokenFile string       `json:"bearerTokenFile"`
	Authorization   *struct{}    `json:"authorization"`
	BasicAuth       *struct{}    `json:"basicAuth"`
	OAuth2          *struct{}    `json:"oauth2"`
	TLSConfig       *smTLSConfig `json:"tlsConfig"`
	FollowRedirects *bool        `json:"followRedirects"`
	EnableHTTP2     *bool        `json:"enableHttp2"`
}

type smKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type smTLSConfig struct {
	CA struct {
		ConfigMap *smKeyRef `json:"configMap"`
		Secret    *smKeyRef `json:"secret"`
	} `json:"ca"`
	CAFile             string `json:"caFile"`
	ServerName         string `json:"serverName"`
	InsecureSkipVerify *bool  `json:"insecureSkipVerify"`
}

// scrapeAsPrometheus scrapes every target of every ServiceMonitor in
// manifests, then runs the negative checks on the first target.
func scrapeAsPrometheus(e *env, manifests, dir string, sr *scrapeResult) error {
	objs, err := readManifests(manifests)
	if err != nil {
		return err
	}
	mons := find(objs, "ServiceMonitor")
	if len(mons) != 1 {
		return fmt.Errorf("want exactly one ServiceMonitor in the synthesized manifests, got %d", len(mons))
	}
	ns, name := nsOf(mons[0]), nameOf(mons[0])
	sr.ServiceMonitor = ns + "/" + name
	// what the API server stored (defaulted and pruned by the CRD's schema), not what was sent
	raw, err := e.admin.Discovery().RESTClient().Get().AbsPath("/apis/monitoring.coreos.com/v1/namespaces/" + ns + "/servicemonitors/" + name).DoRaw(e.ctx)
	if err != nil {
		return fmt.Errorf("reading ServiceMonitor %s back: %w", sr.ServiceMonitor, err)
	}
	var sm serviceMonitor
	if err := json.Unmarshal(raw, &sm); err != nil {
		return fmt.Errorf("ServiceMonitor %s: %w", sr.ServiceMonitor, err)
	}
	if len(sm.Spec.Endpoints) != 1 {
		return fmt.Errorf("ServiceMonitor %s: want one endpoint, got %d", sr.ServiceMonitor, len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	must(os.MkdirAll(dir, 0o700))

	// the Prometheus pod's view: its ServiceAccount token, the CA the operator copies into the pod
	podRoot := filepath.Join(dir, "prometheus-pod")
	cfg, err := operatorScrapeConfig(e, &sm, ep, podRoot)
	if err != nil {
		return err
	}
	y, _ := yamlv2.Marshal(cfg)
	sr.ScrapeConfig = string(y)
	timeout := 10 * time.Second
	if ep.ScrapeTimeout != "" {
		d, err := model.ParseDuration(ep.ScrapeTimeout)
		if err != nil {
			return fmt.Errorf("scrapeTimeout %q: %w", ep.ScrapeTimeout, err)
		}
		timeout = time.Duration(d)
	}
	targets, err := serviceMonitorTargets(e, &sm, ep)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("ServiceMonitor %s selects no ready endpoint (selector %v in %v)", sr.ServiceMonitor, sm.Spec.Selector.MatchLabels, sm.Spec.NamespaceSelector.MatchNames)
	}
	var fails []string
	for _, url := range targets {
		t, err := scrapeOnce(cfg, url, timeout)
		if err != nil {
			fails = append(fails, fmt.Sprintf("%s: %v", url, err))
			continue
		}
		sr.Targets = append(sr.Targets, *t)
		if t.Status != 200 {
			fails = append(fails, fmt.Sprintf("%s: HTTP %d", url, t.Status))
		} else if t.MetricsServer == 0 {
			fails = append(fails, fmt.Sprintf("%s: no metrics_server_* family among %d", url, t.Families))
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("the scrape with the ServiceMonitor's settings failed: %s", strings.Join(fails, "; "))
	}

	// negative checks on the first target: each changes one thing of the scrape config
	url := targets[0]
	otherCA := filepath.Join(dir, "another-ca.crt")
	must(os.WriteFile(otherCA, anotherCA(), 0o600))
	variant := func(f func(c map[string]any)) map[string]any {
		c := deepCopyMap(cfg)
		f(c)
		return c
	}
	checks := []struct {
		name, want string
		cfg        map[string]any
		judge      func(t *scrapeTarget, err error) bool
	}{
		{"tls_config.ca_file: another CA", "x509.UnknownAuthorityError",
			variant(func(c map[string]any) { c["tls_config"].(map[string]any)["ca_file"] = otherCA }),
			func(t *scrapeTarget, err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) }},
		{"tls_config.server_name: metrics-server.other.svc", "x509.HostnameError",
			variant(func(c map[string]any) { c["tls_config"].(map[string]any)["server_name"] = "metrics-server.other.svc" }),
			func(t *scrapeTarget, err error) bool { var h x509.HostnameError; return errors.As(err, &h) }},
		{"tls_config.server_name: none (the pod IP is verified)", "x509.HostnameError",
			variant(func(c map[string]any) { delete(c["tls_config"].(map[string]any), "server_name") }),
			func(t *scrapeTarget, err error) bool { var h x509.HostnameError; return errors.As(err, &h) }},
		{"no bearer_token_file", "HTTP 401 or 403",
			variant(func(c map[string]any) { delete(c, "bearer_token_file") }),
			func(t *scrapeTarget, err error) bool { return err == nil && (t.Status == 401 || t.Status == 403) }},
	}
	// a token of another ServiceAccount of Prometheus' namespace: authenticated, not authorized
	if f, err := writeToken(e, prometheusNamespace, "default", filepath.Join(dir, "other-sa-token")); err == nil {
		checks = append(checks, struct {
			name, want string
			cfg        map[string]any
			judge      func(t *scrapeTarget, err error) bool
		}{"bearer_token_file: the token of " + prometheusNamespace + "/default", "HTTP 403",
			variant(func(c map[string]any) { c["bearer_token_file"] = f }),
			func(t *scrapeTarget, err error) bool { return err == nil && t.Status == 403 }})
	} else {
		fails = append(fails, "token of "+prometheusNamespace+"/default: "+err.Error())
	}
	for _, c := range checks {
		t, err := scrapeOnce(c.cfg, url, timeout)
		got := ""
		switch {
		case err != nil:
			got = err.Error()
		default:
			got = fmt.Sprintf("HTTP %d", t.Status)
		}
		ok := c.judge(t, err)
		sr.Checks = append(sr.Checks, scrapeCheck{Name: c.name, Want: c.want, Got: got, Pass: ok})
		if !ok {
			fails = append(fails, fmt.Sprintf("%s: want %s, got %s", c.name, c.want, got))
		}
	}

	// the apply path refuses a field the CRD's structural schema does not have (server-side
	// apply: "failed to create typed patch object ...: field not declared in schema")
	bad := deepCopyMap(mons[0])
	path(bad, "spec", "endpoints", 0, "tlsConfig").(obj)["skipVerify"] = true
	badDir := filepath.Join(dir, "unknown-field")
	must(writeManifests(badDir, []obj{bad}))
	out, aerr := e.apply(badDir)
	sr.UnknownFieldRefusal = strings.TrimSpace(firstLine(out))
	if aerr == nil || !strings.Contains(out, ".spec.endpoints[0].tlsConfig.skipVerify: field not declared in schema") {
		fails = append(fails, fmt.Sprintf("a ServiceMonitor with spec.endpoints[0].tlsConfig.skipVerify was not refused as an unknown field: %v %s", aerr, strings.TrimSpace(out)))
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	return nil
}

// operatorScrapeConfig is the HTTP client part of the scrape config the
// Prometheus Operator v0.85.0 generates for ep (pkg/prometheus/promcfg.go:
// addTLStoYaml writes ca_file under /etc/prometheus/certs, server_name,
// insecure_skip_verify when set; bearer_token_file as given), with the
// files the operator and the kubelet put into the Prometheus pod written
// under podRoot.
func operatorScrapeConfig(e *env, sm *serviceMonitor, ep smEndpoint, podRoot string) (map[string]any, error) {
	where := "ServiceMonitor " + sm.Metadata.Namespace + "/" + sm.Metadata.Name + " endpoint 0"
	if ep.Scheme != "https" {
		return nil, fmt.Errorf("%s: scheme %q, not https", where, ep.Scheme)
	}
	if ep.TLSConfig == nil {
		return nil, fmt.Errorf("%s: no tlsConfig", where)
	}
	tc := ep.TLSConfig
	if tc.InsecureSkipVerify != nil && *tc.InsecureSkipVerify {
		return nil, fmt.Errorf("%s: tlsConfig.insecureSkipVerify is true", where)
	}
	if tc.CAFile != "" {
		return nil, fmt.Errorf("%s: tlsConfig.caFile %q names a file of the Prometheus pod, which has none", where, tc.CAFile)
	}
	var caPEM []byte
	var asset string
	switch {
	case tc.CA.ConfigMap != nil:
		cm, err := e.admin.CoreV1().ConfigMaps(sm.Metadata.Namespace).Get(e.ctx, tc.CA.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: tlsConfig.ca.configMap: %w", where, err)
		}
		v, ok := cm.Data[tc.CA.ConfigMap.Key]
		if !ok {
			return nil, fmt.Errorf("%s: tlsConfig.ca.configMap %s has no key %q", where, tc.CA.ConfigMap.Name, tc.CA.ConfigMap.Key)
		}
		caPEM, asset = []byte(v), fmt.Sprintf("configmap_%s_%s_%s", sm.Metadata.Namespace, tc.CA.ConfigMap.Name, tc.CA.ConfigMap.Key)
	case tc.CA.Secret != nil:
		sec, err := e.admin.CoreV1().Secrets(sm.Metadata.Namespace).Get(e.ctx, tc.CA.Secret.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: tlsConfig.ca.secret: %w", where, err)
		}
		v, ok := sec.Data[tc.CA.Secret.Key]
		if !ok {
			return nil, fmt.Errorf("%s: tlsConfig.ca.secret %s has no key %q", where, tc.CA.Secret.Name, tc.CA.Secret.Key)
		}
		caPEM, asset = v, fmt.Sprintf("secret_%s_%s_%s", sm.Metadata.Namespace, tc.CA.Secret.Name, tc.CA.Secret.Key)
	default:
		return nil, fmt.Errorf("%s: tlsConfig has no ca (configMap or secret)", where)
	}
	caFile := filepath.Join(podRoot, "etc", "prometheus", "certs", asset)
	must(os.MkdirAll(filepath.Dir(caFile), 0o700))
	must(os.WriteFile(caFile, caPEM, 0o600))
	tls := map[string]any{"ca_file": caFile}
	if tc.ServerName != "" {
		tls["server_name"] = tc.ServerName
	}
	cfg := map[string]any{"tls_config": tls}
	if ep.FollowRedirects != nil {
		cfg["follow_redirects"] = *ep.FollowRedirects
	}
	if ep.EnableHTTP2 != nil {
		cfg["enable_http2"] = *ep.EnableHTTP2
	}
	if ep.Authorization != nil || ep.BasicAuth != nil || ep.OAuth2 != nil {
		return nil, fmt.Errorf("%s: authorization, basicAuth or oauth2 set; this harness resolves bearerTokenFile only", where)
	}
	if ep.BearerTokenFile != "" {
		// the only token file a Prometheus pod has is its ServiceAccount's, projected by the kubelet
		if ep.BearerTokenFile != podTokenPath {
			return nil, fmt.Errorf("%s: bearerTokenFile %q is not the pod's ServiceAccount token (%s)", where, ep.BearerTokenFile, podTokenPath)
		}
		f, err := writeToken(e, prometheusNamespace, prometheusServiceAccount, filepath.Join(podRoot, filepath.FromSlash(ep.BearerTokenFile)))
		if err != nil {
			return nil, err
		}
		cfg["bearer_token_file"] = f
	}
	return cfg, nil
}

// writeToken writes a TokenRequest token of the ServiceAccount (default
// audience, 10 minutes), as the kubelet projects it into the pod.
func writeToken(e *env, ns, sa, file string) (string, error) {
	exp := int64(600)
	tr, err := e.admin.CoreV1().ServiceAccounts(ns).CreateToken(e.ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("TokenRequest for %s/%s: %w", ns, sa, err)
	}
	must(os.MkdirAll(filepath.Dir(file), 0o700))
	must(os.WriteFile(file, []byte(tr.Status.Token), 0o600))
	return file, nil
}

// serviceMonitorTargets are the scrape URLs Prometheus' Kubernetes service
// discovery gives for ep: every ready address of the EndpointSlices of the
// selected Services, with the port the endpoint names.
func serviceMonitorTargets(e *env, sm *serviceMonitor, ep smEndpoint) ([]string, error) {
	if ep.Port == "" {
		return nil, fmt.Errorf("ServiceMonitor endpoint 0 names no port (targetPort %v is not resolved by this harness)", ep.TargetPort)
	}
	nss := sm.Spec.NamespaceSelector.MatchNames
	if sm.Spec.NamespaceSelector.Any || len(nss) == 0 {
		nss = []string{sm.Metadata.Namespace}
		if sm.Spec.NamespaceSelector.Any {
			return nil, fmt.Errorf("namespaceSelector.any is not resolved by this harness")
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("ServiceMonitor selector: %w", err)
	}
	p := ep.Path
	if p == "" {
		p = "/metrics"
	}
	var urls []string
	err = waitFor(e.ctx, 60*time.Second, func() error {
		urls = nil
		for _, ns := range nss {
			svcs, err := e.admin.CoreV1().Services(ns).List(e.ctx, metav1.ListOptions{LabelSelector: sel.String()})
			if err != nil {
				return err
			}
			for _, svc := range svcs.Items {
				slices, err := e.admin.DiscoveryV1().EndpointSlices(ns).List(e.ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
				if err != nil {
					return err
				}
				for _, sl := range slices.Items {
					for _, port := range sl.Ports {
						if port.Name == nil || *port.Name != ep.Port || port.Port == nil {
							continue
						}
						for _, en := range sl.Endpoints {
							if en.Conditions.Ready != nil && !*en.Conditions.Ready {
								continue
							}
							for _, a := range en.Addresses {
								urls = append(urls, ep.Scheme+"://"+net.JoinHostPort(a, strconv.Itoa(int(*port.Port)))+p)
							}
						}
					}
				}
			}
		}
		if len(urls) == 0 {
			return fmt.Errorf("no ready endpoint with port %q", ep.Port)
		}
		return nil
	})
	sort.Strings(urls)
	return urls, err
}

// scrapeOnce loads cfg as Prometheus loads a scrape config's HTTP client
// settings (strict YAML into config.HTTPClientConfig, whose UnmarshalYAML
// validates), builds the client with NewClientFromConfig and GETs url with
// Prometheus' scrape headers and the scrape timeout.
func scrapeOnce(cfg map[string]any, url string, timeout time.Duration) (*scrapeTarget, error) {
	y, err := yamlv2.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var hc promconfig.HTTPClientConfig
	if err := yamlv2.UnmarshalStrict(y, &hc); err != nil {
		return nil, fmt.Errorf("Prometheus refuses the scrape config: %w", err)
	}
	client, err := promconfig.NewClientFromConfig(hc, "serviceMonitor/metrics-server/0",
		promconfig.WithDialContextFunc((&net.Dialer{Timeout: 5 * time.Second}).DialContext),
		promconfig.WithUserAgent("Prometheus/secure-metrics-server-e2e"))
	if err != nil {
		return nil, fmt.Errorf("NewClientFromConfig: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// what Prometheus' scraper sends (scrape/scrape.go)
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	t := &scrapeTarget{URL: url, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), ScrapeDuration: time.Since(start).Round(time.Millisecond).String()}
	if err != nil {
		return t, err
	}
	if resp.StatusCode != 200 {
		return t, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return t, fmt.Errorf("Prometheus' text parser: %w", err)
	}
	var names, ms []string
	for n := range fams {
		names = append(names, n)
		if strings.HasPrefix(n, "metrics_server_") {
			ms = append(ms, n)
		}
	}
	sort.Strings(ms)
	t.Families, t.MetricsServer = len(names), len(ms)
	if len(ms) > 6 {
		ms = ms[:6]
	}
	t.SomeFamilies = ms
	return t, nil
}

// anotherCA is a fresh self-signed CA certificate (P-256) the serving certificate does not chain to.
func anotherCA() []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func deepCopyMap(m map[string]any) map[string]any {
	b, err := yaml.Marshal(m)
	must(err)
	var out map[string]any
	must(yaml.Unmarshal(b, &out))
	return out
}
