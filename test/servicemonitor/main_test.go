package servicemonitor

import (
	_ "github.com/prometheus/common/config"
)
