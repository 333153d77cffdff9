module secure-metrics-server/test/servicemonitor

go 1.26

require github.com/prometheus/common v0.65.0 // indirect
