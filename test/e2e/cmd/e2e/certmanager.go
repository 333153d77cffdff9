package main

// example-cert-manager: cert-manager's own control loops issue the serving
// certificate and its CA injector fills the APIService's caBundle.
//
// The binaries are built by run.sh from test/e2e/cert-manager (module
// github.com/cert-manager/cert-manager v1.21.1): bin/cert-manager-controller
// and bin/cert-manager-cainjector, whose mains are the harness's own (see
// their package comments: upstream's cmd/ modules are not on the Go module
// proxy). run.sh copies the module's deploy/crds/ to bin/cert-manager-crds/,
// so the CRDs are those of the very version the binaries are built from.
//
// As a cluster admin would before applying examples/cert-manager, the harness
// creates the ClusterIssuer the example names (cluster-ca): a CA issuer whose
// key pair is this control plane's cluster CA, in the Secret cluster-ca of the
// cluster resource namespace (cert-manager).

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	cmNamespace   = "cert-manager" // --cluster-resource-namespace
	cmIssuer      = "cluster-ca"   // the ClusterIssuer examples/cert-manager names
	cmIssuerCA    = "cluster-ca"   // its Secret in cmNamespace
	cmWaitIssuer  = "90s"
	cmWaitCertify = "150s"
)

// certManager is one run of cert-manager's controller and cainjector.
type certManager struct {
	procs []*exec.Cmd
	logs  map[string]string
}

func (cm *certManager) start(e *env, dir, name, bin string, args ...string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s is not built (run.sh builds it from test/e2e/cert-manager): %w", bin, err)
	}
	log := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	cm.procs = append(cm.procs, cmd)
	cm.logs[name] = log
	return nil
}

func (cm *certManager) stop() {
	stopProcs(cm.procs)
	cm.procs = nil
}

// tails is the last lines of each process's log, for a failure's record.
func (cm *certManager) tails(n int) []string {
	var out []string
	for _, name := range []string{"cert-manager-controller", "cert-manager-cainjector"} {
		if f, ok := cm.logs[name]; ok {
			for _, l := range lastLines(tail(f, n), n) {
				out = append(out, name+": "+truncate(l, 600))
			}
		}
	}
	return out
}

// startCertManager applies the CRDs, creates the CA ClusterIssuer and starts
// the two processes, and waits (bounded) until the ClusterIssuer is Ready.
func startCertManager(e *env, dir string) (*certManager, error) {
	cm := &certManager{logs: map[string]string{}}
	crds := filepath.Join(e.bin, "cert-manager-crds")
	if _, err := os.Stat(crds); err != nil {
		return cm, fmt.Errorf("cert-manager's CRDs are not in %s (run.sh copies them from the module's deploy/crds/): %w", crds, err)
	}
	if o, er, code := e.kubectl(2*time.Minute, "apply", "--server-side", "--field-manager=secure-metrics-server-e2e", "-f", crds); code != 0 {
		return cm, fmt.Errorf("kubectl apply cert-manager CRDs: %s%s", o, er)
	}
	if o, er, code := e.kubectl(time.Minute, "wait", "--for=condition=Established", "--timeout=60s", "-f", crds); code != 0 {
		return cm, fmt.Errorf("cert-manager CRDs not Established: %s%s", o, er)
	}
	if err := e.ensureNamespace(cmNamespace); err != nil {
		return cm, err
	}
	crt, err := os.ReadFile(e.c.path("pki", "ca.crt"))
	if err != nil {
		return cm, err
	}
	key, err := os.ReadFile(e.c.path("pki", "ca.key"))
	if err != nil {
		return cm, err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: cmIssuerCA, Namespace: cmNamespace}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
	if _, err := e.admin.CoreV1().Secrets(cmNamespace).Create(e.ctx, sec, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return cm, fmt.Errorf("secret %s/%s: %w", cmNamespace, cmIssuerCA, err)
	}
	issuer := filepath.Join(dir, "cluster-issuer.yaml")
	must(os.WriteFile(issuer, []byte(fmt.Sprintf("apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: %s\nspec:\n  ca:\n    secretName: %s\n", cmIssuer, cmIssuerCA)), 0o644))
	if o, er, code := e.kubectl(time.Minute, "apply", "--server-side", "--field-manager=secure-metrics-server-e2e", "-f", issuer); code != 0 {
		return cm, fmt.Errorf("kubectl apply ClusterIssuer %s: %s%s", cmIssuer, o, er)
	}
	// the admin kubeconfig (cert-manager's RBAC lives in its Helm chart's
	// templates); no leader election: one replica of each
	if err := cm.start(e, dir, "cert-manager-controller", filepath.Join(e.bin, "cert-manager-controller"),
		"--kubeconfig="+e.c.admin, "--cluster-resource-namespace="+cmNamespace, "--v=2"); err != nil {
		return cm, err
	}
	if err := cm.start(e, dir, "cert-manager-cainjector", filepath.Join(e.bin, "cert-manager-cainjector"),
		"--kubeconfig="+e.c.admin, "--v=2"); err != nil {
		return cm, err
	}
	if o, er, code := e.kubectl(2*time.Minute, "wait", "--for=condition=Ready", "--timeout="+cmWaitIssuer, "clusterissuer/"+cmIssuer); code != 0 {
		return cm, fmt.Errorf("ClusterIssuer %s not Ready: %s%s", cmIssuer, strings.TrimSpace(o), strings.TrimSpace(er))
	}
	return cm, nil
}

// cleanup removes what startCertManager made; the CRDs go last (with them
// any Certificate or CertificateRequest left).
func (cm *certManager) cleanup(e *env, secrets []string) {
	cm.stop()
	for _, s := range secrets {
		_ = e.admin.CoreV1().Secrets("kube-system").Delete(e.ctx, s, metav1.DeleteOptions{})
	}
	_, _, _ = e.kubectl(time.Minute, "delete", "--ignore-not-found", "clusterissuer", cmIssuer)
	_ = e.admin.CoreV1().Namespaces().Delete(e.ctx, cmNamespace, metav1.DeleteOptions{})
	_, _, _ = e.kubectl(2*time.Minute, "delete", "--ignore-not-found", "--wait=true", "--timeout=90s", "-f", filepath.Join(e.bin, "cert-manager-crds"))
}

// certManagerScenario runs examples/cert-manager with cert-manager running:
// the synthesized APIService carries no caBundle, so Available=True and
// kubectl top prove that cainjector injected one and that the Secret
// cert-manager issued serves; the Secret's and the APIService's contents are
// checked against each other and recorded.
func certManagerScenario(s *scenario) *scenario {
	synth := s.Synth
	s.Synth = nil
	s.Custom = func(e *env, s *scenario, r *result, dir string) {
		started := time.Now()
		cm, err := startCertManager(e, dir)
		var secrets []string
		defer func() { cm.cleanup(e, secrets) }()
		if err != nil {
			r.Outcome, r.Reason = "fail", "cert-manager: "+err.Error()
			r.Errors = append(r.Errors, cm.tails(5)...)
			return
		}
		r.Notes = append(r.Notes, fmt.Sprintf("cert-manager v1.21.1 controller and cainjector up, ClusterIssuer %s Ready, in %.1f s", cmIssuer, time.Since(started).Seconds()))
		manifests, err := synth(e, s, dir)
		if err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			return
		}
		objs, err := readManifests(manifests)
		if err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			return
		}
		var certNS, certName, secretName string
		for _, c := range find(objs, "Certificate") {
			certNS, certName = nsOf(c), nameOf(c)
			secretName, _ = path(c, "spec", "secretName").(string)
		}
		if certName == "" || secretName == "" {
			r.Outcome, r.Reason = "fail", "the synthesized manifests hold no cert-manager Certificate with a secretName"
			return
		}
		secrets = append(secrets, secretName)
		for _, a := range find(objs, "APIService") {
			if b, _ := path(a, "spec", "caBundle").(string); b != "" {
				r.Outcome, r.Reason = "fail", "the synthesized APIService already carries a caBundle: the scenario would not show cainjector's injection"
				return
			}
		}
		defer e.remove(r, manifests)
		if _, ok := deploy(e, r, manifests, objs, "the manifests"); !ok {
			return
		}
		issued := time.Now()
		done := r.begin("Certificate Ready")
		o, er, code := e.kubectl(3*time.Minute, "-n", certNS, "wait", "--for=condition=Ready", "--timeout="+cmWaitCertify, "certificate/"+certName)
		done()
		if code != 0 {
			cond, _, _ := e.kubectl(time.Minute, "-n", certNS, "get", "certificate", certName, "-o", "jsonpath={.status.conditions}")
			r.Outcome, r.Reason = "fail", fmt.Sprintf("Certificate %s/%s not Ready: %s%s (conditions %s)", certNS, certName, strings.TrimSpace(o), strings.TrimSpace(er), cond)
			r.Errors = append(r.Errors, cm.tails(8)...)
			return
		}
		r.Notes = append(r.Notes, fmt.Sprintf("Certificate %s/%s Ready %.1f s after apply", certNS, certName, time.Since(issued).Seconds()))
		judgeHealthy(e, s, r)
		if r.Outcome != "pass" {
			r.Errors = append(r.Errors, cm.tails(5)...)
		} else if err := checkCertManagerIssued(e, r, certNS, certName, secretName); err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			r.Errors = append(r.Errors, cm.tails(5)...)
		}
		if len(r.Insecure) > 0 && r.Outcome == "pass" {
			r.Outcome, r.Reason = "fail", "insecure settings on the command line: "+strings.Join(r.Insecure, ", ")
		}
		r.Doctor = runDoctor(e, s, r, r.Outcome == "pass")
		if r.Outcome == "pass" && r.Doctor.Verdict != "ok" {
			r.Outcome, r.Reason = "fail", "doctor: "+r.Doctor.Verdict
		}
	}
	return s
}

// checkCertManagerIssued checks that the Secret metrics-server serves from is
// cert-manager's (its annotations), that its certificate verifies against the
// caBundle the APIService now carries for the Service's name, and that this
// caBundle is the Secret's ca.crt (what cainjector injects).
func checkCertManagerIssued(e *env, r *result, ns, cert, secret string) error {
	sec, err := e.admin.CoreV1().Secrets(ns).Get(e.ctx, secret, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("secret %s/%s: %w", ns, secret, err)
	}
	if got := sec.Annotations["cert-manager.io/certificate-name"]; got != cert {
		return fmt.Errorf("secret %s/%s: annotation cert-manager.io/certificate-name is %q, want %q (not issued by cert-manager)", ns, secret, got, cert)
	}
	raw, err := e.admin.Discovery().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").DoRaw(e.ctx)
	if err != nil {
		return fmt.Errorf("APIService v1beta1.metrics.k8s.io: %w", err)
	}
	var a struct {
		Spec struct {
			CABundle []byte `json:"caBundle"`
			Service  struct{ Name, Namespace string }
		}
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("APIService v1beta1.metrics.k8s.io: %w", err)
	}
	if len(a.Spec.CABundle) == 0 {
		return fmt.Errorf("APIService v1beta1.metrics.k8s.io has no caBundle: cainjector did not inject it")
	}
	if string(a.Spec.CABundle) != string(sec.Data["ca.crt"]) {
		return fmt.Errorf("APIService caBundle (sha256 %x) is not the Secret's ca.crt (sha256 %x)", sha256.Sum256(a.Spec.CABundle), sha256.Sum256(sec.Data["ca.crt"]))
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(a.Spec.CABundle) {
		return fmt.Errorf("APIService caBundle holds no PEM certificate")
	}
	b, _ := pem.Decode(sec.Data[corev1.TLSCertKey])
	if b == nil {
		return fmt.Errorf("secret %s/%s: tls.crt holds no PEM certificate", ns, secret)
	}
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return fmt.Errorf("secret %s/%s tls.crt: %w", ns, secret, err)
	}
	name := a.Spec.Service.Name + "." + a.Spec.Service.Namespace + ".svc"
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("the certificate cert-manager issued does not verify against the injected caBundle for %s: %w", name, err)
	}
	r.Notes = append(r.Notes,
		fmt.Sprintf("Secret %s/%s issued by cert-manager (issuer %s %s): serial %s, subject %q, issuer %q, notAfter %s",
			ns, secret, sec.Annotations["cert-manager.io/issuer-kind"], sec.Annotations["cert-manager.io/issuer-name"],
			leaf.SerialNumber.Text(16), leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339)),
		fmt.Sprintf("APIService caBundle injected by cainjector: the Secret's ca.crt (sha256 %x), verifies the serving certificate for %s", sha256.Sum256(a.Spec.CABundle), name))
	return nil
}
