'use strict';
// cdk8s validation plugin entry (cdk8s.yaml: `package: ./node_modules/secure-metrics-server/plugin`,
// `class: SecureMetricsServerValidation`). The plugin is bundled into one file at build time.
module.exports = require('../build/validation-plugin/index.js');
