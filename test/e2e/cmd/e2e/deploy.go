package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// env is one worker's cluster and the tools that act on it.
type env struct {
	ctx      context.Context
	c        *cluster
	admin    *kubernetes.Clientset
	sim      *podSim
	kubelets []*fakeKubelet
	repo     string
	work     string
	bin      string
}

type obj = map[string]any

func readManifests(dir string) ([]obj, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []obj
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			var o obj
			if err := d.Decode(&o); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if o != nil {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func writeManifests(dir string, objs []obj) error {
	must(os.MkdirAll(dir, 0o755))
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return os.WriteFile(filepath.Join(dir, "manifests.yaml"), b.Bytes(), 0o600)
}

func kindOf(o obj) string { s, _ := o["kind"].(string); return s }

func meta(o obj) obj { m, _ := o["metadata"].(obj); return m }

func nameOf(o obj) string { s, _ := meta(o)["name"].(string); return s }

func nsOf(o obj) string { s, _ := meta(o)["namespace"].(string); return s }

func find(objs []obj, kind string) []obj {
	var out []obj
	for _, o := range objs {
		if kindOf(o) == kind {
			out = append(out, o)
		}
	}
	return out
}

// path walks nested maps and lists ("spec", "template", 0, ...).
func path(o any, keys ...any) any {
	for _, k := range keys {
		switch kk := k.(type) {
		case string:
			m, ok := o.(obj)
			if !ok {
				return nil
			}
			o = m[kk]
		case int:
			l, ok := o.([]any)
			if !ok || kk >= len(l) {
				return nil
			}
			o = l[kk]
		}
	}
	return o
}

// metricsServerDeployment is the Deployment that runs metrics-server.
func metricsServerDeployment(objs []obj) obj {
	for _, d := range find(objs, "Deployment") {
		img, _ := path(d, "spec", "template", "spec", "containers", 0, "image").(string)
		if strings.Contains(img, "metrics-server") {
			return d
		}
	}
	return nil
}

func containerArgs(d obj) []string {
	var out []string
	l, _ := path(d, "spec", "template", "spec", "containers", 0, "args").([]any)
	for _, a := range l {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// ensureNamespace creates the namespace labelled for the restricted Pod
// Security Standard, or labels it when it exists.
func (e *env) ensureNamespace(ns string) error {
	labels := map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}
	cur, err := e.admin.CoreV1().Namespaces().Get(e.ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = e.admin.CoreV1().Namespaces().Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	for k, v := range labels {
		cur.Labels[k] = v
	}
	_, err = e.admin.CoreV1().Namespaces().Update(e.ctx, cur, metav1.UpdateOptions{})
	return err
}

func (e *env) kubectl(timeout time.Duration, args ...string) (string, string, int) {
	return run(e.ctx, timeout, e.work, cleanEnv(), filepath.Join(e.bin, "kubectl"), append([]string{"--kubeconfig=" + e.c.admin}, args...)...)
}

// apply server-side applies every object of dir, after labelling every
// namespace the objects live in for the restricted Pod Security Standard.
func (e *env) apply(dir string) (string, error) {
	objs, err := readManifests(dir)
	if err != nil {
		return "", err
	}
	nss := map[string]bool{}
	for _, o := range objs {
		if kindOf(o) == "Namespace" {
			nss[nameOf(o)] = true
		} else if ns := nsOf(o); ns != "" {
			nss[ns] = true
		}
	}
	for ns := range nss {
		if err := e.ensureNamespace(ns); err != nil {
			return "", fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	out, errOut, code := e.kubectl(2*time.Minute, "apply", "--server-side", "--validate=strict", "--field-manager=secure-metrics-server-e2e", "--force-conflicts", "-f", dir)
	if code != 0 {
		return out + errOut, fmt.Errorf("kubectl apply --server-side: exit %d: %s", code, strings.TrimSpace(errOut))
	}
	return out, nil
}

// remove deletes what apply applied, its dependents first (foreground
// cascade: the Secret a SealedSecret owns is gone before the next scenario
// applies one of the same name), and waits for the pods of its Deployments
// to be gone, as the step "remove" of r; what went wrong goes in
// r's notes.
func (e *env) remove(r *result, dir string) {
	defer r.begin("remove")()
	var problems []string
	// the pods of dir's Deployments (namespace and selector), not those of others
	type selector struct {
		ns     string
		labels map[string]string
	}
	var owned []selector
	if objs, err := readManifests(dir); err == nil {
		for _, d := range find(objs, "Deployment") {
			m := map[string]string{}
			if ml, ok := path(d, "spec", "selector", "matchLabels").(obj); ok {
				for k, v := range ml {
					m[k] = fmt.Sprint(v)
				}
			}
			owned = append(owned, selector{nsOf(d), m})
		}
	}
	ours := func(sp *simPod) bool {
		for _, o := range owned {
			if sp.pod.Namespace != o.ns {
				continue
			}
			match := true
			for k, v := range o.labels {
				if sp.pod.Labels[k] != v {
					match = false
				}
			}
			if match {
				return true
			}
		}
		return false
	}
	if out, errOut, code := e.kubectl(2*time.Minute, "delete", "--ignore-not-found", "--cascade=foreground", "--wait=true", "--timeout=90s", "-f", dir); code != 0 {
		problems = append(problems, fmt.Sprintf("kubectl delete -f %s: exit %d: %s", filepath.Base(dir), code, truncate(strings.TrimSpace(out+errOut), 400)))
	}
	if err := waitFor(e.ctx, 90*time.Second, func() error {
		var still []string
		for _, sp := range e.sim.running() {
			if ours(sp) {
				still = append(still, sp.pod.Namespace+"/"+sp.pod.Name)
			}
		}
		if len(still) > 0 {
			return fmt.Errorf("pod(s) %v still run", still)
		}
		return nil
	}); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		p := strings.Join(problems, "; ")
		r.Notes = append(r.Notes, "remove: "+p)
		logf("remove %s: %s", dir, p)
	}
}

type apiServiceState struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
}

func (e *env) apiService() apiServiceState {
	raw, err := e.admin.Discovery().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").DoRaw(e.ctx)
	if err != nil {
		return apiServiceState{Reason: "Error", Message: err.Error()}
	}
	var a struct {
		Status struct {
			Conditions []struct{ Type, Status, Reason, Message string }
		}
	}
	_ = json.Unmarshal(raw, &a)
	for _, c := range a.Status.Conditions {
		if c.Type == "Available" {
			return apiServiceState{Available: c.Status == "True", Reason: c.Reason, Message: c.Message}
		}
	}
	return apiServiceState{Reason: "NoCondition"}
}

// top runs kubectl top (kubectl built from the same Kubernetes version).
func (e *env) top(args ...string) (string, string, int) {
	return e.kubectl(60*time.Second, append([]string{"top"}, args...)...)
}

// waitTop retries kubectl top until it prints usage or the bound passes.
func (e *env) waitTop(d time.Duration, args ...string) (string, string, int) {
	deadline := time.Now().Add(d)
	for {
		out, errOut, code := e.top(args...)
		if code == 0 && strings.Contains(out, "CPU") {
			return out, errOut, code
		}
		if time.Now().After(deadline) {
			return out, errOut, code
		}
		time.Sleep(3 * time.Second)
	}
}

// containerLogs is the text every metrics-server process of ns wrote.
func (e *env) containerLogs(ns string) string {
	var b strings.Builder
	for _, sp := range e.sim.running() {
		if sp.pod.Namespace == ns {
			b.Write(mustRead(sp.logFile))
		}
	}
	return b.String()
}

func fileSize(f string) int64 {
	st, err := os.Stat(f)
	if err != nil {
		return 0
	}
	return st.Size()
}

func readFrom(f string, off int64) string {
	b := mustRead(f)
	if int64(len(b)) < off {
		return string(b)
	}
	return string(b[off:])
}

// linesWith gives the lines of text that contain s (at most n).
func linesWith(text, s string, n int) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, strings.TrimSpace(l))
			if len(out) >= n {
				break
			}
		}
	}
	return out
}
