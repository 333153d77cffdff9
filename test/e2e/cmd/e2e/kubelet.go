package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// fakeKubelet is a kubelet's serving side only: an HTTPS server on the node's
// InternalIP that serves /metrics/resource in the kubelet's Prometheus text
// format (authenticated and authorized as the kubelet does it, with
// TokenReview and SubjectAccessReview), and /containerLogs for the processes
// the runner starts on it. Its identity is a client certificate for
// system:node:<name> (group system:nodes), so the Node authorizer and
// NodeRestriction judge what it does; its serving certificate comes through a
// kubernetes.io/kubelet-serving CSR signed by the real kube-controller-manager.
type fakeKubelet struct {
	name    string
	ip      string
	port    int
	client  *kubernetes.Clientset
	c       *cluster
	cert    atomic.Pointer[tls.Certificate]
	started time.Time
	srv     *http.Server
	authz   sync.Map // token -> time allowed until
	logs    func(ns, pod, container string) string
	csrName string
}

func newFakeKubelet(c *cluster, name, ip string, port int, logs func(ns, pod, container string) string) (*fakeKubelet, error) {
	kp := issue(certSpec{CN: "system:node:" + name, Org: []string{"system:nodes"}, Client: true, Algo: c.caAlgo}, c.ca)
	kc := c.writeKubeconfig("node-"+name, kp)
	cl, err := clientFor(kc)
	if err != nil {
		return nil, err
	}
	return &fakeKubelet{name: name, ip: ip, port: port, client: cl, c: c, started: time.Now(), logs: logs}, nil
}

// register creates the Node object as a kubelet does (as the node itself).
func (k *fakeKubelet) register(ctx context.Context) error {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: k.name, Labels: map[string]string{
			"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": k.name,
			"topology.kubernetes.io/zone": "zone-" + k.name,
		}},
	}
	created, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("node %s: create Node: %w", k.name, err)
	}
	if err != nil {
		created, err = k.client.CoreV1().Nodes().Get(ctx, k.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
	}
	_ = created
	// the status, retried on conflicts (the node controllers write the Node too)
	err = waitFor(ctx, 30*time.Second, func() error {
		cur, err := k.client.CoreV1().Nodes().Get(ctx, k.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status = corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: k.ip}, {Type: corev1.NodeHostName, Address: k.name}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.port)}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: k.c.gitVersion, OperatingSystem: "linux", Architecture: "amd64",
				ContainerRuntimeVersion: "e2e://fake", OSImage: "e2e fake kubelet"},
		}
		_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s: update status: %w", k.name, err)
	}
	go k.heartbeat(ctx)
	return nil
}

// heartbeat renews the node's Lease (kube-node-lease) every 10 s, so the node
// lifecycle controller keeps the node Ready.
func (k *fakeKubelet) heartbeat(ctx context.Context) {
	dur := int32(40)
	for {
		now := metav1.NewMicroTime(time.Now())
		leases := k.client.CoordinationV1().Leases("kube-node-lease")
		l, err := leases.Get(ctx, k.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, _ = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: k.name},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &k.name, LeaseDurationSeconds: &dur, RenewTime: &now}}, metav1.CreateOptions{})
		} else if err == nil {
			l.Spec.RenewTime = &now
			_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// requestServingCert sends a kubernetes.io/kubelet-serving CSR as the kubelet
// does with serverTLSBootstrap (ECDSA P-256 key; SANs: its host name and IP).
func (k *fakeKubelet) requestServingCert(ctx context.Context, dns []string, ips []net.IP) (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "system:node:" + k.name, Organization: []string{"system:nodes"}},
		DNSNames: dns, IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, "", err
	}
	csr, err := k.client.CertificatesV1().CertificateSigningRequests().Create(ctx, &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "csr-"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certificatesv1.KubeletServingSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("node %s: create CSR: %w", k.name, err)
	}
	k.csrName = csr.Name
	return key, csr.Name, nil
}

// waitServingCert waits for kube-controller-manager to sign the approved CSR
// and serves the issued certificate.
func (k *fakeKubelet) waitServingCert(ctx context.Context, key *ecdsa.PrivateKey, name string) error {
	var issued []byte
	err := waitFor(ctx, 90*time.Second, func() error {
		csr, err := k.client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range csr.Status.Conditions {
			if cond.Type == certificatesv1.CertificateDenied || cond.Type == certificatesv1.CertificateFailed {
				return fmt.Errorf("CSR %s %s: %s", name, cond.Type, cond.Message)
			}
		}
		if len(csr.Status.Certificate) == 0 {
			return fmt.Errorf("CSR %s has no certificate yet", name)
		}
		issued = csr.Status.Certificate
		return nil
	})
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(issued, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		return err
	}
	k.cert.Store(&cert)
	return nil
}

// useSelfSigned serves a self-signed certificate, as a kubelet does without
// serverTLSBootstrap (a throwaway "<host>-ca@<time>" CA signing "<host>@<time>").
func (k *fakeKubelet) useSelfSigned() {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	ca := issue(certSpec{CN: k.name + "-ca@" + ts, CA: true, Algo: "rsa"}, nil)
	leaf := issue(certSpec{CN: k.name + "@" + ts, Server: true, Algo: "rsa", DNS: []string{k.name}, IPs: []net.IP{net.ParseIP(k.ip)}}, ca)
	cert, err := tls.X509KeyPair(append(leaf.CertPEM, ca.CertPEM...), leaf.KeyPEM)
	must(err)
	k.cert.Store(&cert)
}

func (k *fakeKubelet) serve() error {
	pool := x509.NewCertPool()
	pool.AddCert(k.c.ca.Cert)
	ln, err := net.Listen("tcp", net.JoinHostPort(k.ip, strconv.Itoa(k.port)))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics/resource", k.metricsResource)
	mux.HandleFunc("/containerLogs/", k.containerLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	k.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil, TLSConfig: &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := k.cert.Load(); c != nil {
				return c, nil
			}
			return nil, fmt.Errorf("no serving certificate yet")
		},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool,
	}}
	go func() { _ = k.srv.ServeTLS(ln, "", "") }()
	return nil
}

// authorize does what the kubelet's webhook authentication and authorization
// do: TokenReview the bearer token, then SubjectAccessReview get nodes/metrics.
func (k *fakeKubelet) authorize(ctx context.Context, r *http.Request, subresource string) (int, string) {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			return 0, "" // a client certificate of the cluster CA (kube-apiserver)
		}
		return http.StatusUnauthorized, "Unauthorized"
	}
	token := strings.TrimPrefix(h, "Bearer ")
	cacheKey := subresource + "/" + token
	if until, ok := k.authz.Load(cacheKey); ok && time.Now().Before(until.(time.Time)) {
		return 0, ""
	}
	tr, err := k.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil || !tr.Status.Authenticated {
		return http.StatusUnauthorized, "Unauthorized"
	}
	extra := map[string]authorizationv1.ExtraValue{}
	for key, v := range tr.Status.User.Extra {
		extra[key] = authorizationv1.ExtraValue(v)
	}
	sar, err := k.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: tr.Status.User.Username, Groups: tr.Status.User.Groups, UID: tr.Status.User.UID, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: subresource, Name: k.name},
	}}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	if !sar.Status.Allowed {
		return http.StatusForbidden, fmt.Sprintf("Forbidden (user=%s, verb=get, resource=nodes, subresource=%s)", tr.Status.User.Username, subresource)
	}
	k.authz.Store(cacheKey, time.Now().Add(time.Minute))
	return 0, ""
}

// metricsResource serves the kubelet's /metrics/resource: node, pod and
// container CPU (cumulative core-seconds, rising) and working-set memory,
// for the pods bound to this node.
func (k *fakeKubelet) metricsResource(w http.ResponseWriter, r *http.Request) {
	if code, msg := k.authorize(r.Context(), r, "metrics"); code != 0 {
		http.Error(w, msg, code)
		return
	}
	now := time.Now()
	ts := now.UnixMilli()
	up := now.Sub(k.started).Seconds() + 100
	pods, err := k.client.CoreV1().Pods("").List(r.Context(), metav1.ListOptions{FieldSelector: "spec.nodeName=" + k.name})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	type cm struct {
		ns, pod, ctr string
		start        time.Time
	}
	var ctrs []cm
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running != nil {
				ctrs = append(ctrs, cm{p.Namespace, p.Name, cs.Name, cs.State.Running.StartedAt.Time})
			}
		}
	}
	cpu := func(c cm) float64 { return 0.004 * now.Sub(c.start).Seconds() }
	mem := func(c cm) float64 { return float64(24<<20 + (ts/1000)%7*4096) }
	b.WriteString("# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n")
	for _, c := range ctrs {
		fmt.Fprintf(&b, "container_cpu_usage_seconds_total{container=%q,namespace=%q,pod=%q} %g %d\n", c.ctr, c.ns, c.pod, cpu(c), ts)
	}
	b.WriteString("# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes\n# TYPE container_memory_working_set_bytes gauge\n")
	for _, c := range ctrs {
		fmt.Fprintf(&b, "container_memory_working_set_bytes{container=%q,namespace=%q,pod=%q} %g %d\n", c.ctr, c.ns, c.pod, mem(c), ts)
	}
	b.WriteString("# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds\n# TYPE container_start_time_seconds gauge\n")
	for _, c := range ctrs {
		fmt.Fprintf(&b, "container_start_time_seconds{container=%q,namespace=%q,pod=%q} %g %d\n", c.ctr, c.ns, c.pod, float64(c.start.UnixNano())/1e9, ts)
	}
	fmt.Fprintf(&b, "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter\nnode_cpu_usage_seconds_total %g %d\n", 0.25*up, ts)
	fmt.Fprintf(&b, "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes\n# TYPE node_memory_working_set_bytes gauge\nnode_memory_working_set_bytes %g %d\n", float64(int64(1536)<<20+(ts/1000)%13*(1<<20)), ts)
	b.WriteString("# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds\n# TYPE pod_cpu_usage_seconds_total counter\n")
	for _, c := range ctrs {
		fmt.Fprintf(&b, "pod_cpu_usage_seconds_total{namespace=%q,pod=%q} %g %d\n", c.ns, c.pod, cpu(c), ts)
	}
	b.WriteString("# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes\n# TYPE pod_memory_working_set_bytes gauge\n")
	for _, c := range ctrs {
		fmt.Fprintf(&b, "pod_memory_working_set_bytes{namespace=%q,pod=%q} %g %d\n", c.ns, c.pod, mem(c), ts)
	}
	b.WriteString("# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\nresource_scrape_error 0\n")
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

// containerLogs serves /containerLogs/<ns>/<pod>/<container>?tailLines=N from
// the log file of the process the runner started for that container.
func (k *fakeKubelet) containerLogs(w http.ResponseWriter, r *http.Request) {
	if code, msg := k.authorize(r.Context(), r, "proxy"); code != 0 {
		http.Error(w, msg, code)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 || k.logs == nil {
		http.NotFound(w, r)
		return
	}
	file := k.logs(parts[0], parts[1], parts[2])
	b, err := os.ReadFile(file)
	if file == "" || err != nil {
		// the kubelet's answer for a container that has not started (validateContainerLogStatus)
		reason := "ContainerCreating"
		if pod, perr := k.client.CoreV1().Pods(parts[0]).Get(r.Context(), parts[1], metav1.GetOptions{}); perr == nil {
			for _, cs := range pod.Status.ContainerStatuses {
				if cs.Name == parts[2] && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
					reason = cs.State.Waiting.Reason
				}
			}
		}
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", parts[2], parts[1], reason), http.StatusBadRequest)
		return
	}
	text := string(b)
	if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n >= 0 {
		lines := strings.SplitAfter(text, "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		text = strings.Join(lines, "")
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, text)
}
