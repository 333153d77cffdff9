// Command e2e deploys what secure-metrics-server synthesizes into real
// Kubernetes control planes (kube-apiserver, kube-controller-manager, embedded
// etcd, all built from k8s.io/kubernetes) and the real metrics-server, and
// records what they make of it in test/e2e/results.json.
//
// Every control plane runs in a private network namespace (unshare --net):
// nothing leaves the machine, and nothing outside sees it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type tlsCert = tlsCertificate

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pod-exec" {
		podExec(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker(os.Args[2:]))
	}
	os.Exit(parent(os.Args[1:]))
}

type opts struct {
	repo, bin, work, results, only string
	parallel                       int
}

func parseOpts(args []string, extra func(*flag.FlagSet)) opts {
	var o opts
	fs := flag.NewFlagSet("e2e", flag.ExitOnError)
	here, _ := os.Getwd()
	fs.StringVar(&o.repo, "repo", filepath.Join(here, "..", ".."), "the repository (main.ts, examples/, lib/)")
	fs.StringVar(&o.bin, "bin", filepath.Join(here, "bin"), "the built binaries")
	fs.StringVar(&o.work, "work", filepath.Join(here, "work"), "scratch directory")
	fs.StringVar(&o.results, "results", filepath.Join(here, "results.json"), "results file")
	fs.StringVar(&o.only, "only", os.Getenv("E2E_ONLY"), "comma-separated scenario names (default: all)")
	p, _ := strconv.Atoi(os.Getenv("E2E_PARALLEL"))
	if p <= 0 {
		// measured on 2 cores: 5 control planes hold at most 3.5 GB (results.json peakMemory)
		p = 5
	}
	fs.IntVar(&o.parallel, "parallel", p, "control planes run at once")
	if extra != nil {
		extra(fs)
	}
	_ = fs.Parse(args)
	for _, p := range []*string{&o.repo, &o.bin, &o.work, &o.results} {
		a, _ := filepath.Abs(*p)
		*p = a
	}
	return o
}

func selected(o opts) []*scenario {
	all := scenarios()
	if o.only == "" {
		return all
	}
	want := map[string]bool{}
	for _, n := range strings.Split(o.only, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []*scenario
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// shards splits the scenarios into at most parallel groups, each of one
// cluster kind (one control plane each). A kind gets control planes in
// proportion to its scenarios' cost (at least one), and its scenarios go,
// longest first, to the group with the least cost so far (LPT); inside a
// group they keep the order of scenarios().
func shards(list []*scenario, parallel int) [][]*scenario {
	byCluster := map[string][]*scenario{}
	cost := map[string]float64{}
	var kinds []string
	total := 0.0
	for _, s := range list {
		if _, ok := byCluster[s.Cluster]; !ok {
			kinds = append(kinds, s.Cluster)
		}
		byCluster[s.Cluster] = append(byCluster[s.Cluster], s)
		cost[s.Cluster] += s.cost()
		total += s.cost()
	}
	planes := map[string]int{}
	left := parallel - len(kinds)
	for _, k := range kinds {
		planes[k] = 1
	}
	// hand out the rest one at a time to the kind with the most cost per plane
	for ; left > 0; left-- {
		best := ""
		for _, k := range kinds {
			if planes[k] >= len(byCluster[k]) {
				continue
			}
			if best == "" || cost[k]/float64(planes[k]) > cost[best]/float64(planes[best]) {
				best = k
			}
		}
		if best == "" {
			break
		}
		planes[best]++
	}
	index := map[*scenario]int{}
	for i, s := range list {
		index[s] = i
	}
	var out [][]*scenario
	for _, k := range kinds {
		ss := append([]*scenario(nil), byCluster[k]...)
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].cost() > ss[j].cost() })
		groups := make([][]*scenario, planes[k])
		load := make([]float64, planes[k])
		for _, s := range ss {
			min := 0
			for i := range load {
				if load[i] < load[min] {
					min = i
				}
			}
			groups[min] = append(groups[min], s)
			load[min] += s.cost()
		}
		for _, g := range groups {
			if len(g) == 0 {
				continue
			}
			sort.SliceStable(g, func(i, j int) bool { return index[g[i]] < index[g[j]] })
			out = append(out, g)
		}
	}
	return out
}

func parent(args []string) int {
	o := parseOpts(args, nil)
	self, err := os.Executable()
	must(err)
	must(os.MkdirAll(o.work, 0o755))
	// only what an earlier run left here: one directory per control plane
	if old, err := filepath.Glob(filepath.Join(o.work, "cp[0-9]*-*")); err == nil {
		for _, d := range old {
			_ = os.RemoveAll(d)
		}
	}
	list := selected(o)
	groups := shards(list, o.parallel)
	logf("%d scenario(s) in %d control plane(s), at most %d at once", len(list), len(groups), o.parallel)
	results := make([][]result, len(groups))
	begun := time.Now()
	mem := &memoryPeak{}
	memCtx, memStop := context.WithCancel(context.Background())
	memDone := make(chan struct{})
	go func() { mem.sample(memCtx); close(memDone) }()
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.parallel)
	for i, g := range groups {
		wg.Add(1)
		go func(i int, g []*scenario) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var names []string
			for _, s := range g {
				names = append(names, s.Name)
			}
			wdir := filepath.Join(o.work, fmt.Sprintf("cp%d-%s", i, g[0].Cluster))
			out := filepath.Join(wdir, "results.json")
			must(os.MkdirAll(wdir, 0o755))
			cmd := exec.Command("unshare", "--net", "--", self, "worker", "--repo", o.repo, "--bin", o.bin, "--work", wdir,
				"--results", out, "--only", strings.Join(names, ","), "--cluster", g[0].Cluster)
			cmd.Env = append(cleanEnv(), "E2E_IN_NETNS=1")
			logFile, _ := os.Create(filepath.Join(wdir, "worker.log"))
			cmd.Stdout, cmd.Stderr = logFile, logFile
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
			err := cmd.Run()
			logFile.Close()
			var rs []result
			if b, rerr := os.ReadFile(out); rerr == nil {
				_ = json.Unmarshal(b, &rs)
			}
			done := map[string]bool{}
			for _, r := range rs {
				done[r.Name] = true
			}
			for _, s := range g {
				if !done[s.Name] {
					rs = append(rs, result{Name: s.Name, Cluster: s.Cluster, Expect: s.Expect, Outcome: "fail",
						Reason: fmt.Sprintf("the worker ended without a result (%v); see %s: %s", err, filepath.Join(wdir, "worker.log"), tail(filepath.Join(wdir, "worker.log"), 5))})
				}
			}
			results[i] = rs
		}(i, g)
	}
	wg.Wait()
	memStop()
	<-memDone
	byName := map[string]result{}
	for _, rs := range results {
		for _, r := range rs {
			byName[r.Name] = r
		}
	}
	var all []result
	passed, failed, skipped := 0, 0, 0
	for _, s := range list {
		r := byName[s.Name]
		all = append(all, r)
		switch r.Outcome {
		case "pass":
			passed++
		case "skipped":
			skipped++
		default:
			failed++
		}
		line := fmt.Sprintf("%-8s %-40s", strings.ToUpper(r.Outcome), r.Name)
		if r.Reason != "" {
			line += " " + truncate(r.Reason, 300)
		}
		fmt.Println(line)
	}
	peak := mem.snapshot()
	sum := map[string]any{"scenarios": all, "passed": passed, "failed": failed, "skipped": skipped, "finishedAt": time.Now().UTC().Format(time.RFC3339),
		"controlPlanes": len(groups), "parallel": o.parallel, "seconds": time.Since(begun).Seconds(), "peakMemory": peak}
	logf("%d control plane(s), %.0f s; peak memory %d MiB in %d processes (sum of RSS)", len(groups), time.Since(begun).Seconds(), peak["rssSumMiB"], peak["processes"])
	b, _ := json.MarshalIndent(sum, "", "  ")
	must(os.WriteFile(o.results, append(b, '\n'), 0o644))
	tailText := ""
	if skipped > 0 {
		tailText = fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Printf("%d passed, %d failed%s\n", passed, failed, tailText)
	if failed > 0 {
		return 1
	}
	return 0
}

func worker(args []string) int {
	var clusterKind string
	o := parseOpts(args, func(fs *flag.FlagSet) { fs.StringVar(&clusterKind, "cluster", "rsa", "cluster CA algorithm") })
	if os.Getenv("E2E_IN_NETNS") != "1" {
		fmt.Fprintln(os.Stderr, "worker must run inside a private network namespace (unshare --net)")
		return 2
	}
	for _, st := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", hostIP + "/32", "dev", "lo"},
		{"addr", "add", kubernetesSvc + "/32", "dev", "lo"},
		{"addr", "add", "10.244.0.11/32", "dev", "lo"},
		{"addr", "add", "10.244.0.12/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", st...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "ip %v: %v %s\n", st, err, out)
			return 2
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	var results []result
	write := func() {
		b, _ := json.MarshalIndent(results, "", "  ")
		_ = os.WriteFile(o.results, b, 0o644)
	}
	list := selected(o)
	c, err := startCluster(ctx, filepath.Join(o.work, "cluster"), o.bin, clusterKind)
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		logf("control plane: %v", err)
		for _, s := range list {
			results = append(results, result{Name: s.Name, Cluster: s.Cluster, Expect: s.Expect, Outcome: "fail", Reason: "control plane did not start: " + err.Error()})
		}
		write()
		return 1
	}
	logf("control plane up: kube-apiserver %s", c.gitVersion)
	admin, err := clientFor(c.admin)
	must(err)
	e := &env{ctx: ctx, c: c, admin: admin, repo: o.repo, work: o.work, bin: o.bin}
	self, _ := os.Executable()
	e.sim = newPodSim(c, admin, nil, self, o.work, map[string]string{
		"registry.k8s.io/metrics-server/metrics-server": filepath.Join(o.bin, "metrics-server"),
		sealedControllerImage:                           filepath.Join(o.bin, "sealed-secrets-controller"),
	})
	if err := startKubelets(ctx, e); err != nil {
		logf("kubelets: %v", err)
		for _, s := range list {
			results = append(results, result{Name: s.Name, Cluster: s.Cluster, Expect: s.Expect, Outcome: "fail", GitVersion: c.gitVersion, Reason: "fake kubelets: " + err.Error()})
		}
		write()
		return 1
	}
	go e.sim.loop(ctx)
	for _, s := range list {
		logf("scenario %s", s.Name)
		r := runScenario(e, s)
		logf("scenario %s: %s %s", s.Name, r.Outcome, r.Reason)
		results = append(results, r)
		write()
		if ctx.Err() != nil {
			break
		}
	}
	e.sim.stopAll()
	return 0
}

// startKubelets registers two nodes and gets their serving certificates
// through kubernetes.io/kubelet-serving CSRs, approved here as an admin does
// after checking the SANs, signed by kube-controller-manager.
func startKubelets(ctx context.Context, e *env) error {
	for i, ip := range []string{"10.244.0.11", "10.244.0.12"} {
		k, err := newFakeKubelet(e.c, fmt.Sprintf("node-%d", i+1), ip, 10250, e.sim.logFor)
		if err != nil {
			return err
		}
		if err := k.register(ctx); err != nil {
			return err
		}
		key, name, err := k.requestServingCert(ctx, []string{k.name}, []netIP{parseIP(ip)})
		if err != nil {
			return err
		}
		if err := approve(ctx, e, name, k); err != nil {
			return err
		}
		if err := k.waitServingCert(ctx, key, name); err != nil {
			return err
		}
		if err := k.serve(); err != nil {
			return err
		}
		e.kubelets = append(e.kubelets, k)
	}
	e.sim.nodes = e.kubelets
	return nil
}

func approve(ctx context.Context, e *env, name string, k *fakeKubelet) error {
	csrs := e.admin.CertificatesV1().CertificateSigningRequests()
	csr, err := csrs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if csr.Spec.Username != "system:node:"+k.name {
		return fmt.Errorf("CSR %s was requested by %q, not the node", name, csr.Spec.Username)
	}
	csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "E2EAdminApproval",
		Message: "approved by the e2e harness after checking the SANs", LastUpdateTime: metav1.Now(),
	})
	_, err = csrs.UpdateApproval(ctx, name, csr, metav1.UpdateOptions{})
	return err
}

// podExec is the container runtime's last step: chroot into the pod's root,
// drop to the container's user and groups, set no_new_privs, exec.
func podExec(args []string) {
	fs := flag.NewFlagSet("pod-exec", flag.ExitOnError)
	root := fs.String("root", "", "")
	uid := fs.Int("uid", 0, "")
	gid := fs.Int("gid", 0, "")
	groups := fs.String("groups", "", "")
	_ = fs.Parse(args)
	argv := fs.Args()
	if *root == "" || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "pod-exec: --root and a command are required")
		os.Exit(127)
	}
	var gs []int
	for _, g := range strings.Split(*groups, ",") {
		if n, err := strconv.Atoi(g); err == nil {
			gs = append(gs, n)
		}
	}
	sort.Ints(gs)
	step := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "pod-exec: %s: %v\n", what, err)
			os.Exit(127)
		}
	}
	step("chroot", syscall.Chroot(*root))
	step("chdir", os.Chdir("/"))
	step("setgroups", syscall.Setgroups(gs))
	step("setgid", syscall.Setgid(*gid))
	step("setuid", syscall.Setuid(*uid))
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0); errno != 0 {
		step("no_new_privs", errno)
	}
	// setuid cleared the parent-death signal: the container dies with the runner
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		step("pdeathsig", errno)
	}
	step("exec "+argv[0], syscall.Exec(argv[0], argv, os.Environ()))
}
