package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memoryPeak is the most memory the run held at once (results.json
// "peakMemory"): every second, the resident set sizes of this process and
// all its descendants (control planes, metrics-server pods, controllers,
// synths, kubectl, doctor) are added up. Pages shared between processes (one
// binary run by several pods) count once per process, so the sum is an
// upper bound of what the run used.
type memoryPeak struct {
	RSSSumBytes int64  `json:"rssSumBytes"`
	Processes   int    `json:"processes"`
	At          string `json:"at"`
	Samples     int    `json:"samples"`
	mu          sync.Mutex
}

// sample runs until ctx ends.
func (m *memoryPeak) sample(ctx context.Context) {
	pageSize := int64(os.Getpagesize())
	self := os.Getpid()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		sum, n := descendantsRSS(self, pageSize)
		m.mu.Lock()
		m.Samples++
		if sum > m.RSSSumBytes {
			m.RSSSumBytes, m.Processes, m.At = sum, n, time.Now().UTC().Format(time.RFC3339)
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// snapshot is a copy to write out.
func (m *memoryPeak) snapshot() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]any{"rssSumBytes": m.RSSSumBytes, "rssSumMiB": m.RSSSumBytes >> 20, "processes": m.Processes, "at": m.At, "samples": m.Samples,
		"how": "the sum of VmRSS over the harness and all its descendants, sampled every second (shared pages count once per process: an upper bound)"}
}

// descendantsRSS adds up the resident memory of root and its descendants
// (/proc/PID/stat: ppid is field 4, rss in pages field 24).
func descendantsRSS(root int, pageSize int64) (int64, int) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	parent := map[int]int{}
	rss := map[int]int64{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// comm (field 2) is in parentheses and may hold spaces: read after the last ')'
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pages, _ := strconv.ParseInt(f[21], 10, 64)
		parent[pid], rss[pid] = ppid, pages*pageSize
	}
	var sum int64
	n := 0
	for pid := range rss {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				sum += rss[pid]
				n++
				break
			}
		}
	}
	return sum, n
}
