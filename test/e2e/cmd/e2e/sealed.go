package main

// The GitOps outputs of the serving Secret (docs/gitops.md) in the real
// control plane:
//   - gitops-sealed-secret: the sealed-secrets CRD from the controller's own
//     module (helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml) applied
//     with server-side apply; the real controller (cmd/controller of
//     github.com/bitnami-labs/sealed-secrets, test/e2e/sealed-secrets/go.mod)
//     run as a Deployment by the pod runner, making its own sealing key; its
//     certificate fetched from /v1/cert.pem as `kubeseal --fetch-cert` does;
//     the construct's SealedSecret, sealed offline to it, applied; the
//     controller creates the Secret; metrics-server serves with it.
//   - gitops-sealed-secret-scope-refused: the same SealedSecret (strict scope)
//     applied under another name and in another namespace: the controller
//     refuses both (its event text is recorded) and creates no Secret.
//   - gitops-sops-secret: the SOPS-encrypted Secret, first applied as it is
//     (what kube-apiserver says is recorded), then decrypted with the real sops
//     binary and the cluster's age identity, as Flux's kustomize-controller
//     does before it applies (Flux itself is not run), and applied with the rest.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	sealedControllerImage = "docker.io/bitnami/sealed-secrets-controller"
	sealedControllerNS    = "kube-system"
	sealedKeyLabel        = "sealedsecrets.bitnami.com/sealed-secrets-key"
)

func gitopsScenarios() []*scenario {
	return []*scenario{
		{Name: "gitops-sealed-secret", Cost: 34, Cluster: "rsa", Expect: "healthy", NS: "kube-system", Custom: sealedHealthy(nil)},
		// fromPem with secretOutput: the seed's openssl certificate, sealed
		{Name: "gitops-sealed-secret-fromPem", Cost: 34, Cluster: "rsa", Expect: "healthy", NS: "kube-system", Custom: sealedHealthy(func(e *env, dir string) (map[string]string, error) {
			crt, key, err := opensslServingCert(e, filepath.Join(dir, "openssl"), "kube-system")
			return map[string]string{"TLS_CERT": crt, "TLS_KEY": key, "TLS_CA": e.c.path("pki", "ca.crt")}, err
		})},
		{Name: "gitops-sealed-secret-scope-refused", Cost: 9, Cluster: "rsa", Expect: "refused", NS: "kube-system", Custom: sealedScopeRefused},
		{Name: "gitops-sops-secret", Cluster: "rsa", Expect: "healthy", NS: "kube-system", Custom: sopsHealthy},
	}
}

// missingTool gives the reason a tool built by run.sh is absent (its build's
// error, which run.sh records beside it), or "" when it is there.
func missingTool(e *env, name string) string {
	if _, err := os.Stat(filepath.Join(e.bin, name)); err == nil {
		return ""
	}
	if b, err := os.ReadFile(filepath.Join(e.bin, name+".build-error")); err == nil {
		return fmt.Sprintf("%s did not build: %s", name, strings.TrimSpace(string(b)))
	}
	return name + " is not in " + e.bin + " (run test/e2e/run.sh, which builds it)"
}

// synthGitops runs test/e2e/sealed-secrets/app.ts (the cluster CA issues
// into a store of the scenario's own; the Secret in the output form asked).
func synthGitops(e *env, dir string, vars map[string]string) (string, error) {
	out := filepath.Join(dir, "dist")
	envv := append(synthEnv(), "CDK8S_OUTDIR="+out, "PKI_DIR="+filepath.Join(dir, "pki"),
		"CLUSTER_CA_CERT="+e.c.path("pki", "ca.crt"), "CLUSTER_CA_KEY="+e.c.path("pki", "ca.key"))
	for k, v := range vars {
		envv = append(envv, k+"="+v)
	}
	stdout, stderr, code := run(e.ctx, 3*time.Minute, dir, envv, "node", "--require", filepath.Join(e.repo, "node_modules", "tsx", "dist", "cjs", "index.cjs"),
		filepath.Join(e.repo, "test", "e2e", "sealed-secrets", "app.ts"))
	if code != 0 {
		return "", fmt.Errorf("synth test/e2e/sealed-secrets/app.ts: exit %d: %s%s", code, stdout, stderr)
	}
	return out, nil
}

// applySealedCRD server-side applies the CRD shipped in the controller's
// module (run.sh copies it beside the binary) and waits until it is Established.
func applySealedCRD(e *env) error {
	crd := filepath.Join(e.bin, "sealed-secrets-crd.yaml")
	if o, er, code := e.kubectl(time.Minute, "apply", "--server-side", "--field-manager=secure-metrics-server-e2e", "-f", crd); code != 0 {
		return fmt.Errorf("kubectl apply --server-side -f %s: %s%s", crd, o, er)
	}
	if o, er, code := e.kubectl(90*time.Second, "wait", "--for=condition=Established", "--timeout=60s", "crd/sealedsecrets.bitnami.com"); code != 0 {
		return fmt.Errorf("the sealedsecrets.bitnami.com CRD is not Established: %s%s", o, er)
	}
	return nil
}

// sealedControllerObjects are the controller's ServiceAccount, RBAC and
// Deployment as the chart of the same module renders them by default
// (helm/sealed-secrets/templates: cluster-role.yaml, role.yaml, deployment.yaml),
// with the chart's restricted security context.
func sealedControllerObjects(version string) []obj {
	labels := obj{"app.kubernetes.io/name": "sealed-secrets", "app.kubernetes.io/instance": "sealed-secrets-controller"}
	meta := func(name string, namespaced bool) obj {
		m := obj{"name": name, "labels": labels}
		if namespaced {
			m["namespace"] = sealedControllerNS
		}
		return m
	}
	rule := func(groups, resources, verbs []string) obj {
		return obj{"apiGroups": groups, "resources": resources, "verbs": verbs}
	}
	subject := []any{obj{"kind": "ServiceAccount", "name": "sealed-secrets-controller", "namespace": sealedControllerNS}}
	return []obj{
		{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("sealed-secrets-controller", true)},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("secrets-unsealer", false), "rules": []any{
			rule([]string{"bitnami.com"}, []string{"sealedsecrets"}, []string{"get", "list", "watch"}),
			rule([]string{"bitnami.com"}, []string{"sealedsecrets/status"}, []string{"update"}),
			rule([]string{""}, []string{"secrets"}, []string{"get", "list", "create", "update", "delete", "watch"}),
			rule([]string{""}, []string{"events"}, []string{"create", "patch"}),
			rule([]string{""}, []string{"namespaces"}, []string{"get"}),
		}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta("sealed-secrets-controller", false),
			"roleRef": obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secrets-unsealer"}, "subjects": subject},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("sealed-secrets-controller-key-admin", true), "rules": []any{
			rule([]string{""}, []string{"secrets"}, []string{"create", "list"}),
		}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("sealed-secrets-controller-key-admin", true),
			"roleRef": obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "sealed-secrets-controller-key-admin"}, "subjects": subject},
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("sealed-secrets-controller", true), "spec": obj{
			"replicas": 1,
			"selector": obj{"matchLabels": labels},
			"template": obj{"metadata": obj{"labels": labels}, "spec": obj{
				"serviceAccountName": "sealed-secrets-controller",
				"securityContext":    obj{"fsGroup": 65534, "runAsNonRoot": true, "runAsUser": 1001, "seccompProfile": obj{"type": "RuntimeDefault"}},
				"containers": []any{obj{
					"name":  "sealed-secrets-controller",
					"image": sealedControllerImage + ":" + strings.TrimPrefix(version, "v"),
					// the chart's default args (the image's entrypoint is the controller)
					"args":           []any{"--update-status", "--key-prefix", "sealed-secrets-key", "--listen-addr", ":8080", "--listen-metrics-addr", ":8081"},
					"ports":          []any{obj{"name": "http", "containerPort": 8080}, obj{"name": "metrics", "containerPort": 8081}},
					"readinessProbe": obj{"httpGet": obj{"path": "/healthz", "port": "http"}, "periodSeconds": 2},
					"securityContext": obj{"allowPrivilegeEscalation": false, "capabilities": obj{"drop": []any{"ALL"}},
						"readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 1001},
					"volumeMounts": []any{obj{"name": "tmp", "mountPath": "/tmp"}},
				}},
				"volumes": []any{obj{"name": "tmp", "emptyDir": obj{}}},
			}},
		}},
	}
}

// sealedModuleVersion is the sealed-secrets version pinned in test/e2e/sealed-secrets/go.mod.
func sealedModuleVersion(e *env) string {
	b, err := os.ReadFile(filepath.Join(e.repo, "test", "e2e", "sealed-secrets", "go.mod"))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "github.com/bitnami-labs/sealed-secrets" {
			return f[1]
		}
	}
	return "unknown"
}

// startSealedController applies the CRD and the controller, waits until its
// pod is Ready and fetches its certificate as `kubeseal --fetch-cert` does
// (GET /v1/cert.pem). It returns the certificate file and a cleanup.
func startSealedController(e *env, r *result, dir string) (string, func(), error) {
	defer r.begin("sealed-secrets controller up")()
	noop := func() {}
	if why := missingTool(e, "sealed-secrets-controller"); why != "" {
		return "", noop, fmt.Errorf("%s", why)
	}
	if err := applySealedCRD(e); err != nil {
		return "", noop, err
	}
	version := sealedModuleVersion(e)
	cdir := filepath.Join(dir, "sealed-secrets-controller")
	must(os.MkdirAll(cdir, 0o755))
	if err := writeManifests(cdir, sealedControllerObjects(version)); err != nil {
		return "", noop, err
	}
	if out, err := e.apply(cdir); err != nil {
		return "", noop, fmt.Errorf("the controller's manifests: %v: %s", err, out)
	}
	cleanup := func() {
		e.remove(r, cdir)
		_, _, _ = e.kubectl(time.Minute, "-n", sealedControllerNS, "delete", "secret", "-l", sealedKeyLabel, "--ignore-not-found")
	}
	var ip string
	err := waitFor(e.ctx, 2*time.Minute, func() error {
		pods, err := e.admin.CoreV1().Pods(sealedControllerNS).List(e.ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=sealed-secrets"})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.Status.PodIP != "" {
					ip = p.Status.PodIP
					return nil
				}
			}
		}
		return fmt.Errorf("the sealed-secrets controller's pod is not Ready (%d pod(s))", len(pods.Items))
	})
	if err != nil {
		return "", cleanup, fmt.Errorf("%v; events: %v; log: %v", err, e.sim.events(), lastLines(e.containerLogs(sealedControllerNS), 8))
	}
	var certPEM []byte
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	err = waitFor(e.ctx, time.Minute, func() error {
		resp, err := cl.Get("http://" + ip + ":8080/v1/cert.pem")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /v1/cert.pem: %s: %s", resp.Status, b)
		}
		certPEM = b
		return nil
	})
	if err != nil {
		return "", cleanup, fmt.Errorf("the controller's certificate: %v", err)
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return "", cleanup, fmt.Errorf("GET /v1/cert.pem gave no PEM: %q", truncate(string(certPEM), 200))
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", cleanup, fmt.Errorf("GET /v1/cert.pem: %v", err)
	}
	// the key the controller made for itself (kubernetes.io/tls, labelled active)
	keys, err := e.admin.CoreV1().Secrets(sealedControllerNS).List(e.ctx, metav1.ListOptions{LabelSelector: sealedKeyLabel + "=active"})
	if err != nil || len(keys.Items) == 0 {
		return "", cleanup, fmt.Errorf("no Secret labelled %s=active in %s (%v)", sealedKeyLabel, sealedControllerNS, err)
	}
	sum := sha256.Sum256(cert.Raw)
	r.Notes = append(r.Notes, fmt.Sprintf("sealed-secrets controller %s (built from github.com/bitnami-labs/sealed-secrets/cmd/controller %s) made its sealing key Secret %s/%s (type %s); its certificate from GET /v1/cert.pem: CN=%q, RSA %d bits, SHA-256 %x",
		sealedControllerImage, version, sealedControllerNS, keys.Items[0].Name, keys.Items[0].Type, cert.Subject.CommonName, cert.PublicKey.(interface{ Size() int }).Size()*8, sum[:8]))
	file := filepath.Join(dir, "sealed-secrets.pem")
	must(os.WriteFile(file, certPEM, 0o644))
	return file, cleanup, nil
}

// noPlaintextSecret fails when the manifests hold a Secret (the plaintext key).
func noPlaintextSecret(objs []obj) error {
	for _, o := range objs {
		if kindOf(o) == "Secret" {
			if _, ok := o["sops"]; !ok {
				return fmt.Errorf("the manifests hold a plain Secret %s", nameOf(o))
			}
		}
	}
	return nil
}

// synthSealed synthesizes the GitOps app with secretOutput sealed to the
// controller's certificate (vars added, step "synth") and gives the output
// directory, its objects and its one SealedSecret.
func synthSealed(e *env, r *result, dir, certFile string, vars map[string]string) (string, []obj, []obj, error) {
	vars["SECRET_OUTPUT"], vars["CONTROLLER_CERT"] = "sealed", certFile
	done := r.begin("synth")
	out, err := synthGitops(e, dir, vars)
	done()
	if err != nil {
		return "", nil, nil, err
	}
	objs, err := readManifests(out)
	if err != nil {
		return "", nil, nil, err
	}
	sealed := find(objs, "SealedSecret")
	if len(sealed) != 1 {
		return "", nil, nil, fmt.Errorf("want one SealedSecret in the manifests, got %d", len(sealed))
	}
	return out, objs, sealed, nil
}

func sealedHealthy(vars func(e *env, dir string) (map[string]string, error)) func(e *env, s *scenario, r *result, dir string) {
	return func(e *env, s *scenario, r *result, dir string) { sealedHealthyWith(e, s, r, dir, vars) }
}

func sealedHealthyWith(e *env, s *scenario, r *result, dir string, vars func(e *env, dir string) (map[string]string, error)) {
	certFile, cleanup, err := startSealedController(e, r, dir)
	defer cleanup()
	if err != nil {
		r.Outcome, r.Reason = "fail", "the sealed-secrets controller: "+err.Error()
		return
	}
	v := map[string]string{}
	if vars != nil {
		if v, err = vars(e, dir); err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			return
		}
	}
	out, objs, sealed, err := synthSealed(e, r, dir, certFile, v)
	if err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return
	}
	if err := noPlaintextSecret(objs); err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return
	}
	name := nameOf(sealed[0])
	defer e.remove(r, out)
	applied, ok := deploy(e, r, out, objs, "the manifests")
	if !ok {
		return
	}
	r.Notes = append(r.Notes, "kube-apiserver accepted the SealedSecret (bitnami.com/v1alpha1, server-side apply): "+firstLine(grepLine(applied, "sealedsecret")))
	// the controller unseals it into the Secret the Deployment mounts
	var sec *corev1.Secret
	done := r.begin("unsealed")
	err = waitFor(e.ctx, 2*time.Minute, func() error {
		var gerr error
		sec, gerr = e.admin.CoreV1().Secrets(s.NS).Get(e.ctx, name, metav1.GetOptions{})
		return gerr
	})
	done()
	if err != nil {
		r.Outcome, r.Reason = "fail", fmt.Sprintf("the controller did not create Secret %s/%s: %v; SealedSecret events: %v; controller log: %v", s.NS, name, err,
			sealedEvents(e, s.NS, name), lastLines(e.containerLogs(sealedControllerNS), 5))
		return
	}
	owner := ""
	for _, o := range sec.OwnerReferences {
		owner = o.Kind + "/" + o.Name
	}
	if owner != "SealedSecret/"+name || sec.Type != corev1.SecretTypeTLS || len(sec.Data["tls.key"]) == 0 || len(sec.Data["tls.crt"]) == 0 {
		r.Outcome, r.Reason = "fail", fmt.Sprintf("Secret %s/%s: owner %q, type %q, keys %v: not what the controller unseals", s.NS, name, owner, sec.Type, keysOf(sec.Data))
		return
	}
	r.Notes = append(r.Notes, fmt.Sprintf("the controller created Secret %s/%s (type %s, owner %s, keys %v); SealedSecret events: %v", s.NS, name, sec.Type, owner, keysOf(sec.Data), sealedEvents(e, s.NS, name)))
	judgeHealthy(e, s, r)
	r.Doctor = runDoctor(e, s, r, r.Outcome == "pass")
	if r.Outcome == "pass" && r.Doctor.Verdict != "ok" {
		r.Outcome, r.Reason = "fail", "doctor: "+r.Doctor.Verdict
	}
}

func sealedScopeRefused(e *env, s *scenario, r *result, dir string) {
	certFile, cleanup, err := startSealedController(e, r, dir)
	defer cleanup()
	if err != nil {
		r.Outcome, r.Reason = "fail", "the sealed-secrets controller: "+err.Error()
		return
	}
	_, _, sealed, err := synthSealed(e, r, dir, certFile, map[string]string{})
	if err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return
	}
	// the SealedSecret sealed (strict) for kube-system/<name>, put elsewhere
	const otherNS = "sealed-elsewhere"
	orig := nameOf(sealed[0])
	cases := []struct{ ns, name string }{{s.NS, orig + "-copy"}, {otherNS, orig}}
	var copies []obj
	for _, c := range cases {
		b, _ := yaml.Marshal(sealed[0])
		var cp obj
		must(yaml.Unmarshal(b, &cp))
		for _, m := range []obj{meta(cp), path(cp, "spec", "template", "metadata").(obj)} {
			m["name"], m["namespace"] = c.name, c.ns
		}
		copies = append(copies, cp)
	}
	cdir := filepath.Join(dir, "copies")
	if err := writeManifests(cdir, copies); err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return
	}
	applied, err := e.apply(cdir)
	defer func() {
		e.remove(r, cdir)
		_ = e.admin.CoreV1().Namespaces().Delete(e.ctx, otherNS, metav1.DeleteOptions{})
	}()
	if err != nil {
		r.Outcome, r.Reason = "fail", "the real kube-apiserver refused the copies: "+err.Error()
		r.Errors = append(r.Errors, applied)
		return
	}
	for _, c := range cases {
		var text string
		done := r.begin("ErrUnsealFailed " + c.ns + "/" + c.name)
		err := waitFor(e.ctx, 2*time.Minute, func() error {
			for _, ev := range sealedEvents(e, c.ns, c.name) {
				if strings.Contains(ev, "ErrUnsealFailed") {
					text = ev
					return nil
				}
			}
			return fmt.Errorf("no ErrUnsealFailed event yet")
		})
		done()
		if err != nil {
			r.Outcome, r.Reason = "fail", fmt.Sprintf("SealedSecret %s/%s (sealed for %s/%s): %v; events: %v; controller log: %v", c.ns, c.name, s.NS, orig, err, sealedEvents(e, c.ns, c.name), lastLines(e.containerLogs(sealedControllerNS), 5))
			return
		}
		status, _, _ := e.kubectl(30*time.Second, "-n", c.ns, "get", "sealedsecret", c.name, "-o", "jsonpath={.status.conditions[0].type}={.status.conditions[0].status}: {.status.conditions[0].message}")
		r.Errors = append(r.Errors, fmt.Sprintf("SealedSecret %s/%s (sealed strict for %s/%s): event %s; status %s", c.ns, c.name, s.NS, orig, text, status))
		if !strings.Contains(text, "no key could decrypt secret") {
			r.Outcome, r.Reason = "fail", "the controller's refusal does not say 'no key could decrypt secret': "+text
			return
		}
		if _, gerr := e.admin.CoreV1().Secrets(c.ns).Get(e.ctx, c.name, metav1.GetOptions{}); !apierrors.IsNotFound(gerr) {
			r.Outcome, r.Reason = "fail", fmt.Sprintf("Secret %s/%s exists (%v): the controller unsealed a SealedSecret sealed for %s/%s", c.ns, c.name, gerr, s.NS, orig)
			return
		}
	}
	r.Outcome = "pass"
}

// sealedEvents are the events about one SealedSecret ("Type Reason: message").
func sealedEvents(e *env, ns, name string) []string {
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	evs, err := e.admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=SealedSecret,involvedObject.name=" + name})
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, ev := range evs.Items {
		out = append(out, ev.Type+" "+ev.Reason+": "+ev.Message)
	}
	return out
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func grepLine(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(strings.ToLower(l), s) {
			return l
		}
	}
	return ""
}

// splitDocuments gives a YAML file's documents as the text they are written
// in (SOPS's MAC covers the values in the file's order, so the encrypted
// document is handed to sops as written, never re-serialized).
func splitDocuments(b []byte) []string {
	var docs []string
	for _, d := range strings.Split("\n"+string(b), "\n---\n") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, strings.TrimPrefix(d, "\n")+"\n")
		}
	}
	return docs
}

func sopsHealthy(e *env, s *scenario, r *result, dir string) {
	for _, t := range []string{"sops", "age-keygen"} {
		if why := missingTool(e, t); why != "" {
			r.Outcome, r.Reason = "fail", why
			return
		}
	}
	// the cluster's age identity, as the Flux decryption Secret (sops-age) holds it
	idFile := filepath.Join(dir, "age.agekey")
	if o, er, code := run(e.ctx, 30*time.Second, dir, cleanEnv(), filepath.Join(e.bin, "age-keygen"), "-o", idFile); code != 0 {
		r.Outcome, r.Reason = "fail", "age-keygen: "+o+er
		return
	}
	pub, er, code := run(e.ctx, 30*time.Second, dir, cleanEnv(), filepath.Join(e.bin, "age-keygen"), "-y", idFile)
	if code != 0 {
		r.Outcome, r.Reason = "fail", "age-keygen -y: "+er
		return
	}
	out, err := synthGitops(e, dir, map[string]string{"SECRET_OUTPUT": "sops", "AGE_RECIPIENT": strings.TrimSpace(pub)})
	if err != nil {
		r.Outcome, r.Reason = "fail", err.Error()
		return
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.yaml"))
	var encrypted string
	var rest []string
	for _, f := range files {
		for _, d := range splitDocuments(mustRead(f)) {
			var o obj
			if err := yaml.Unmarshal([]byte(d), &o); err != nil {
				r.Outcome, r.Reason = "fail", fmt.Sprintf("%s: %v", f, err)
				return
			}
			if kindOf(o) == "Secret" {
				if _, ok := o["sops"]; !ok {
					r.Outcome, r.Reason = "fail", "the manifests hold a plain Secret "+nameOf(o)
					return
				}
				encrypted = d
				continue
			}
			rest = append(rest, d)
		}
	}
	if encrypted == "" {
		r.Outcome, r.Reason = "fail", "no SOPS-encrypted Secret in the manifests"
		return
	}
	encDir := filepath.Join(dir, "encrypted")
	must(os.MkdirAll(encDir, 0o755))
	encFile := filepath.Join(encDir, "secret.sops.yaml")
	must(os.WriteFile(encFile, []byte(encrypted), 0o644))
	// 1. the encrypted Secret as it is: what kube-apiserver says
	o1, e1, c1 := e.kubectl(time.Minute, "apply", "--server-side", "--field-manager=secure-metrics-server-e2e", "-n", s.NS, "-f", encFile)
	r.Notes = append(r.Notes, fmt.Sprintf("the still-encrypted Secret, server-side applied as it is: exit %d: %s", c1, strings.TrimSpace(o1+e1)))
	if c1 == 0 {
		_, _, _ = e.kubectl(time.Minute, "delete", "--ignore-not-found", "-f", encFile)
		r.Outcome, r.Reason = "fail", "kube-apiserver accepted the still-encrypted Secret (its data are ENC[...] values, not base64)"
		return
	}
	// 1b. without its sops metadata: the ENC[...] values themselves
	var stripped obj
	must(yaml.Unmarshal([]byte(encrypted), &stripped))
	delete(stripped, "sops")
	strippedFile := filepath.Join(encDir, "secret.no-sops-metadata.yaml")
	sb, _ := yaml.Marshal(stripped)
	must(os.WriteFile(strippedFile, sb, 0o644))
	o2, e2, c2 := e.kubectl(time.Minute, "apply", "--server-side", "--field-manager=secure-metrics-server-e2e", "-n", s.NS, "-f", strippedFile)
	r.Notes = append(r.Notes, fmt.Sprintf("the same without its sops metadata (data still ENC[...]): exit %d: %s", c2, strings.TrimSpace(o2+e2)))
	if c2 == 0 {
		_, _, _ = e.kubectl(time.Minute, "delete", "--ignore-not-found", "-f", strippedFile)
		r.Outcome, r.Reason = "fail", "kube-apiserver accepted a Secret whose data are ENC[...] values"
		return
	}
	// 2. what Flux's kustomize-controller does (decryption.provider: sops): decrypt with the
	// cluster's age identity, then apply; here with the real sops binary
	dec, derr, dcode := run(e.ctx, time.Minute, dir, append(cleanEnv(), "SOPS_AGE_KEY_FILE="+idFile), filepath.Join(e.bin, "sops"),
		"--decrypt", "--input-type", "yaml", "--output-type", "yaml", encFile)
	if dcode != 0 {
		r.Outcome, r.Reason = "fail", "sops --decrypt: "+strings.TrimSpace(derr)
		return
	}
	var plain obj
	if err := yaml.Unmarshal([]byte(dec), &plain); err != nil || kindOf(plain) != "Secret" || plain["sops"] != nil {
		r.Outcome, r.Reason = "fail", fmt.Sprintf("sops --decrypt gave no plain Secret (%v)", err)
		return
	}
	keyB64, _ := path(plain, "data", "tls.key").(string)
	if kb, err := base64.StdEncoding.DecodeString(keyB64); err != nil || !bytes.Contains(kb, []byte("PRIVATE KEY")) {
		r.Outcome, r.Reason = "fail", "the decrypted Secret's tls.key is not a base64 PEM key"
		return
	}
	r.Notes = append(r.Notes, "real sops --decrypt with the cluster's age identity opened the Secret (Flux's kustomize-controller was not run: this is the step it performs before applying)")
	applyDir := filepath.Join(dir, "decrypted")
	must(os.MkdirAll(applyDir, 0o700))
	must(os.WriteFile(filepath.Join(applyDir, "manifests.yaml"), []byte("---\n"+strings.Join(rest, "---\n")+"---\n"+dec), 0o600))
	objs, _ := readManifests(applyDir)
	defer e.remove(r, applyDir)
	if _, ok := deploy(e, r, applyDir, objs, "the decrypted manifests"); !ok {
		return
	}
	judgeHealthy(e, s, r)
	r.Doctor = runDoctor(e, s, r, r.Outcome == "pass")
	if r.Outcome == "pass" && r.Doctor.Verdict != "ok" {
		r.Outcome, r.Reason = "fail", "doctor: "+r.Doctor.Verdict
	}
}
