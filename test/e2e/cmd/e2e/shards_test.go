package main

import (
	"testing"
)

// The scenarios spread over the control planes: each once, one cluster kind
// per control plane, the order of scenarios() kept, and no control plane
// with much more than its share (LPT: at most the mean plus one scenario).
func TestShards(t *testing.T) {
	all := scenarios()
	index := map[string]int{}
	total, longest := 0.0, 0.0
	for i, s := range all {
		index[s.Name] = i
		total += s.cost()
		longest = max(longest, s.cost())
	}
	for _, p := range []int{1, 2, 3, 5, 6, 8} {
		groups := shards(all, p)
		if want := max(p, 2); len(groups) > want {
			t.Errorf("parallel %d: %d groups, want at most %d", p, len(groups), want)
		}
		seen := map[string]int{}
		for gi, g := range groups {
			load := 0.0
			for i, s := range g {
				seen[s.Name]++
				load += s.cost()
				if s.Cluster != g[0].Cluster {
					t.Errorf("parallel %d: group %d mixes %s and %s", p, gi, g[0].Cluster, s.Cluster)
				}
				if i > 0 && index[g[i-1].Name] > index[s.Name] {
					t.Errorf("parallel %d: group %d runs %s before %s", p, gi, g[i-1].Name, s.Name)
				}
			}
			if p >= 3 && load > total/float64(len(groups))+longest {
				t.Errorf("parallel %d: group %d costs %.0f s, more than the mean %.0f s plus the longest scenario %.0f s", p, gi, load, total/float64(len(groups)), longest)
			}
		}
		for _, s := range all {
			if seen[s.Name] != 1 {
				t.Errorf("parallel %d: %s runs %d times", p, s.Name, seen[s.Name])
			}
		}
	}
}
