package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// rotation runs every phase of `secure-metrics-server ca rotate` (stage,
// switch, finish) against the running metrics-server while polling the
// metrics API, modelling the kubelet's delay in refreshing a mounted Secret:
//   - bundle-first: apply everything, refresh the pod's mounted files
//     kubeletDelay later;
//   - secret-first: apply the Secret and refresh the files, apply the rest
//     (the APIService's caBundle) once metrics-server serves the new
//     certificate and rotationDwell has passed.
//
// After a refresh the next step waits until metrics-server serves the
// Secret's certificate (waitServed), then rotationDwell more. Zero failed
// polls are required.
func rotation(order string) func(e *env, s *scenario, r *result, dir string) {
	return func(e *env, s *scenario, r *result, dir string) {
		store := filepath.Join(dir, "pki")
		synth := func(phase string) (string, error) {
			out := filepath.Join(dir, "dist-"+phase)
			return out, synthMain(e, map[string]string{"PKI_DIR": store}, out)
		}
		first, err := synth("before")
		if err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			return
		}
		if _, err := e.apply(first); err != nil {
			r.Outcome, r.Reason = "fail", err.Error()
			return
		}
		defer e.remove(r, first)
		judgeHealthy(e, s, r)
		if r.Outcome != "pass" {
			r.Reason = "before the rotation: " + r.Reason
			return
		}
		r.Outcome = ""

		// poll the metrics API as kubectl top does, every 500 ms
		pr := &pollResult{}
		ctx, cancel := context.WithCancel(e.ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				raw, err := e.admin.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes").DoRaw(ctx)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				pr.Total++
				if err != nil || !strings.Contains(string(raw), "node-1") {
					pr.Failed++
					if len(pr.Errors) < 5 {
						pr.Errors = append(pr.Errors, time.Now().Format("15:04:05.000")+" "+truncate(fmt.Sprint(err, " ", string(raw)), 300))
					}
				}
				mu.Unlock()
				time.Sleep(500 * time.Millisecond)
			}
		}()
		fail := func(msg string) {
			cancel()
			wg.Wait()
			r.Polls = pr
			r.Outcome, r.Reason = "fail", msg
		}
		var opensslFailures []string
		for _, phase := range []string{"stage", "switch", "finish"} {
			o, er, code := run(e.ctx, 2*time.Minute, e.repo, cleanEnv(), "node", "-r", "tsx/cjs", "lib/cli/main.ts", "ca", "rotate", "--store", store, "--force")
			r.Notes = append(r.Notes, fmt.Sprintf("ca rotate (%s): exit %d: %s", phase, code, firstLine(o+er)))
			if code != 0 {
				fail(fmt.Sprintf("ca rotate %s: exit %d: %s%s", phase, code, o, er))
				return
			}
			dist, err := synth(phase)
			if err != nil {
				fail(err.Error())
				return
			}
			objs, _ := readManifests(dist)
			var secrets, rest []obj
			for _, ob := range objs {
				if kindOf(ob) == "Secret" {
					secrets = append(secrets, ob)
				} else {
					rest = append(rest, ob)
				}
			}
			secDir, restDir := filepath.Join(dir, "apply-"+phase+"-secret"), filepath.Join(dir, "apply-"+phase+"-rest")
			must(writeManifests(secDir, secrets))
			must(writeManifests(restDir, rest))
			steps := []func() error{}
			applyDir := func(d string) func() error { return func() error { _, err := e.apply(d); return err } }
			refresh := func() error {
				if errs := e.sim.refresh(e.ctx); len(errs) > 0 {
					return fmt.Errorf("refresh: %v", errs)
				}
				return nil
			}
			wait := func(d time.Duration) func() error { return func() error { time.Sleep(d); return nil } }
			// before the files change, does metrics-server already serve the new Secret's certificate?
			servedBefore := ""
			before := func() error {
				pods, ok, _ := servesOneOf(e, s.NS, servingLeaves(secrets))
				servedBefore = fmt.Sprintf("%d of %d pod(s) served it before", ok, pods)
				return nil
			}
			served := func() error {
				d, err := waitServed(e, s.NS, servingLeaves(secrets), 90*time.Second)
				r.Notes = append(r.Notes, fmt.Sprintf("%s: %s the files changed; all served it %.3f s after", phase, servedBefore, d.Seconds()))
				return err
			}
			// the kubelet refreshes a mounted Secret late (kubeletDelay here);
			// after each change the polls run on for rotationDwell
			if order == "bundle-first" {
				steps = append(steps, applyDir(dist), wait(kubeletDelay), before, refresh, served, wait(rotationDwell))
			} else {
				steps = append(steps, applyDir(secDir), before, refresh, served, wait(rotationDwell), applyDir(restDir), wait(rotationDwell))
			}
			done := r.begin("ca rotate " + phase + ": apply, " + order)
			for _, st := range steps {
				if err := st(); err != nil {
					fail(phase + ": " + err.Error())
					return
				}
			}
			done()
			_ = os.WriteFile(filepath.Join(dir, "phase-"+phase+".done"), nil, 0o644)
			r.Notes = append(r.Notes, fmt.Sprintf("after %s: caBundle %s; served: %s", phase, bundleSubjects(objs), servedCerts(e, s.NS)))
			// the standard: every certificate verifies in Go (kube-apiserver, polled above) and OpenSSL
			if msg := opensslVerifyServed(e, s.NS, objs, filepath.Join(dir, "verify-"+phase)); msg != "" {
				opensslFailures = append(opensslFailures, "after "+phase+": "+msg)
			}
		}
		cancel()
		wg.Wait()
		r.Polls = pr
		r.APIService = e.apiService()
		out, errOut, code := e.waitTop(time.Minute, "nodes")
		r.TopNodes = strings.TrimSpace(out)
		if code != 0 {
			r.Outcome, r.Reason = "fail", "after the rotation: kubectl top nodes: "+strings.TrimSpace(errOut)
			return
		}
		out, _, _ = e.waitTop(time.Minute, "pods", "-n", s.NS)
		r.TopPods = strings.TrimSpace(out)
		r.Doctor = runDoctor(e, s, r, true)
		switch {
		case pr.Failed > 0:
			r.Outcome, r.Reason = "fail", fmt.Sprintf("%d of %d polls of the metrics API failed during the rotation", pr.Failed, pr.Total)
		case pr.Total == 0:
			r.Outcome, r.Reason = "fail", "no poll ran"
		case len(opensslFailures) > 0:
			r.Errors = append(r.Errors, opensslFailures...)
			r.Outcome, r.Reason = "fail", fmt.Sprintf("0 of %d polls failed (kube-apiserver, Go), but openssl verify of the served certificate against the applied caBundle failed: %s", pr.Total, strings.Join(opensslFailures, "; "))
		case r.Doctor.Verdict != "ok":
			r.Outcome, r.Reason = "fail", "doctor: "+r.Doctor.Verdict
		default:
			r.Outcome = "pass"
		}
	}
}

// kubeletDelay is how long after the apply the pod's files change (bundle-first
// order), and rotationDwell how long the polls (every 500 ms) run on in each
// state before the next step: the order of arrival is what the scenario
// tests, and every state is polled at least 10 times.
const (
	kubeletDelay  = 8 * time.Second
	rotationDwell = 5 * time.Second
)

// servingLeaves are the certificates (first block of tls.crt) of the TLS Secrets in objs.
func servingLeaves(secrets []obj) [][]byte {
	var out [][]byte
	for _, sec := range secrets {
		if t, _ := sec["type"].(string); t != "kubernetes.io/tls" {
			continue
		}
		var crt []byte
		if v, ok := path(sec, "data", "tls.crt").(string); ok {
			crt, _ = base64.StdEncoding.DecodeString(v)
		} else if v, ok := path(sec, "stringData", "tls.crt").(string); ok {
			crt = []byte(v)
		}
		if blk, _ := pem.Decode(crt); blk != nil {
			out = append(out, blk.Bytes)
		}
	}
	return out
}

// servesOneOf says how many running metrics-server pods of ns there are and
// how many serve one of leaves (the last dial error, if any).
func servesOneOf(e *env, ns string, leaves [][]byte) (pods, ok int, last string) {
	for _, l := range servedLeaves(e, ns) {
		pods++
		if l.err != nil {
			last = l.pod + ": " + l.err.Error()
			continue
		}
		for _, want := range leaves {
			if bytes.Equal(l.cert.Raw, want) {
				ok++
				break
			}
		}
	}
	return pods, ok, last
}

// waitServed waits until every running metrics-server pod of ns serves one
// of leaves (metrics-server reloads its files on change) and says how long
// that took; an error past the bound.
func waitServed(e *env, ns string, leaves [][]byte, bound time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		pods, ok, last := servesOneOf(e, ns, leaves)
		if pods > 0 && ok == pods {
			return time.Since(start), nil
		}
		if time.Since(start) > bound {
			return time.Since(start), fmt.Errorf("after %s, %d of %d metrics-server pod(s) serve the Secret's certificate (%s)", bound, ok, pods, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// bundleSubjects names the CAs of the APIService's caBundle (subject and key id).
func bundleSubjects(objs []obj) string {
	var out []string
	for _, a := range find(objs, "APIService") {
		b, _ := base64.StdEncoding.DecodeString(fmt.Sprint(path(a, "spec", "caBundle")))
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				out = append(out, c.Subject.CommonName+" keyid "+short(hex.EncodeToString(c.SubjectKeyId)))
			}
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// servedLeaf is the certificate one running pod of ns serves on :10250, as
// kube-apiserver would receive it (or why the dial failed).
type servedLeaf struct {
	pod  string
	cert *x509.Certificate
	err  error
}

// servedLeaves dials every running pod of ns (unverified: the callers judge).
func servedLeaves(e *env, ns string) []servedLeaf {
	var out []servedLeaf
	for _, sp := range e.sim.running() {
		if sp.pod.Namespace != ns || sp.ip == "" || sp.stopped {
			continue
		}
		conn, err := tls.Dial("tcp", sp.ip+":10250", &tls.Config{InsecureSkipVerify: true, ServerName: "metrics-server." + ns + ".svc"})
		if err != nil {
			out = append(out, servedLeaf{pod: sp.pod.Name, err: err})
			continue
		}
		out = append(out, servedLeaf{pod: sp.pod.Name, cert: conn.ConnectionState().PeerCertificates[0]})
		conn.Close()
	}
	return out
}

// servedCerts names the issuer (authority key id) of what every running pod of ns serves.
func servedCerts(e *env, ns string) string {
	var out []string
	for _, l := range servedLeaves(e, ns) {
		if l.err != nil {
			out = append(out, l.pod+": "+l.err.Error())
			continue
		}
		out = append(out, fmt.Sprintf("%s: issuer %s keyid %s", l.pod, l.cert.Issuer.CommonName, short(hex.EncodeToString(l.cert.AuthorityKeyId))))
	}
	return strings.Join(out, "; ")
}

func short(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// opensslVerifyServed runs `openssl verify -CAfile <caBundle> <served leaf>`
// for every running pod; it gives the failures ("" when all verify).
func opensslVerifyServed(e *env, ns string, objs []obj, dir string) string {
	must(os.MkdirAll(dir, 0o755))
	var bundle []byte
	for _, a := range find(objs, "APIService") {
		bundle, _ = base64.StdEncoding.DecodeString(fmt.Sprint(path(a, "spec", "caBundle")))
	}
	caFile := filepath.Join(dir, "caBundle.pem")
	must(os.WriteFile(caFile, bundle, 0o644))
	var fails []string
	for _, l := range servedLeaves(e, ns) {
		if l.err != nil {
			continue
		}
		leaf := l.cert
		leafFile := filepath.Join(dir, l.pod+".crt")
		must(os.WriteFile(leafFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644))
		out, errOut, code := run(e.ctx, 30*time.Second, dir, cleanEnv(), "openssl", "verify", "-CAfile", caFile, leafFile)
		if code != 0 {
			fails = append(fails, fmt.Sprintf("%s: %s (caBundle %s, leaf issuer %s, leaf AKI %s)", l.pod, strings.Join(strings.Fields(firstLine(out+errOut)), " ")+" "+strings.TrimSpace(linesWithAny(out+errOut, "error ")), bundleSubjects(objs), leaf.Issuer.CommonName, short(hex.EncodeToString(leaf.AuthorityKeyId))))
		}
	}
	return strings.Join(fails, "; ")
}

func linesWithAny(text, s string) string { return strings.Join(linesWith(text, s, 2), " / ") }
