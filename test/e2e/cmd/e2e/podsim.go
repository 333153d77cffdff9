package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// podSim is the kubelet's pod side for the fake nodes: it binds pending pods
// (as kube-scheduler would), mounts their volumes from the API (secret,
// configMap, projected, emptyDir; items, subPath, defaultMode, fsGroup), and
// runs each container's process in its own network namespace with its own pod
// IP, chrooted into a root of its own and as the container's runAsUser, then
// reports the pod status and readiness as the kubelet does.
type podSim struct {
	c        *cluster
	admin    *kubernetes.Clientset
	nodes    []*fakeKubelet
	self     string
	images   map[string]string // image repository -> binary
	workDir  string
	prefix   string
	mu       sync.Mutex
	pods     map[types.UID]*simPod
	nextIP   int
	rr       int
	mountLog []string
}

type mountTarget struct {
	vol    corev1.Volume
	target string // directory (or file, for subPath) inside root
	sub    string
}

type simPod struct {
	pod      *corev1.Pod
	node     *fakeKubelet
	ip       string
	netns    string
	veth     string
	root     string
	logFile  string
	mounts   []mountTarget
	mountErr string
	cmd      *exec.Cmd
	started  time.Time
	ready    bool
	restarts int32
	lastExit string
	stopped  bool
	done     chan struct{}
}

func newPodSim(c *cluster, admin *kubernetes.Clientset, nodes []*fakeKubelet, self, workDir string, images map[string]string) *podSim {
	return &podSim{c: c, admin: admin, nodes: nodes, self: self, images: images, workDir: workDir,
		prefix: "e2e" + strconv.Itoa(os.Getpid()%100000), pods: map[types.UID]*simPod{}}
}

// logFor gives the log file of a running container, for /containerLogs.
func (s *podSim) logFor(ns, pod, _ string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pods {
		if p.pod.Namespace == ns && p.pod.Name == pod {
			return p.logFile
		}
	}
	return ""
}

func (s *podSim) loop(ctx context.Context) {
	for {
		s.sync(ctx)
		select {
		case <-ctx.Done():
			s.stopAll()
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *podSim) nodeByName(n string) *fakeKubelet {
	for _, k := range s.nodes {
		if k.name == n {
			return k
		}
	}
	return nil
}

func (s *podSim) sync(ctx context.Context) {
	list, err := s.admin.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	seen := map[types.UID]bool{}
	for i := range list.Items {
		pod := &list.Items[i]
		seen[pod.UID] = true
		s.mu.Lock()
		sp := s.pods[pod.UID]
		s.mu.Unlock()
		if pod.DeletionTimestamp != nil {
			if sp != nil {
				s.stop(sp)
			}
			if node := s.nodeByName(pod.Spec.NodeName); node != nil || pod.Spec.NodeName == "" {
				zero := int64(0)
				uid := pod.UID
				cl := s.admin
				if node != nil {
					cl = node.client
				}
				_ = cl.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
			}
			continue
		}
		if pod.Spec.NodeName == "" {
			s.bind(ctx, pod)
			continue
		}
		node := s.nodeByName(pod.Spec.NodeName)
		if node == nil {
			continue
		}
		if sp == nil {
			sp = &simPod{pod: pod, node: node, done: make(chan struct{})}
			s.mu.Lock()
			s.pods[pod.UID] = sp
			s.mu.Unlock()
			go s.runPod(ctx, sp)
		} else {
			s.mu.Lock()
			sp.pod = pod
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	var gone []*simPod
	for uid, sp := range s.pods {
		if !seen[uid] {
			gone = append(gone, sp)
			delete(s.pods, uid)
		}
	}
	s.mu.Unlock()
	for _, sp := range gone {
		s.stop(sp)
	}
}

// bind places a pending pod on a node whose labels match its nodeSelector.
func (s *podSim) bind(ctx context.Context, pod *corev1.Pod) {
	for i := 0; i < len(s.nodes); i++ {
		n := s.nodes[(s.rr+i)%len(s.nodes)]
		ok := true
		for k, v := range pod.Spec.NodeSelector {
			if k == "kubernetes.io/os" && v == "linux" || k == "kubernetes.io/hostname" && v == n.name {
				continue
			}
			ok = false
		}
		if !ok {
			continue
		}
		s.rr++
		_ = s.admin.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: n.name},
		}, metav1.CreateOptions{})
		return
	}
}

func (s *podSim) runPod(ctx context.Context, sp *simPod) {
	s.mu.Lock()
	s.nextIP++
	n := s.nextIP
	s.mu.Unlock()
	sp.ip = fmt.Sprintf("10.244.1.%d", n)
	sp.netns = fmt.Sprintf("%s-%d", s.prefix, n)
	sp.veth = fmt.Sprintf("vh%d", n)
	sp.root = filepath.Join(s.workDir, "pods", fmt.Sprintf("%s-%d", sp.pod.Name, n), "root")
	sp.logFile = filepath.Join(s.workDir, "pods", fmt.Sprintf("%s-%d", sp.pod.Name, n), "container.log")
	must(os.MkdirAll(sp.root, 0o755))

	if len(sp.pod.Spec.Containers) != 1 {
		s.failPod(ctx, sp, "Unsupported", "the e2e runner runs pods of exactly one container")
		return
	}
	ctr := sp.pod.Spec.Containers[0]
	bin, argv0 := s.binaryFor(ctr.Image)
	if bin == "" {
		s.failPod(ctx, sp, "ErrImagePull", fmt.Sprintf("the e2e runner has no binary built for image %q", ctr.Image))
		return
	}
	// the volumes, as the kubelet mounts them before the container starts
	for {
		err := s.mountAll(ctx, sp, true)
		if err == nil {
			break
		}
		sp.mountErr = err.Error()
		s.event(ctx, sp, "FailedMount", err.Error())
		s.setStatus(ctx, sp, "ContainerCreating", "")
		select {
		case <-ctx.Done():
			return
		case <-sp.done:
			return
		case <-time.After(5 * time.Second):
		}
	}
	sp.mountErr = ""
	target := filepath.Join(sp.root, argv0)
	must(os.MkdirAll(filepath.Dir(target), 0o755))
	// the image's file: a hard link where it can be (same file system), else a copy
	if err := os.Link(bin, target); err != nil {
		if err := copyFile(bin, target, 0o755); err != nil {
			s.failPod(ctx, sp, "CreateContainerError", err.Error())
			return
		}
	}
	if err := s.netns(sp); err != nil {
		s.failPod(ctx, sp, "CreatePodSandboxError", err.Error())
		return
	}
	go s.probe(ctx, sp, ctr)
	for !sp.stopped {
		if err := s.start(sp, ctr, argv0); err != nil {
			s.failPod(ctx, sp, "CreateContainerError", err.Error())
			return
		}
		s.setStatus(ctx, sp, "", "")
		err := sp.cmd.Wait()
		if sp.stopped {
			break
		}
		sp.ready = false
		sp.restarts++
		sp.lastExit = fmt.Sprint(err)
		s.setStatus(ctx, sp, "CrashLoopBackOff", tail(sp.logFile, 3))
		select {
		case <-ctx.Done():
			return
		case <-sp.done:
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// binaryFor maps a container image to a binary built here, and the path of
// the image's entrypoint.
func (s *podSim) binaryFor(image string) (string, string) {
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	bin := s.images[repo]
	if bin == "" {
		return "", ""
	}
	return bin, "/" + filepath.Base(bin)
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (s *podSim) netns(sp *simPod) error {
	steps := [][]string{
		{"netns", "add", sp.netns},
		{"link", "add", sp.veth, "type", "veth", "peer", "name", "eth0", "netns", sp.netns},
		{"link", "set", sp.veth, "up"},
		{"route", "add", sp.ip + "/32", "dev", sp.veth},
		{"-n", sp.netns, "link", "set", "lo", "up"},
		{"-n", sp.netns, "addr", "add", sp.ip + "/32", "dev", "eth0"},
		{"-n", sp.netns, "link", "set", "eth0", "up"},
		{"-n", sp.netns, "route", "add", "default", "dev", "eth0"},
	}
	for _, st := range steps {
		if out, err := exec.Command("ip", st...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(st, " "), err, out)
		}
	}
	return nil
}

func (s *podSim) start(sp *simPod, ctr corev1.Container, argv0 string) error {
	uid, gid := int64(0), int64(0)
	psc := sp.pod.Spec.SecurityContext
	if psc != nil && psc.RunAsUser != nil {
		uid = *psc.RunAsUser
	}
	if psc != nil && psc.RunAsGroup != nil {
		gid = *psc.RunAsGroup
	}
	if ctr.SecurityContext != nil && ctr.SecurityContext.RunAsUser != nil {
		uid = *ctr.SecurityContext.RunAsUser
	}
	if ctr.SecurityContext != nil && ctr.SecurityContext.RunAsGroup != nil {
		gid = *ctr.SecurityContext.RunAsGroup
	}
	var groups []string
	if psc != nil {
		if psc.FSGroup != nil {
			groups = append(groups, strconv.FormatInt(*psc.FSGroup, 10))
		}
		for _, g := range psc.SupplementalGroups {
			groups = append(groups, strconv.FormatInt(g, 10))
		}
	}
	command := ctr.Command
	if len(command) == 0 {
		command = []string{argv0}
	}
	args := []string{"netns", "exec", sp.netns, s.self, "pod-exec", "--root", sp.root,
		"--uid", strconv.FormatInt(uid, 10), "--gid", strconv.FormatInt(gid, 10), "--groups", strings.Join(groups, ","), "--"}
	args = append(args, command...)
	args = append(args, ctr.Args...)
	cmd := exec.Command("ip", args...)
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOSTNAME=" + sp.pod.Name,
		// the kubernetes Service, as the kubelet sets it (10.96.0.1 is on lo of the control plane's namespace)
		"KUBERNETES_SERVICE_HOST=" + kubernetesSvc,
		"KUBERNETES_SERVICE_PORT=443",
		"KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT=tcp://" + kubernetesSvc + ":443",
	}
	for _, e := range ctr.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				v = sp.pod.Name
			case "metadata.namespace":
				v = sp.pod.Namespace
			case "spec.nodeName":
				v = sp.pod.Spec.NodeName
			case "status.podIP":
				v = sp.ip
			}
		}
		env = append(env, e.Name+"="+v)
	}
	cmd.Env = env
	logf, err := os.OpenFile(sp.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	sp.cmd = cmd
	sp.started = time.Now()
	return nil
}

// probe runs the readiness probe as the kubelet does: an HTTPS GET that does
// not verify the certificate, after initialDelaySeconds, every periodSeconds.
func (s *podSim) probe(ctx context.Context, sp *simPod, ctr corev1.Container) {
	p := ctr.ReadinessProbe
	if p == nil || p.HTTPGet == nil {
		time.Sleep(time.Second)
		sp.ready = true
		s.setStatus(ctx, sp, "", "")
		return
	}
	port := p.HTTPGet.Port.IntValue()
	if p.HTTPGet.Port.Type == intstr.String {
		for _, cp := range ctr.Ports {
			if cp.Name == p.HTTPGet.Port.StrVal {
				port = int(cp.ContainerPort)
			}
		}
	}
	scheme := strings.ToLower(string(p.HTTPGet.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	url := fmt.Sprintf("%s://%s:%d%s", scheme, sp.ip, port, p.HTTPGet.Path)
	cl := &http.Client{Timeout: time.Duration(max(p.TimeoutSeconds, 1)) * time.Second,
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	select {
	case <-time.After(time.Duration(p.InitialDelaySeconds) * time.Second):
	case <-sp.done:
		return
	}
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	fails, oks := 0, 0
	for {
		resp, err := cl.Get(url)
		ok := err == nil && resp.StatusCode >= 200 && resp.StatusCode < 400
		if resp != nil {
			resp.Body.Close()
		}
		if ok {
			oks, fails = oks+1, 0
		} else {
			fails, oks = fails+1, 0
		}
		was := sp.ready
		if ok && oks >= int(max(p.SuccessThreshold, 1)) {
			sp.ready = true
		}
		if !ok && fails >= int(max(p.FailureThreshold, 1)) {
			sp.ready = false
		}
		if was != sp.ready {
			s.setStatus(ctx, sp, "", "")
		}
		select {
		case <-time.After(period):
		case <-sp.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *podSim) setStatus(ctx context.Context, sp *simPod, waiting, msg string) {
	cl := sp.node.client
	_ = waitFor(ctx, 10*time.Second, func() error {
		pod, err := cl.CoreV1().Pods(sp.pod.Namespace).Get(ctx, sp.pod.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		now := metav1.Now()
		ready := corev1.ConditionFalse
		if sp.ready {
			ready = corev1.ConditionTrue
		}
		cond := func(t corev1.PodConditionType, st corev1.ConditionStatus) corev1.PodCondition {
			for _, c := range pod.Status.Conditions {
				if c.Type == t && c.Status == st {
					return c
				}
			}
			return corev1.PodCondition{Type: t, Status: st, LastTransitionTime: now}
		}
		ctr := pod.Spec.Containers[0]
		cs := corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, RestartCount: sp.restarts, Ready: sp.ready}
		phase := corev1.PodRunning
		started := waiting == "" && sp.cmd != nil
		if waiting == "ContainerCreating" || waiting == "ErrImagePull" || waiting == "CreatePodSandboxError" || waiting == "CreateContainerError" || waiting == "Unsupported" {
			phase = corev1.PodPending
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting, Message: msg}
		} else if waiting != "" {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting, Message: msg}
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: sp.lastExit}
		} else if started {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(sp.started)}
			cs.Started = &started
			cs.ContainerID = fmt.Sprintf("e2e://%d", sp.cmd.Process.Pid)
		}
		initialized := corev1.ConditionTrue
		pod.Status.Phase = phase
		pod.Status.HostIP = sp.node.ip
		pod.Status.HostIPs = []corev1.HostIP{{IP: sp.node.ip}}
		if phase == corev1.PodRunning {
			pod.Status.PodIP = sp.ip
			pod.Status.PodIPs = []corev1.PodIP{{IP: sp.ip}}
		}
		if pod.Status.StartTime == nil {
			pod.Status.StartTime = &now
		}
		pod.Status.Conditions = []corev1.PodCondition{
			cond(corev1.PodScheduled, corev1.ConditionTrue), cond(corev1.PodInitialized, initialized),
			cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready),
		}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
		_, err = cl.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
}

func (s *podSim) failPod(ctx context.Context, sp *simPod, reason, msg string) {
	sp.mountErr = reason + ": " + msg
	s.event(ctx, sp, reason, msg)
	s.setStatus(ctx, sp, reason, msg)
}

func (s *podSim) event(ctx context.Context, sp *simPod, reason, msg string) {
	s.mu.Lock()
	s.mountLog = append(s.mountLog, fmt.Sprintf("%s/%s %s: %s", sp.pod.Namespace, sp.pod.Name, reason, msg))
	s.mu.Unlock()
	now := metav1.Now()
	_, _ = sp.node.client.CoreV1().Events(sp.pod.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: sp.pod.Name + ".", Namespace: sp.pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: sp.pod.Namespace, Name: sp.pod.Name, UID: sp.pod.UID, APIVersion: "v1"},
		Reason:         reason, Message: msg, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: sp.node.name},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
}

func (s *podSim) stop(sp *simPod) {
	if sp.stopped {
		return
	}
	sp.stopped = true
	close(sp.done)
	if sp.cmd != nil && sp.cmd.Process != nil {
		_ = syscall.Kill(-sp.cmd.Process.Pid, syscall.SIGTERM)
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(-sp.cmd.Process.Pid, syscall.SIGKILL)
	}
	if sp.netns != "" {
		_ = exec.Command("ip", "netns", "del", sp.netns).Run()
		_ = exec.Command("ip", "link", "del", sp.veth).Run()
	}
}

func (s *podSim) stopAll() {
	s.mu.Lock()
	var all []*simPod
	for _, sp := range s.pods {
		all = append(all, sp)
	}
	s.pods = map[types.UID]*simPod{}
	s.mu.Unlock()
	for _, sp := range all {
		s.stop(sp)
	}
}

// running lists the pods whose container runs, by namespace/name.
func (s *podSim) running() []*simPod {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*simPod
	for _, sp := range s.pods {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pod.Name < out[j].pod.Name })
	return out
}

// refresh rewrites the secret, configMap and projected volumes of every pod
// from the API, as the kubelet's periodic sync does (subPath mounts excepted:
// the kubelet never updates those).
func (s *podSim) refresh(ctx context.Context) []string {
	var errs []string
	for _, sp := range s.running() {
		if sp.mountErr != "" || sp.stopped {
			continue
		}
		if err := s.mountAll(ctx, sp, false); err != nil {
			errs = append(errs, err.Error())
		}
	}
	return errs
}

// ---- volumes ----

type volFile struct {
	data []byte
	mode os.FileMode
}

func (s *podSim) mountAll(ctx context.Context, sp *simPod, initial bool) error {
	pod := sp.pod
	ctr := pod.Spec.Containers[0]
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	contents := map[string]map[string]volFile{}
	for _, m := range ctr.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return fmt.Errorf("volume %q not found", m.Name)
		}
		if v.EmptyDir != nil {
			continue
		}
		if _, done := contents[m.Name]; done {
			continue
		}
		files, err := s.volumeFiles(ctx, sp, v)
		if err != nil {
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : %v", v.Name, err)
		}
		contents[m.Name] = files
	}
	uid, fsGroup := podUser(pod), (*int64)(nil)
	if pod.Spec.SecurityContext != nil {
		fsGroup = pod.Spec.SecurityContext.FSGroup
	}
	for _, m := range ctr.VolumeMounts {
		v := vols[m.Name]
		target := filepath.Join(sp.root, m.MountPath)
		if v.EmptyDir != nil {
			if initial {
				must(os.MkdirAll(target, 0o755))
				must(os.Chmod(target, 0o777))
			}
			continue
		}
		files := contents[m.Name]
		tokenOwner := -1
		if v.Projected != nil && fsGroup == nil && uid > 0 {
			for _, src := range v.Projected.Sources {
				if src.ServiceAccountToken != nil {
					tokenOwner = int(uid)
				}
			}
		}
		if m.SubPath != "" {
			if !initial {
				continue // a subPath mount is a bind mount of the file at start: never updated
			}
			f, ok := files[m.SubPath]
			must(os.MkdirAll(filepath.Dir(target), 0o755))
			if !ok {
				must(os.MkdirAll(target, 0o755)) // the kubelet creates a missing subPath as a directory
				continue
			}
			if err := writeOwned(target, f, fsGroup, tokenOwner); err != nil {
				return err
			}
			continue
		}
		if err := atomicWrite(target, files, fsGroup, tokenOwner); err != nil {
			return err
		}
	}
	return nil
}

func podUser(pod *corev1.Pod) int64 {
	var u int64
	if sc := pod.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		u = *sc.RunAsUser
	}
	if sc := pod.Spec.Containers[0].SecurityContext; sc != nil && sc.RunAsUser != nil {
		u = *sc.RunAsUser
	}
	return u
}

func mode(p *int32, def *int32) os.FileMode {
	if p != nil {
		return os.FileMode(*p)
	}
	if def != nil {
		return os.FileMode(*def)
	}
	return 0o644
}

func (s *podSim) volumeFiles(ctx context.Context, sp *simPod, v corev1.Volume) (map[string]volFile, error) {
	cl := sp.node.client
	ns := sp.pod.Namespace
	out := map[string]volFile{}
	switch {
	case v.Secret != nil:
		optional := v.Secret.Optional != nil && *v.Secret.Optional
		sec, err := cl.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if optional {
				return out, nil
			}
			return nil, fmt.Errorf("secret %q not found", v.Secret.SecretName)
		}
		if err != nil {
			return nil, err
		}
		return projectItems(sec.Data, v.Secret.Items, v.Secret.DefaultMode, optional, "references non-existent secret key: %s")
	case v.ConfigMap != nil:
		optional := v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
		cm, err := cl.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if optional {
				return out, nil
			}
			return nil, fmt.Errorf("configmap %q not found", v.ConfigMap.Name)
		}
		if err != nil {
			return nil, err
		}
		return projectItems(cmData(cm), v.ConfigMap.Items, v.ConfigMap.DefaultMode, optional, "configmap references non-existent config key: %s")
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			var files map[string]volFile
			var err error
			switch {
			case src.ServiceAccountToken != nil:
				exp := int64(3607)
				if src.ServiceAccountToken.ExpirationSeconds != nil {
					exp = *src.ServiceAccountToken.ExpirationSeconds
				}
				var aud []string
				if src.ServiceAccountToken.Audience != "" {
					aud = []string{src.ServiceAccountToken.Audience}
				}
				sa := sp.pod.Spec.ServiceAccountName
				if sa == "" {
					sa = "default"
				}
				tr, terr := cl.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
					Audiences: aud, ExpirationSeconds: &exp,
					BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: sp.pod.Name, UID: sp.pod.UID},
				}}, metav1.CreateOptions{})
				if terr != nil {
					return nil, fmt.Errorf("failed to fetch token: %v", terr)
				}
				files = map[string]volFile{src.ServiceAccountToken.Path: {[]byte(tr.Status.Token), mode(nil, v.Projected.DefaultMode)}}
			case src.ConfigMap != nil:
				optional := src.ConfigMap.Optional != nil && *src.ConfigMap.Optional
				cm, gerr := cl.CoreV1().ConfigMaps(ns).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(gerr) && optional {
					continue
				}
				if gerr != nil {
					return nil, fmt.Errorf("configmap %q not found", src.ConfigMap.Name)
				}
				files, err = projectItems(cmData(cm), src.ConfigMap.Items, v.Projected.DefaultMode, optional, "configmap references non-existent config key: %s")
			case src.Secret != nil:
				optional := src.Secret.Optional != nil && *src.Secret.Optional
				sec, gerr := cl.CoreV1().Secrets(ns).Get(ctx, src.Secret.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(gerr) && optional {
					continue
				}
				if gerr != nil {
					return nil, fmt.Errorf("secret %q not found", src.Secret.Name)
				}
				files, err = projectItems(sec.Data, src.Secret.Items, v.Projected.DefaultMode, optional, "references non-existent secret key: %s")
			case src.DownwardAPI != nil:
				files = map[string]volFile{}
				for _, it := range src.DownwardAPI.Items {
					val := ""
					if it.FieldRef != nil {
						switch it.FieldRef.FieldPath {
						case "metadata.namespace":
							val = ns
						case "metadata.name":
							val = sp.pod.Name
						}
					}
					files[it.Path] = volFile{[]byte(val), mode(it.Mode, v.Projected.DefaultMode)}
				}
			default:
				return nil, fmt.Errorf("the e2e runner does not mount this projected source")
			}
			if err != nil {
				return nil, err
			}
			for k, f := range files {
				out[k] = f
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("the e2e runner does not mount volumes of this type")
}

func cmData(cm *corev1.ConfigMap) map[string][]byte {
	d := map[string][]byte{}
	for k, v := range cm.Data {
		d[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		d[k] = v
	}
	return d
}

func projectItems(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, optional bool, missing string) (map[string]volFile, error) {
	out := map[string]volFile{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = volFile{v, mode(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf(missing, it.Key)
		}
		out[it.Path] = volFile{v, mode(it.Mode, defMode)}
	}
	return out, nil
}

// fileMode applies what the kubelet's SetVolumeOwnership does for fsGroup on
// a read-only volume: group fsGroup, mode |= 0440.
func writeOwned(path string, f volFile, fsGroup *int64, owner int) error {
	m := f.mode
	if fsGroup != nil {
		m |= 0o440
	}
	if owner >= 0 {
		m = 0o600
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
		return err
	}
	uid, gid := 0, 0
	if fsGroup != nil {
		gid = int(*fsGroup)
	}
	if owner >= 0 {
		uid = owner
	}
	if err := os.Chown(tmp, uid, gid); err != nil {
		return err
	}
	if err := os.Chmod(tmp, m); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// atomicWrite writes a volume as the kubelet's AtomicWriter does: the files
// in a timestamped directory, "..data" a symlink to it swapped by rename, and
// each top-level name a symlink into "..data".
func atomicWrite(dir string, files map[string]volFile, fsGroup *int64, owner int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fsGroup != nil {
		_ = os.Chown(dir, 0, int(*fsGroup))
	}
	ts := filepath.Join(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05.000000000"))
	if err := os.MkdirAll(ts, 0o755); err != nil {
		return err
	}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := writeOwned(full, f, fsGroup, owner); err != nil {
			return err
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(ts), tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	top := map[string]bool{}
	for p := range files {
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	for t := range top {
		link := filepath.Join(dir, t)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", t), link); err != nil {
			return err
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "..") || n == "..data" || n == filepath.Base(ts) {
			if !strings.HasPrefix(n, "..") && !top[n] {
				_ = os.Remove(filepath.Join(dir, n))
			}
			continue
		}
		if n == old || strings.HasPrefix(n, "..20") {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return nil
}
